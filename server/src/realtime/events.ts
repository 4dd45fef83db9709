// Typed socket.io events: the one list of what browser and server say to each other.
export interface ServerToClientEvents {
  'session:ready': (info: { learnerId: string }) => void;
}

export interface ClientToServerEvents {
  'session:whoami': (ack: (info: { learnerId: string }) => void) => void;
}

export type InterServerEvents = Record<string, never>;

export interface SocketData {
  learnerId: string;
}

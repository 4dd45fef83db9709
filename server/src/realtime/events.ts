// The server's side of the socket.io typing: what it keeps on each socket. The events themselves, which
// the browser shares, are in @dockside/protocol.

// For server/bench, which still imports it from here.
export type { SandboxView } from '@dockside/protocol';

export type InterServerEvents = Record<string, never>;

export interface SocketData {
  learnerId: string;
}

export interface InstructorSocketData {
  instructorId: string;
}

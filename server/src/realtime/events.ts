// The server's side of the socket.io typing: what it keeps on each socket. The events themselves, which
// the browser shares, are in @dockside/protocol.
import type { Server, Socket } from 'socket.io';
import type { ClientToServerEvents, ServerToClientEvents } from '@dockside/protocol';

// For server/bench, which still imports it from here.
export type { SandboxView } from '@dockside/protocol';

export type InterServerEvents = Record<string, never>;

export interface SocketData {
  learnerId: string;
}

/** The learners' namespace, and one learner's socket in it. */
export type Io = Server<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;
export type IoSocket = Socket<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;

export interface InstructorSocketData {
  instructorId: string;
}

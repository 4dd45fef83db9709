// The instructor's socket.io connection (namespace /instructor), opened by the dashboard for its lifetime.
import { io, type Socket } from 'socket.io-client';
import type { InstructorClientToServerEvents, InstructorServerToClientEvents } from '@dockside/protocol';

export type InstructorSocket = Socket<InstructorServerToClientEvents, InstructorClientToServerEvents>;

export function openInstructorSocket(): InstructorSocket {
  return io('/instructor', { transports: ['websocket'], withCredentials: true });
}

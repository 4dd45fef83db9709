import type { Server as HttpServer } from 'node:http';
import { Server } from 'socket.io';
import type { Sessions } from '../http/session';
import type { ClientToServerEvents, InterServerEvents, ServerToClientEvents, SocketData } from './events';

export type Io = Server<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;

/** socket.io on the same HTTP server, authenticated by the same session cookie as HTTP requests. */
export function attachRealtime(server: HttpServer, sessions: Sessions): Io {
  const io: Io = new Server(server, {
    path: '/socket.io',
    serveClient: false,
    maxHttpBufferSize: 64 * 1024,
    cors: { origin: false },
  });
  io.use((socket, next) => {
    const learnerId = sessions.fromRequest(socket.request);
    if (!learnerId) return next(new Error('unauthorized: open the page first so that it sets your session'));
    socket.data.learnerId = learnerId;
    next();
  });
  io.on('connection', (socket) => {
    socket.emit('session:ready', { learnerId: socket.data.learnerId });
    socket.on('session:whoami', (ack) => {
      if (typeof ack === 'function') ack({ learnerId: socket.data.learnerId });
    });
  });
  return io;
}

import type { Server as HttpServer, IncomingMessage } from 'node:http';
import { Server, type Socket } from 'socket.io';
import type { Engine } from '../engine/engine';
import type { ManagerEvent } from '../engine/manager';
import type { Sessions } from '../http/session';
import type { ClientToServerEvents, ServerToClientEvents } from '@dockside/protocol';
import type { InterServerEvents, SocketData } from './events';
import { learnerRoom, registerLearnerSocket } from './learnerSocket';

export type Io = Server<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;
export type IoSocket = Socket<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;

/**
 * socket.io on the same HTTP server, authenticated by the same session cookie as HTTP requests. Only the
 * app's own pages may connect (`sameOrigin`), to either namespace: a page of another origin — a port
 * preview, another site — would otherwise use the learner's or instructor's cookie through it.
 */
export function attachRealtime(
  server: HttpServer,
  sessions: Sessions,
  engine: Engine,
  lessonsDir: string,
  sameOrigin: (req: IncomingMessage) => boolean,
): Io {
  const io: Io = new Server(server, {
    path: '/socket.io',
    serveClient: false,
    maxHttpBufferSize: 128 * 1024,
    cors: { origin: false },
    allowRequest: (req, done) =>
      sameOrigin(req) ? done(null, true) : done('cross-origin connections are refused: open the app itself', false),
    // Other upgrades (port previews) are handled by the HTTP layer.
    destroyUpgrade: false,
  });
  io.use((socket, next) => {
    const learnerId = sessions.fromRequest(socket.request);
    if (!learnerId) return next(new Error('unauthorized: open the page first so that it sets your session'));
    socket.data.learnerId = learnerId;
    next();
  });
  io.on('connection', (socket) => {
    socket.emit('session:ready', { learnerId: socket.data.learnerId });
    registerLearnerSocket(socket, engine, lessonsDir);
  });

  const settling = new Map<string, NodeJS.Timeout>();
  engine.listen({
    manager: (learnerId, event) => {
      const room = io.to(learnerRoom(learnerId));
      switch (event.type) {
        case 'progress':
          return room.emit('sandbox:progress', { phase: event.phase, percent: event.percent, message: event.message });
        case 'state':
          return room.emit('sandbox:state', event.sandbox);
        case 'queue':
          return room.emit('sandbox:queue', { position: event.position, estimateSeconds: event.estimateSeconds });
        case 'warning':
          return room.emit('sandbox:warning', { reason: event.reason, at: event.at });
        case 'error':
          return room.emit('sandbox:error', { code: event.code, message: event.message });
        case 'ended':
          return room.emit('sandbox:ended', {
            sandboxId: event.sandboxId,
            reason: event.reason,
            message: ENDED[event.reason],
          });
      }
    },
    checks: (learnerId, result) => io.to(learnerRoom(learnerId)).emit('checks:result', result),
    engineChanged: (sandboxId) => {
      // A build emits dozens of events; the owner hears once they settle.
      clearTimeout(settling.get(sandboxId));
      settling.set(
        sandboxId,
        setTimeout(() => {
          settling.delete(sandboxId);
          const learnerId = engine.manager.ownerOf(sandboxId);
          const view = engine.manager.viewById(sandboxId);
          if (!learnerId || !view) return;
          const room = io.to(learnerRoom(learnerId));
          room.emit('layers:changed', { sandboxId });
          void engine.withPorts(view).then((v) => room.emit('sandbox:state', v));
        }, ENGINE_SETTLE_MS),
      );
    },
  });
  return io;
}

const ENGINE_SETTLE_MS = 300;

const ENDED: Record<Extract<ManagerEvent, { type: 'ended' }>['reason'], string> = {
  idle: 'your sandbox was stopped after a long idle time; your progress is saved — start it again to go on',
  lifetime: 'your sandbox reached its maximum lifetime; your progress is saved — start a new one to go on',
  reset: 'your sandbox was reset',
  lost: 'your sandbox was lost while the server restarted; your progress is saved — start a new one',
  shutdown: 'the server is shutting down; your progress is saved',
  released: 'your sandbox was ended (the workshop is over); your progress is saved',
};

import type { Server as HttpServer, IncomingMessage } from 'node:http';
import { Server, type ServerOptions } from 'socket.io';
import type { Engine } from '../engine/engine';
import type { ClusterBus } from '../cluster/bus';
import type { ManagerEvent } from '../engine/manager';
import type { Sessions } from '../http/session';
import type { Io, IoSocket } from './events';
import { startForLessonSocket, type EarlyShell } from './firstShell';
import { focusRelay } from './focusRelay';
import { learnerRoom, registerLearnerSocket } from './learnerSocket';

export type { Io };

/** The largest socket.io message either namespace takes; a larger one closes that connection. */
export const MAX_SOCKET_MESSAGE_BYTES = 128 * 1024;

/**
 * socket.io on the same HTTP server, authenticated by the same session cookie as HTTP requests. Only the
 * app's own pages may connect (`sameOrigin`, asked of the WebSocket upgrade), to either namespace: a page
 * of another origin — a port preview, another site — would otherwise use the learner's or instructor's
 * cookie through it. Learner-bound events go to the learner's room, emitted once, by the replica where
 * they happened; with several replicas the adapter takes them to the learner's socket wherever it is.
 */
export function attachRealtime(
  server: HttpServer,
  sessions: Sessions,
  engine: Engine,
  lessonsDir: string,
  sameOrigin: (req: IncomingMessage) => boolean,
  cluster: { bus: ClusterBus; adapter?: ServerOptions['adapter'] },
): Io {
  const { adapter } = cluster;
  const focusMoved = focusRelay(cluster.bus, engine);
  const io: Io = new Server(server, {
    path: '/socket.io',
    serveClient: false,
    // WebSocket only, no long-polling: a connection is one request, so any replica behind a balancer can
    // take it, without sticky sessions.
    transports: ['websocket'],
    // Several replicas: room emits reach the others' sockets too (cluster/socketAdapter.ts).
    ...(adapter ? { adapter } : {}),
    maxHttpBufferSize: MAX_SOCKET_MESSAGE_BYTES,
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
  // A lesson page's socket names its lesson in its address: its sandbox and first shell start as the
  // connection opens, before the handshake that asks for them comes (firstShell.ts).
  const early = new WeakMap<IoSocket['conn'], EarlyShell>();
  io.engine.on('connection', (conn: IoSocket['conn']) => {
    const learnerId = sessions.fromRequest(conn.request);
    const shell = learnerId ? startForLessonSocket(engine, conn.request, learnerId, lessonsDir) : null;
    if (!shell) return;
    early.set(conn, shell);
    conn.once('close', () => shell.shell.drop());
  });
  io.on('connection', (socket) => {
    socket.emit('session:ready', { learnerId: socket.data.learnerId });
    // Taken once: a later socket on the same connection asks for itself.
    const made = early.get(socket.conn);
    early.delete(socket.conn);
    registerLearnerSocket(socket, engine, lessonsDir, focusMoved, made);
  });

  const settling = new Map<string, NodeJS.Timeout>();
  /** A build emits dozens of engine events; the owner hears once they settle. */
  const engineChanged = (sandboxId: string) => {
    clearTimeout(settling.get(sandboxId));
    settling.set(
      sandboxId,
      setTimeout(() => {
        settling.delete(sandboxId);
        const learnerId = engine.ownerOf(sandboxId);
        if (!learnerId) return;
        const room = io.to(learnerRoom(learnerId));
        room.emit('layers:changed', { sandboxId });
        void engine.current(learnerId).then((v) => v && room.emit('sandbox:state', v));
      }, ENGINE_SETTLE_MS),
    );
  };
  engine.subscribe((e) => {
    switch (e.type) {
      case 'sandbox':
        return sandboxEvent(io.to(learnerRoom(e.learnerId)), e.event);
      case 'checks':
        return io.to(learnerRoom(e.learnerId)).emit('checks:result', e.result);
      case 'engine':
        return engineChanged(e.sandboxId);
      case 'exercise':
        return io.to(learnerRoom(e.learnerId)).emit('exercise:progress', e.progress);
    }
  });
  return io;
}

const ENGINE_SETTLE_MS = 300;

/** A sandbox event as the learner's sockets hear it. */
function sandboxEvent(room: ReturnType<Io['to']>, event: ManagerEvent): void {
  switch (event.type) {
    case 'progress':
      return void room.emit('sandbox:progress', { phase: event.phase, percent: event.percent, message: event.message });
    case 'state':
      return void room.emit('sandbox:state', event.sandbox);
    case 'queue':
      return void room.emit('sandbox:queue', { position: event.position, estimateSeconds: event.estimateSeconds });
    case 'warning':
      return void room.emit('sandbox:warning', { reason: event.reason, at: event.at });
    case 'error':
      return void room.emit('sandbox:error', { code: event.code, message: event.message });
    case 'ended':
      return void room.emit('sandbox:ended', {
        sandboxId: event.sandboxId,
        reason: event.reason,
        message: ENDED[event.reason],
      });
  }
}

const ENDED: Record<Extract<ManagerEvent, { type: 'ended' }>['reason'], string> = {
  idle: 'your sandbox was stopped after a long idle time; your progress is saved — start it again to go on',
  lifetime: 'your sandbox reached its maximum lifetime; your progress is saved — start a new one to go on',
  reset: 'your sandbox was reset',
  lost: 'your sandbox was lost while the server restarted; your progress is saved — start a new one',
  shutdown: 'the server is shutting down; your progress is saved',
  released: 'your sandbox was ended (the workshop is over); your progress is saved',
};

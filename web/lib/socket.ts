// The typed socket.io connection a page opens for its own lifetime (the page disconnects it on unmount).
import { io, type Socket } from 'socket.io-client';
import type { ClientToServerEvents, ServerToClientEvents } from '../../server/src/realtime/events';
export { isStepDone } from '../../server/src/realtime/events';

export type {
  CheckResultView,
  SandboxView,
  SandboxPhase,
  StepStatus,
  ServerToClientEvents,
  ClientToServerEvents,
} from '../../server/src/realtime/events';

export type DocksideSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

export function openSocket(): DocksideSocket {
  return io({ transports: ['websocket'], withCredentials: true, reconnectionDelayMax: 4000 });
}

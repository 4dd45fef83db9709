// The typed socket.io connection a page opens for its own lifetime (the page disconnects it on unmount).
// The events and their payloads are @dockside/protocol's; the player's files take them from here.
import { io, type Socket } from 'socket.io-client';
import type { ClientToServerEvents, ServerToClientEvents, SocketQuery } from '@dockside/protocol';
export { isStepDone } from '@dockside/protocol';

export type {
  CheckResultView,
  SandboxView,
  SandboxPhase,
  StepStatus,
  ServerToClientEvents,
  ClientToServerEvents,
  EnsureAnswer,
  EnsureRequest,
  SocketAuth,
  SocketQuery,
} from '@dockside/protocol';

export type DocksideSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

export function openSocket(query: SocketQuery = {}): DocksideSocket {
  return io({ transports: ['websocket'], withCredentials: true, reconnectionDelayMax: 4000, query });
}

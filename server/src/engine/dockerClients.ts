// Docker clients of learners' engines: one per sandbox, connected only to the socket the runtime made,
// with its answers capped (layers/engineAgent.ts). Checks, the Layers view, the dashboard and published
// ports all ask here.
import { lstatSync } from 'node:fs';
import path from 'node:path';
import type Docker from 'dockerode';
import { engineDocker } from '../layers/engineAgent';
import type { Runtime } from './runtime';

/**
 * The engine socket as the runtime makes it: a socket, not a link, owned by root in a directory of root's
 * that the sandbox cannot reach. Anything else was not made by the runtime, and is not connected to.
 */
export function engineSocket(socketPath: string): string {
  for (const [p, want] of [
    [path.dirname(socketPath), 'directory'],
    [socketPath, 'socket'],
  ] as const) {
    const st = lstatSync(p, { throwIfNoEntry: false });
    const kind = st?.isSocket() ? 'socket' : st?.isDirectory() ? 'directory' : 'other';
    if (!st || kind !== want || st.uid !== 0)
      throw new Error(`the engine socket ${socketPath} is not as the runtime made it (${p}: ${st ? kind : 'missing'})`);
  }
  return socketPath;
}

export class DockerClients {
  private clients = new Map<string, Docker>();

  constructor(private readonly runtime: Pick<Runtime, 'dockerSocket'>) {}

  /** The sandbox's client; throws when its engine socket is not the runtime's. */
  get(sandboxId: string): Docker {
    let d = this.clients.get(sandboxId);
    if (!d) {
      // Capped answers, no redirects followed: the learner's engine is theirs to fake (engineAgent.ts).
      d = engineDocker(engineSocket(this.runtime.dockerSocket(sandboxId)));
      this.clients.set(sandboxId, d);
    }
    return d;
  }

  /** Forgets a destroyed sandbox's client. */
  forget(sandboxId: string): void {
    this.clients.delete(sandboxId);
  }
}

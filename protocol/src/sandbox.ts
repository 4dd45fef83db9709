// A learner's sandbox as the browser sees it, and the shape of its id.

/** Where a sandbox is in its life, as the learner sees it. */
export type SandboxPhase = 'allocating' | 'starting-engine' | 'ready' | 'stopping';

export type SandboxView = {
  id: string;
  phase: SandboxPhase;
  /** ISO time the sandbox is destroyed at the latest (maximum lifetime). */
  expiresAt: string;
  /** ISO time it is destroyed if nothing happens (idle timeout). */
  idleUntil: string;
  /** Ports published by containers in the sandbox, with the preview URL for each. */
  ports: { port: number; url: string; container: string }[];
};

/**
 * A sandbox id, as a regular expression's source without anchors (to place in a route's pattern):
 * 1 to 40 characters of a-z, 0-9 and '-', not starting with '-'. The runtime checks the same rule in C,
 * valid_id() in native/src/state.c: keep the two alike (protocol/src/sandbox.test.ts holds examples of it).
 */
export const SANDBOX_ID = '[a-z0-9][a-z0-9-]{0,39}';

const WHOLE_ID = new RegExp(`^${SANDBOX_ID}$`);

/** Whether a string is a sandbox id the runtime accepts. */
export const isSandboxId = (id: string): boolean => WHOLE_ID.test(id);

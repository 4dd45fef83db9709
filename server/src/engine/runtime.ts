// What the sandbox manager needs from a runtime driver (the native one, later a Kubernetes one).
import type { Duplex } from 'node:stream';

export type SandboxLimits = { memoryBytes: number; pids: number; cpus: number; diskBytes: number };

/** `createdAt` in milliseconds since the epoch. */
export type RuntimeSandbox = { id: string; running: boolean; range: number | null; createdAt: number };

export type ExecResult = { code: number; stdout: Buffer; stderr: string };

export type ExecOptions = {
  stdin?: Buffer | string;
  timeoutMs?: number;
  /** Output beyond this many bytes stops the command (a RuntimeError); 8 MiB by default. */
  maxOutputBytes?: number;
};

/** File operations done from outside the sandbox, without running any of its programs (native/files.c). */
export type FileOp = 'list' | 'read' | 'write' | 'create' | 'rename' | 'remove';

/** What a file operation's exit code means (native/README.md). */
export const FILE_EXIT = { notFound: 10, outside: 11, wrongType: 12, tooLarge: 13, conflict: 14, exists: 15 } as const;

export type SessionOptions = { cols: number; rows: number; env?: Record<string, string> };

export type SandboxInfo = RuntimeSandbox & {
  pid: number;
  limits: SandboxLimits;
  memoryUsage: number;
  dockerSocket: string;
};

/** The driver interface of DESIGN.md. The native runtime implements it; a Kubernetes one could. */
export interface Runtime {
  create(id: string, range: number, limits: SandboxLimits): Promise<void>;
  /** Shuts the engine down cleanly and stops every process; the sandbox's files stay. */
  stop(id: string): Promise<void>;
  /** Removes everything: processes, mounts, disk, cgroups, state. */
  destroy(id: string): Promise<void>;
  inspect(id: string): Promise<SandboxInfo>;
  list(): Promise<RuntimeSandbox[]>;
  exec(id: string, argv: string[], opts?: ExecOptions): Promise<ExecResult>;
  /**
   * A file operation on paths inside `under` (default /workspace), links out of it refused; the exit code
   * says what went wrong (FILE_EXIT in nativeRuntime.ts).
   */
  file(id: string, op: FileOp, args: string[], opts?: { stdin?: Buffer; under?: string }): Promise<ExecResult>;
  /**
   * Starts `argv` on a terminal held inside the sandbox under `name` (native `session`): it runs until it
   * exits or the sandbox ends, whoever attaches to it, and keeps its recent output for the next attach.
   */
  openSession(id: string, name: string, argv: string[], opts: SessionOptions): Promise<void>;
  /** The names of the sandbox's sessions (some may have ended: attaching to those fails). */
  sessions(id: string): Promise<string[]>;
  /** The host path of a session's socket (heldSession.ts speaks its protocol). */
  sessionSocket(id: string, name: string): string;
  connect(id: string, port: number): Promise<Duplex>;
  /** The host path of the sandbox's Docker Engine API socket. */
  dockerSocket(id: string): string;
  /** Records whom a sandbox is for where the runtime can (a Kubernetes pod's labels); optional. */
  label?(id: string, labels: { owner: string | null; workshop: string | null }): Promise<void>;
}

// All configuration comes from the environment, parsed once here. An invalid value stops the process
// with one line naming the variable and what it allows.
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { egressHostList, egressHosts, egressSwitch } from './egress/settings';
import type { DatabaseConfig } from './db/adapters';
import type { AdmissionOptions } from './engine/admission';

const port = z.coerce
  .number({ message: 'a port number from 1 to 65535' })
  .int('a port number from 1 to 65535')
  .min(1, 'a port number from 1 to 65535')
  .max(65535, 'a port number from 1 to 65535');
const count = (min: number) => z.coerce.number().int(`a whole number ≥ ${min}`).min(min, `a whole number ≥ ${min}`);
const minutes = count(1);
const byteSize = z
  .string()
  .regex(/^\d+[KMG]?$/i, 'a size such as 512M or 8G')
  .transform(parseSize);
const flag = z.enum(['0', '1'], { message: '0 or 1' }).transform((v) => v === '1');

const databaseUrl = z
  .string()
  .refine((v) => /^(file:|postgres(ql)?:\/\/)/.test(v), 'a file:PATH (SQLite) or postgres://… URL');

// A preview is served at <port>-<sandbox>.<suffix>: a wildcard origin, never the app's own.
const PREVIEW_ORIGIN =
  /^(https?):\/\/\*\.((?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)*[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)(?::(\d{1,5}))?\/?$/i;

// Tutorial sites allowed to frame /embed: each an origin (scheme, host, port), as a browser names it.
const ORIGIN = /^https?:\/\/[^/?#\s@,]+$/i;
const embedOrigins = z
  .string()
  .transform((v) => v.split(',').map((o) => o.trim().replace(/\/$/, '')))
  .refine(
    (list) => list.every((o) => ORIGIN.test(o) && URL.canParse(o)),
    'origins such as https://a.example,https://b.example (scheme, host and port; no path)',
  )
  .transform((list) => [...new Set(list.map((o) => new URL(o).origin))]);

const EnvSchema = z.object({
  PORT: port.default(3000),
  HOST: z.string().min(1, 'a host name or address').default('127.0.0.1'),
  DOCKSIDE_DATA_DIR: z
    .string()
    .refine((v) => path.isAbsolute(v), 'an absolute path')
    .default('/var/lib/dockside'),
  DATABASE_URL: databaseUrl.optional(),
  SESSION_SECRET: z.string().min(32, 'at least 32 characters').optional(),
  DOCKSIDE_PUBLIC_URL: z
    .string()
    .refine(
      (v) => /^https?:\/\/[^/?#\s@]+\/?$/i.test(v) && URL.canParse(v),
      'the origin people open, such as https://dockside.example.org (no path)',
    )
    .optional(),
  DOCKSIDE_PREVIEW_ORIGIN: z
    .string()
    .regex(PREVIEW_ORIGIN, 'a wildcard origin such as https://*.preview.example.org (one name per preview)')
    .optional(),
  DOCKSIDE_EMBED_ORIGINS: embedOrigins.optional(),
  DOCKSIDE_SETUP_CODE: z
    .string()
    .regex(/^[A-Za-z0-9-]{8,64}$/, '8 to 64 letters, digits or dashes')
    .optional(),
  DOCKSIDE_POOL_SIZE: count(0).default(2),
  DOCKSIDE_MAX_SANDBOXES: count(1).default(40),
  DOCKSIDE_IDLE_MINUTES: minutes.default(30),
  DOCKSIDE_MAX_LIFETIME_MINUTES: minutes.default(240),
  DOCKSIDE_SANDBOX_MEMORY: byteSize.default(1024 ** 3),
  DOCKSIDE_SANDBOX_PIDS: count(64).default(2048),
  DOCKSIDE_SANDBOX_CPUS: z.coerce.number().positive('a positive number of CPUs such as 1.0').default(1),
  DOCKSIDE_SANDBOX_DISK: byteSize.default(8 * 1024 ** 3),
  DOCKSIDE_KEEP_SANDBOXES: flag.default(true),
  DOCKSIDE_MAX_SANDBOXES_PER_ADDRESS: count(1).default(5),
  DOCKSIDE_SANDBOX_STARTS_PER_HOUR: count(1).default(20),
  DOCKSIDE_NEW_LEARNERS_PER_HOUR: count(1).default(60),
  DOCKSIDE_TRUSTED_PROXIES: count(0).max(10, 'a whole number from 0 to 10').default(0),
  DOCKSIDE_EGRESS: egressSwitch,
  DOCKSIDE_EGRESS_ALLOW: egressHostList.optional(),
  NODE_ENV: z.enum(['production', 'development', 'test']).default('production'),
  // Sandboxes as Kubernetes pods (server/src/kubernetes/, docs/kubernetes.md); the cluster from KUBECONFIG
  // or, in a pod, its service account.
  DOCKSIDE_RUNTIME: z.enum(['native', 'kubernetes'], { message: 'native or kubernetes' }).default('native'),
  DOCKSIDE_K8S_NAMESPACE: z
    .string()
    .regex(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, 'a namespace name such as dockside-sandboxes')
    .default('dockside-sandboxes'),
  DOCKSIDE_K8S_POD_TEMPLATE: z
    .string()
    .regex(/^[a-z0-9]([-.a-z0-9]{0,251}[a-z0-9])?$/, 'a PodTemplate name such as dockside-sandbox')
    .default('dockside-sandbox'),
});

export type Config = {
  port: number;
  host: string;
  dataDir: string;
  /** What the server itself writes (database, session secret, layer cache): `<dataDir>/server`, owned by
   * the server's user; the rest of the data dir belongs to root and native/. */
  stateDir: string;
  database: DatabaseConfig;
  sessionSecret: string;
  /** The app's origin as browsers see it (DOCKSIDE_PUBLIC_URL); null: whatever Host a request names. */
  publicOrigin: string | null;
  /** Where previews are served: `<scheme>://<port>-<sandbox>.<suffix>[:<port>]`. */
  previewOrigin: PreviewOrigin;
  /** Sites whose pages may frame /embed (DOCKSIDE_EMBED_ORIGINS); none by default: nothing may frame the app. */
  embedOrigins: string[];
  /** The first instructor's set-up code, when given in the environment rather than kept in the state dir. */
  setupCode?: string;
  pool: { size: number; maxSandboxes: number; idleMinutes: number; maxLifetimeMinutes: number };
  limits: { memoryBytes: number; pids: number; cpus: number; diskBytes: number };
  keepSandboxes: boolean;
  /** What one client address (or workshop learner) may start; see admission.ts. */
  admission: AdmissionOptions;
  /** Hosts sandboxes may reach through the egress proxy (egress/), or null: DOCKSIDE_EGRESS=off. */
  egress: string[] | null;
  /** Where sandboxes run: this machine's native runtime, or pods from a PodTemplate in a namespace. */
  runtime: { kind: 'native' } | { kind: 'kubernetes'; namespace: string; podTemplate: string };
  dev: boolean;
};

export type PreviewOrigin = { scheme: 'http' | 'https'; suffix: string; port: number | null };

export class ConfigError extends Error {}

type Env = Record<string, string | undefined>;

export function parseSize(v: string): number {
  const m = /^(\d+)([KMG]?)$/i.exec(v);
  if (!m) throw new ConfigError(`not a size: ${v}`);
  const unit = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3 }[m[2]!.toUpperCase() as '' | 'K' | 'M' | 'G'];
  return Number(m[1]) * unit;
}

/** Parses the environment; throws ConfigError with a one-line message on the first bad variable. */
export function parseEnv(env: Env): Omit<Config, 'sessionSecret'> & { sessionSecret?: string } {
  const blankless = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const result = EnvSchema.safeParse(blankless);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const name = String(issue.path[0]);
    throw new ConfigError(`${name}=${JSON.stringify(env[name] ?? '')} is invalid: expected ${issue.message}`);
  }
  const e = result.data;
  const stateDir = path.join(e.DOCKSIDE_DATA_DIR, 'server');
  const url = e.DATABASE_URL ?? `file:${path.join(stateDir, 'dockside.db')}`;
  // Browsers resolve *.localhost to this machine, and the same server answers there.
  const preview = PREVIEW_ORIGIN.exec(e.DOCKSIDE_PREVIEW_ORIGIN ?? `http://*.preview.localhost:${e.PORT}`)!;
  const previewPort = preview[3] === undefined ? null : Number(preview[3]);
  if (previewPort !== null && (previewPort < 1 || previewPort > 65535))
    throw new ConfigError(
      `DOCKSIDE_PREVIEW_ORIGIN=${JSON.stringify(e.DOCKSIDE_PREVIEW_ORIGIN)} is invalid: expected a port number from 1 to 65535`,
    );
  return {
    port: e.PORT,
    host: e.HOST,
    dataDir: e.DOCKSIDE_DATA_DIR,
    stateDir,
    database: { provider: url.startsWith('file:') ? 'sqlite' : 'postgresql', url },
    sessionSecret: e.SESSION_SECRET,
    publicOrigin: e.DOCKSIDE_PUBLIC_URL ? new URL(e.DOCKSIDE_PUBLIC_URL).origin : null,
    previewOrigin: {
      scheme: preview[1]!.toLowerCase() as 'http' | 'https',
      suffix: preview[2]!.toLowerCase(),
      port: previewPort,
    },
    embedOrigins: e.DOCKSIDE_EMBED_ORIGINS ?? [],
    setupCode: e.DOCKSIDE_SETUP_CODE,
    pool: {
      size: e.DOCKSIDE_POOL_SIZE,
      maxSandboxes: e.DOCKSIDE_MAX_SANDBOXES,
      idleMinutes: e.DOCKSIDE_IDLE_MINUTES,
      maxLifetimeMinutes: e.DOCKSIDE_MAX_LIFETIME_MINUTES,
    },
    limits: {
      memoryBytes: e.DOCKSIDE_SANDBOX_MEMORY,
      pids: e.DOCKSIDE_SANDBOX_PIDS,
      cpus: e.DOCKSIDE_SANDBOX_CPUS,
      diskBytes: e.DOCKSIDE_SANDBOX_DISK,
    },
    keepSandboxes: e.DOCKSIDE_KEEP_SANDBOXES,
    admission: {
      sandboxesPerAddress: e.DOCKSIDE_MAX_SANDBOXES_PER_ADDRESS,
      startsPerHour: e.DOCKSIDE_SANDBOX_STARTS_PER_HOUR,
      newLearnersPerHour: e.DOCKSIDE_NEW_LEARNERS_PER_HOUR,
      trustedProxies: e.DOCKSIDE_TRUSTED_PROXIES,
    },
    egress: egressHosts(e.DOCKSIDE_EGRESS, e.DOCKSIDE_EGRESS_ALLOW),
    runtime:
      e.DOCKSIDE_RUNTIME === 'kubernetes'
        ? { kind: 'kubernetes', namespace: e.DOCKSIDE_K8S_NAMESPACE, podTemplate: e.DOCKSIDE_K8S_POD_TEMPLATE }
        : { kind: 'native' },
    dev: e.NODE_ENV === 'development',
  };
}

/** Full configuration: creates the state dir and persists a generated session secret on first run. */
export function loadConfig(env: Env = process.env): Config {
  const parsed = parseEnv(env);
  try {
    mkdirSync(parsed.dataDir, { recursive: true, mode: 0o755 });
    mkdirSync(parsed.stateDir, { recursive: true, mode: 0o700 });
  } catch (err) {
    throw new ConfigError(`DOCKSIDE_DATA_DIR=${parsed.dataDir}: cannot create it (${(err as Error).message})`);
  }
  return { ...parsed, sessionSecret: parsed.sessionSecret ?? persistedSecret(parsed.stateDir) };
}

function persistedSecret(stateDir: string): string {
  const file = path.join(stateDir, 'session-secret');
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    const secret = randomBytes(32).toString('base64url');
    writeFileSync(file, secret + '\n', { mode: 0o600, flag: 'wx' });
    return secret;
  }
}

// The Dockside process: configuration, database, HTTP + socket.io + Next.js on one port.
import { createHash } from 'node:crypto';
import { newReplicaId } from './cluster/leader';
import { takeOverWhenFree, type SharedService } from './cluster/sharedServices';
import { lockSqlite } from './cluster/sqliteLock';
import { joinCluster, type ClusterTransport } from './cluster/transport';
import { ConfigError, loadConfig, type Config } from './config';
import { sqlitePath } from './db/adapters';
import { createDb, migrate } from './db/client';
import { systemClock } from './engine/clock';
import { Engine } from './engine/engine';
import { NativeRuntime } from './engine/nativeRuntime';
import { ProgressStore } from './engine/progress';
import { writeDockerClientConfig } from './egress/dockerConfig';
import { EgressBusyError, EgressSupervisor } from './egress/supervisor';
import { createApp } from './http/app';
import { EmbedHandoff } from './http/embedSession';
import { loadCatalogue } from './images/catalogue';
import { Origins } from './http/origins';
import { createPages } from './http/pages';
import { PreviewAccess } from './http/previewAccess';
import { Sessions } from './http/session';
import { buildLessonImages } from './images/build';
import { lessonCatalog } from './lessonCatalog';
import { LayerAnalyzer, LayerCache } from './layers/analyzer';
import type { KubernetesRuntime } from './kubernetes/kubernetesRuntime';
import { EngineLayerStore } from './layers/layerStore';
import { REPO_ROOT } from './paths';
import { registryAnswers, RegistryBusyError, RegistrySupervisor } from './registry/supervisor';
import { upstreamFromEnv, type Upstream } from './registry/upstream';
import { runtimeReadiness } from './setup/readiness';
import path from 'node:path';
import { InstructorAccounts, SETUP_CODE_FILE } from './workshops/accounts';
import { DashboardData } from './workshops/dashboard';
import { SharedRateLimiter } from './workshops/rateLimit';
import { workshopSeats } from './workshops/seats';
import { Workshops } from './workshops/workshops';

function fail(message: string): never {
  console.error(`dockside: ${message}`);
  process.exit(2);
}

function redact(url: string): string {
  return url.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@');
}

async function main(): Promise<void> {
  let config: Config;
  let upstream: Upstream | null;
  try {
    config = loadConfig();
    upstream = upstreamFromEnv();
  } catch (err) {
    if (err instanceof ConfigError) fail(err.message);
    throw err;
  }
  process.env.DOCKSIDE_LESSONS_DIR ??= path.join(REPO_ROOT, 'lessons', 'content');
  // SQLite serves one process: a second one on the same database stops here, before anything starts.
  try {
    if (config.database.provider === 'sqlite') lockSqlite(sqlitePath(config.database.url));
  } catch (err) {
    fail((err as Error).message);
  }
  // Next.js gets ready (about a second) while the database, the registry and the sandboxes come up: a
  // restart is that much shorter for the learners waiting on it. Awaited below, where its error shows.
  const pagesReady = createPages(config.dev);
  pagesReady.catch(() => {});

  try {
    const applied = await migrate(config.database);
    if (applied.length) console.log(`dockside: applied migrations ${applied.join(', ')}`);
  } catch (err) {
    fail(
      `DATABASE_URL=${redact(config.database.url)}: cannot migrate the database (${(err as Error).message.split('\n')[0]})`,
    );
  }
  const db = createDb(config.database);
  // The other replicas' events (on PostgreSQL; none on SQLite).
  let cluster: ClusterTransport;
  try {
    cluster = await joinCluster(config.database);
  } catch (err) {
    fail(
      `DATABASE_URL=${redact(config.database.url)}: cannot listen for the other replicas' events (${(err as Error).message.split('\n')[0]})`,
    );
  }

  // The sandboxes' Docker Hub: started before sandboxes so their engines find it.
  const registry = new RegistrySupervisor(config.dataDir, { upstream });
  let registryError: string | undefined;
  let registryBusy = false;
  try {
    await registry.start();
    // A fresh data dir gets the lesson images `npm start` built into the cache (nothing is built here).
    void buildLessonImages({
      dataDir: config.dataDir,
      cacheDir: process.env.DOCKSIDE_IMAGE_CACHE || undefined,
      build: false,
      log: () => {},
    }).catch((err) => console.warn(`dockside: lesson images not in the registry: ${(err as Error).message}`));
  } catch (err) {
    registryBusy = err instanceof RegistryBusyError;
    registryError = (err as Error).message;
    console.warn(`dockside: registry unavailable: ${registryError}`);
  }

  // Package installs in sandboxes (egress/): squid for the allowed hosts, started before sandboxes,
  // whose init serves its socket; off with DOCKSIDE_EGRESS=off (no proxy, no proxy configuration).
  const egress = config.egress ? new EgressSupervisor(config.dataDir, { allow: config.egress }) : undefined;
  // Sandboxes are told of a proxy only when there is one: this server's, or another's on this data dir.
  let egressBusy = false;
  const egressServed = await (egress?.start().then(
    () => true,
    (err: Error) => {
      console.warn(`dockside: egress proxy unavailable: ${err.message}`);
      egressBusy = err instanceof EgressBusyError;
      return egressBusy;
    },
  ) ?? false);

  // Replicas share the data dir's registry and proxy: when the replica serving them dies, one of the
  // others takes them over (one process on SQLite has nobody to take over from).
  const replicaId = newReplicaId();
  const served: SharedService[] = [];
  if (registryBusy)
    served.push({
      name: 'registry',
      start: () => registry.start().then(() => (registryError = undefined)),
      busy: (e) => e instanceof RegistryBusyError,
    });
  if (egress && egressBusy)
    served.push({ name: 'package proxy', start: () => egress.start(), busy: (e) => e instanceof EgressBusyError });
  const stopTakeOver = config.database.provider === 'postgresql' ? takeOverWhenFree(db, replicaId, served) : () => {};

  const lessonsDir = process.env.DOCKSIDE_LESSONS_DIR;
  const lessons = lessonCatalog(lessonsDir, { reload: config.dev });
  const origins = new Origins(config.previewOrigin, config.publicOrigin);
  const progress = new ProgressStore(db);
  // One layer index for the Layers view and the checks that look into layers.
  const native = new NativeRuntime(config.dataDir);
  // DOCKSIDE_RUNTIME=kubernetes: each sandbox a pod on a cluster (kubernetes/, docs/kubernetes.md). Loaded
  // only then: the cluster's client libraries take ~130 MB of the server's memory.
  const pods: KubernetesRuntime | undefined =
    config.runtime.kind === 'kubernetes'
      ? await import('./kubernetes/fromConfig')
          .then((k) => k.kubernetesRuntime(config))
          .catch((e: Error) => fail(e.message))
      : undefined;
  const runtime = pods ?? native;
  // Layers from each engine's own layer store, the export where it cannot be read (layers/layerStore.ts).
  const layers = new LayerAnalyzer(
    new LayerCache(path.join(config.stateDir, 'layer-cache')),
    {},
    new EngineLayerStore(native.bin, config.dataDir),
  );
  const engine = new Engine(
    // Starts count against the seats of the learner's open workshop (workshops/seats.ts).
    {
      db,
      runtime,
      clock: systemClock,
      seats: workshopSeats(db),
      progress,
      lessons,
      layers,
    },
    {
      poolSize: runtimeReadiness(config).ok ? config.pool.size : 0,
      maxSandboxes: config.pool.maxSandboxes,
      idleMs: config.pool.idleMinutes * 60_000,
      lifetimeMs: config.pool.maxLifetimeMinutes * 60_000,
      warnBeforeMs: 5 * 60_000,
      limits: config.limits,
      keepOnShutdown: config.keepSandboxes,
      admission: config.admission,
      terminalSecret: config.sessionSecret,
      previewUrl: origins.previewUrl,
      // On Kubernetes the cluster's proxy is reached the same way, through the pod's agent (deploy/kubernetes).
      prepareSandbox: egressServed || config.runtime.kind === 'kubernetes' ? writeDockerClientConfig : undefined,
      // One prefix per database: the sandboxes this server's database knows about, and no one else's.
      leaseDir: path.join(config.stateDir, 'leases'),
      idPrefix: `sb-${createHash('sha256').update(config.database.url).digest('hex').slice(0, 6)}-`,
      // What the other replicas' managers must hear (a sandbox gone, changed); in-process on SQLite.
      bus: cluster.bus,
      terminalsAtStart: config.database.provider === 'sqlite',
    },
  );
  // A pod deleted or evicted outside Dockside: its learner is told, as after a lost sandbox at start-up.
  pods?.onLost((id) => void engine.sandboxLost(id).catch(() => {}));
  if (runtimeReadiness(config).ok) {
    try {
      await engine.start();
    } catch (err) {
      console.error(`dockside: could not reconcile sandboxes: ${(err as Error).message}`);
    }
  } else console.warn(`dockside: sandboxes unavailable: ${runtimeReadiness(config).detail}`);

  const pages = await pagesReady;
  // What the registry carries, for /embed?images= and /try?images= (the recipes the set-up pushed).
  const catalogue = loadCatalogue();
  const sessions = new Sessions(config.sessionSecret);
  const workshops = new Workshops(db, engine, lessons);
  const instructors = new InstructorAccounts(db);
  const setupCode = await instructors.prepareSetup(config.stateDir, config.setupCode);
  const { server, io } = createApp({
    db,
    sessions,
    engine,
    progress,
    layers,
    instructors,
    workshops,
    dashboard: new DashboardData(db, engine, lessons),
    // Sign-in attempts per address and per email; wrong join codes per address.
    // In the database: the limits hold across replicas.
    limits: {
      signIn: new SharedRateLimiter(db, 'sign-in', 10, 15 * 60_000),
      join: new SharedRateLimiter(db, 'join-codes', 20, 10 * 60_000),
    },
    lessonsDir,
    cluster,
    pages: pages.handle,
    dev: config.dev,
    previews: { origins, access: new PreviewAccess(config.sessionSecret) },
    embed: {
      handoff: new EmbedHandoff(config.sessionSecret),
      catalogue: () => catalogue,
      embedOrigins: config.embedOrigins,
    },
    lessons,
    health: async () => {
      let database: { ok: boolean; provider: string; error?: string } = {
        ok: true,
        provider: config.database.provider,
      };
      try {
        await db.$queryRawUnsafe('SELECT 1');
      } catch (err) {
        database = { ok: false, provider: config.database.provider, error: (err as Error).message.split('\n')[0] };
      }
      const runtime = runtimeReadiness(config);
      // On Kubernetes the sandboxes' registry is a Deployment of its own (deploy/kubernetes/base/registry.yaml).
      const registryOk =
        config.runtime.kind === 'kubernetes' ||
        (!registryError && (await registryAnswers(registry.paths.mirrorSocket)));
      return {
        ok: database.ok && runtime.ok && registryOk,
        database,
        runtime,
        registry: { ok: registryOk, detail: registryError ?? (registryOk ? 'ready' : 'restarting') },
      };
    },
  });

  server.on('error', (err: NodeJS.ErrnoException) =>
    fail(err.code === 'EADDRINUSE' ? `PORT=${config.port} is already in use on ${config.host}` : err.message),
  );
  server.listen(config.port, config.host, () => {
    const shown = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host;
    const app = config.publicOrigin ?? `http://${shown}:${config.port}`;
    console.log(`dockside: serving on ${app}`);
    // Like a notebook server's token: whoever can read the log (or the state dir) sets up the first admin.
    if (setupCode)
      console.log(
        `dockside: no instructor account yet; create the first one (the admin) at ${app}/instructor?setup=${setupCode}` +
          ` (set-up code ${setupCode}${config.setupCode ? '' : `, also in ${path.join(config.stateDir, SETUP_CODE_FILE)}`})`,
      );
  });

  let closing = false;
  // Workshops whose time is up end by themselves.
  const ending = setInterval(
    () => void workshops.endExpired().catch((err: unknown) => console.error(`workshops: ${(err as Error).message}`)),
    30_000,
  );
  ending.unref();

  const shutdown = async (signal: string) => {
    clearInterval(ending);
    if (closing) return;
    closing = true;
    console.log(`dockside: ${signal}, shutting down`);
    await engine.shutdown();
    // Each takes a second or two to end cleanly (squid writes its cache index): side by side.
    stopTakeOver();
    await Promise.all([registry.stop(), egress?.stop()]);
    await io.close();
    await cluster.close().catch(() => {});
    server.closeAllConnections();
    await pages.close().catch(() => {});
    await db.$disconnect();
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
}

await main();

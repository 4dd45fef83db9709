// `tsx server/src/images/build.ts`: builds the lesson images from lessons/images/*/image.json and pushes
// them to the local registry under Docker Hub's names. Each image is cached by a hash of its recipe (and
// of the recipes it builds on) under $DOCKSIDE_DATA_DIR/images/lessons/<name>/<hash>/; a warm run only
// checks that the registry still has every manifest, and pushes again what it lacks.
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { z } from 'zod';
import { registryAnswers } from '../registry/probe';
import { registryPaths } from '../registry/paths';
import { RegistrySupervisor } from '../registry/supervisor';
import { CatalogueFields, readRecipe, RECIPES_DIR, recipeFolders } from './catalogue';
import { diffTrees, writeDirectoryLayer, writeLayer, type Layer } from './layerWriter';
import { MANIFEST_V2, RegistryClient } from './registryClient';

export { RECIPES_DIR };
/** Bump when the way layers are made changes, so every cache entry is rebuilt. */
const BUILDER_VERSION = '2';
const MIRROR = process.env.DOCKSIDE_DEBIAN_MIRROR ?? 'http://deb.debian.org/debian';
/** A recipe's C program has no C library (a few kB, like Docker's own hello-world). */
const FREESTANDING_CFLAGS = [
  '-static',
  '-nostdlib',
  '-ffreestanding',
  '-fno-tree-loop-distribute-patterns', // or gcc turns loops back into strlen/memset calls
  '-fno-stack-protector',
  '-fno-asynchronous-unwind-tables',
  '-fno-pie',
  '-no-pie',
  '-Os',
  '-s',
  '-Wall',
  '-Werror',
];

const Recipe = CatalogueFields.extend({
  base: z.string(),
  /** The Debian release a `debootstrap` image is made of. */
  suite: z.enum(['bookworm', 'trixie']).optional(),
  packages: z.array(z.string().regex(/^[a-z0-9][a-z0-9.+-]*$/)).optional(),
  after: z.string().optional(),
  files: z.record(z.string(), z.string()).optional(),
  busyboxApplets: z.boolean().optional(),
  /** The history line of the layer the recipe adds (none when it only reuses its base's layers). */
  createdBy: z.string().optional(),
  config: z.record(z.string(), z.unknown()),
  metadata: z.array(z.string()).default([]),
});
type Recipe = z.infer<typeof Recipe> & { name: string; dir: string };

/** A built image in the cache; paths are relative to the cache root so the cache can move. */
type Built = {
  layers: Layer[];
  history: { created: string; created_by: string; empty_layer?: boolean }[];
  rootfs?: string;
};

export type ImageSummary = { name: string; reference: string; digest: string; built: boolean; pushedBytes: number };

export function loadRecipes(dir = RECIPES_DIR): Map<string, Recipe> {
  const recipes = new Map<string, Recipe>();
  for (const name of recipeFolders(dir))
    recipes.set(name, { ...readRecipe(dir, name, Recipe), name, dir: path.join(dir, name) });
  for (const r of recipes.values()) {
    const file = `lessons/images/${r.name}/image.json`;
    if (!['scratch', 'debootstrap'].includes(r.base) && !recipes.has(r.base))
      throw new Error(`${file}: base "${r.base}" is not a recipe`);
    if ((r.base === 'debootstrap') !== (r.suite !== undefined))
      throw new Error(`${file}: suite is for a debootstrap base, and such a base needs one`);
    if (addsLayer(r) !== (r.createdBy !== undefined))
      throw new Error(
        `${file}: createdBy is the history line of a new layer: give it exactly when the recipe adds one`,
      );
  }
  return recipes;
}

/** Whether process `pid` still runs (EPERM: it does, as another user's). */
function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Whether a recipe makes a layer of its own; one with nothing to add reuses its base's layers. */
const addsLayer = (r: Recipe) =>
  ['scratch', 'debootstrap'].includes(r.base) || Boolean(r.packages?.length || r.files || r.after);

function recipeHash(recipes: Map<string, Recipe>, name: string): string {
  const r = recipes.get(name)!;
  const h = createHash('sha256').update(BUILDER_VERSION).update(MIRROR);
  for (const f of readdirSync(r.dir).sort()) {
    const bytes = readFileSync(path.join(r.dir, f));
    // The catalogue's description is not part of the image: rewording it rebuilds nothing.
    if (f === 'image.json') {
      const { description: _, ...rest } = JSON.parse(bytes.toString()) as Record<string, unknown>;
      h.update(f).update(JSON.stringify(rest));
    } else h.update(f).update(bytes);
  }
  // Files taken from the host (busybox) count by their content.
  for (const source of Object.values(r.files ?? {}))
    if (source.startsWith('host:')) h.update(readFileSync(source.slice(5)));
  if (r.base !== 'scratch' && r.base !== 'debootstrap') h.update(recipeHash(recipes, r.base));
  return h.digest('hex').slice(0, 16);
}

const mb = (bytes: number) =>
  bytes < 1024 ** 2 ? `${(bytes / 1024).toFixed(1)} kB` : `${(bytes / 1024 ** 2).toFixed(1)} MB`;

/** Runs a command, passing the lines `keep` accepts to the log (prefixed); throws with its tail on failure. */
function run(
  cmd: string,
  args: string[],
  log: (m: string) => void,
  keep: (line: string) => boolean = () => false,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive', LANG: 'C.UTF-8', LC_ALL: 'C.UTF-8' },
    });
    const tail: string[] = [];
    for (const stream of [child.stdout, child.stderr])
      createInterface({ input: stream }).on('line', (line) => {
        tail.push(line);
        if (tail.length > 20) tail.shift();
        if (keep(line)) log(`  ${line.trim()}`);
      });
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve() : reject(new Error(`${cmd} exited with ${code}:\n${tail.join('\n')}`)),
    );
  });
}

/** A shell script inside a root filesystem, in a private mount namespace with /proc and /dev. */
async function inRoot(root: string, script: string, log: (m: string) => void): Promise<void> {
  writeFileSync(path.join(root, 'etc', 'resolv.conf'), readFileSync('/etc/resolv.conf'));
  const wrapped = `set -e; mount -t proc proc "$1/proc"; mount --rbind /dev "$1/dev"; exec chroot "$1" /bin/sh -ec "$2"`;
  try {
    await run('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', wrapped, 'sh', root, script], log, (l) =>
      /^(Fetched|E:)/.test(l),
    );
  } finally {
    writeFileSync(path.join(root, 'etc', 'resolv.conf'), '');
  }
}

class Builder {
  private readonly done = new Map<string, Built>();
  /** Images built (not found in the cache) by this run. */
  readonly fresh = new Set<string>();

  constructor(
    private readonly recipes: Map<string, Recipe>,
    private readonly cacheRoot: string,
    private readonly log: (m: string) => void,
    private readonly mayBuild = true,
  ) {}

  /** The cached build of `name`, building it (and its base) when the cache lacks it. */
  async get(name: string): Promise<{ built: Built; fresh: boolean }> {
    const cached = this.done.get(name);
    if (cached) return { built: cached, fresh: false };
    const recipe = this.recipes.get(name)!;
    if (!addsLayer(recipe)) {
      // Nothing to add (mysql is mariadb): the base's layers as they are, made again from the base each
      // time rather than cached, so they can never disagree with it.
      const { built: base, fresh } = await this.get(recipe.base);
      const created = base.history.at(-1)!.created;
      const built: Built = {
        layers: base.layers,
        history: [...base.history, ...recipe.metadata.map((m) => ({ created, created_by: m, empty_layer: true }))],
      };
      this.done.set(name, built);
      if (fresh) this.fresh.add(name);
      return { built, fresh };
    }
    const rel = path.join(name, recipeHash(this.recipes, name));
    const cachedBuild = this.cachedBuild(rel);
    if (cachedBuild) {
      this.done.set(name, cachedBuild);
      return { built: cachedBuild, fresh: false };
    }
    if (!this.mayBuild) throw new NotBuiltError(name);
    // Build beside the final place and rename at the end: a second builder never sees half an image.
    const tmpRel = `${rel}.tmp-${process.pid}`;
    const tmp = path.join(this.cacheRoot, tmpRel);
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp, { recursive: true });
    const started = Date.now();
    let built: Built;
    try {
      built = await this.build(this.recipes.get(name)!, tmp);
    } catch (err) {
      rmSync(tmp, { recursive: true, force: true });
      throw err;
    }
    // Layers of this image were written under tmp; rewrite their paths to the final directory.
    const fix = (p: string) => (p.startsWith(tmpRel) ? rel + p.slice(tmpRel.length) : p);
    built = {
      ...built,
      layers: built.layers.map((l) => ({ ...l, file: fix(l.file) })),
      rootfs: built.rootfs && fix(built.rootfs),
    };
    writeFileSync(path.join(tmp, 'built.json'), JSON.stringify(built, null, 1));
    // Another builder (a test, a second set-up) may have finished the same recipe meanwhile, and be pushing
    // from it or building on it: the first one stays, and this one is dropped.
    const first = this.cachedBuild(rel);
    if (first) {
      rmSync(tmp, { recursive: true, force: true });
      this.log(`${name}: another build of the same recipe finished first; using that one`);
      this.done.set(name, first);
      this.fresh.add(name);
      return { built: first, fresh: true };
    }
    const final = path.join(this.cacheRoot, rel);
    rmSync(final, { recursive: true, force: true });
    renameSync(tmp, final);
    // Older builds of this recipe are dead weight (the registry keeps its own copy of what it serves), and
    // so are half builds whose builder was killed; another builder's, still running, stays.
    for (const old of readdirSync(path.join(this.cacheRoot, name))) {
      const builder = /\.tmp-(\d+)$/.exec(old);
      if (old !== path.basename(rel) && !(builder && processAlive(Number(builder[1]))))
        rmSync(path.join(this.cacheRoot, name, old), { recursive: true, force: true });
    }
    const layer = built.layers.at(-1)!;
    this.log(
      `${name}: built in ${((Date.now() - started) / 1000).toFixed(1)} s, new layer ${mb(layer.size)} compressed`,
    );
    this.done.set(name, built);
    this.fresh.add(name);
    return { built, fresh: true };
  }

  /** The build cached at `rel`, if it is complete. */
  private cachedBuild(rel: string): Built | undefined {
    const meta = path.join(this.cacheRoot, rel, 'built.json');
    if (!existsSync(meta)) return undefined;
    const built = JSON.parse(readFileSync(meta, 'utf8')) as Built;
    return built.layers.every((l) => existsSync(path.join(this.cacheRoot, l.file))) ? built : undefined;
  }

  private relative(file: string): string {
    return path.relative(this.cacheRoot, file);
  }

  private async build(r: Recipe, dir: string): Promise<Built> {
    const now = new Date().toISOString();
    const say = (m: string) => this.log(`${r.name}: ${m}`);
    const metadata = r.metadata.map((m) => ({ created: now, created_by: m, empty_layer: true }));
    const asRelative = (l: Layer): Layer => ({ ...l, file: this.relative(l.file) });

    if (r.base === 'scratch') {
      const root = path.join(dir, 'files');
      await this.placeFiles(r, root);
      if (r.busyboxApplets) this.busyboxTree(root);
      say('packing the layer');
      const layer = await writeDirectoryLayer(root, dir);
      rmSync(root, { recursive: true, force: true });
      return { layers: [asRelative(layer)], history: [{ created: now, created_by: r.createdBy! }, ...metadata] };
    }

    if (r.base === 'debootstrap') {
      const root = path.join(dir, 'rootfs');
      say(`debootstrap --variant=minbase ${r.suite} from ${MIRROR} (about a minute)`);
      await run('debootstrap', ['--variant=minbase', r.suite!, root, MIRROR], this.log, (l) =>
        /^I: (Retrieving Release|Base system installed|Checking component)|^E:|^W:/.test(l),
      );
      this.slim(root);
      say('packing the layer');
      const layer = await writeDirectoryLayer(root, dir, (n) => n % 4000 === 0 && say(`${n} files packed`));
      return {
        layers: [asRelative(layer)],
        history: [{ created: now, created_by: r.createdBy! }, ...metadata],
        rootfs: this.relative(root),
      };
    }

    const { built: base } = await this.get(r.base);
    if (!base.rootfs) throw new Error(`${r.name}: base ${r.base} keeps no root filesystem to build on`);
    const baseRoot = path.join(this.cacheRoot, base.rootfs);
    const root = path.join(dir, 'rootfs');
    say(`copying the ${r.base} root filesystem`);
    await run('cp', ['-a', baseRoot, root], this.log);
    if (r.packages?.length) {
      say(`apt-get install ${r.packages.join(' ')}`);
      const install = [
        'apt-get update -q',
        `apt-get install -y -q --no-install-recommends ${r.packages.join(' ')}`,
        'apt-get clean',
        'rm -rf /var/lib/apt/lists/* /var/cache/debconf/*-old /var/lib/dpkg/*-old /var/log/apt /var/log/dpkg.log /var/log/alternatives.log',
      ];
      await inRoot(root, install.join('\n'), this.log);
    }
    // The recipe's own files land over what the packages installed (a configuration, a web page), then
    // `after` runs.
    await this.placeFiles(r, root);
    if (r.after) await inRoot(root, r.after, this.log);
    this.slim(root);
    say('packing the difference from the base as a layer');
    const layer = await writeLayer(root, diffTrees(baseRoot, root), dir);
    rmSync(root, { recursive: true, force: true }); // nothing builds on these
    return {
      layers: [...base.layers, asRelative(layer)],
      history: [...base.history, { created: now, created_by: r.createdBy! }, ...metadata],
    };
  }

  /** Puts the recipe's `files` into `root`: files of its folder, `host:` files, freestanding `.c` programs. */
  private async placeFiles(r: Recipe, root: string): Promise<void> {
    for (const [target, source] of Object.entries(r.files ?? {})) {
      const dest = path.join(root, target);
      mkdirSync(path.dirname(dest), { recursive: true });
      if (source.startsWith('host:')) cpSync(source.slice(5), dest);
      else if (source.endsWith('.c')) {
        this.log(`${r.name}: compiling ${source} (freestanding: gcc -static -nostdlib -Os)`);
        await run('gcc', [...FREESTANDING_CFLAGS, '-o', dest, path.join(r.dir, source)], this.log, () => true);
      } else cpSync(path.join(r.dir, source), dest);
    }
  }

  /** Slim like Docker's official images: no docs, manuals or translations, no apt lists or caches. */
  private slim(root: string): void {
    for (const p of [
      'usr/share/doc',
      'usr/share/man',
      'usr/share/info',
      'usr/share/locale',
      'var/lib/apt/lists',
      'var/cache/apt',
    ]) {
      rmSync(path.join(root, p), { recursive: true, force: true });
      mkdirSync(path.join(root, p), { recursive: true, mode: 0o755 });
    }
    mkdirSync(path.join(root, 'var/lib/apt/lists/partial'), { recursive: true, mode: 0o700 });
    mkdirSync(path.join(root, 'var/cache/apt/archives/partial'), { recursive: true, mode: 0o700 });
    // Docker writes these into every container; an image carries them empty.
    for (const f of ['etc/resolv.conf', 'etc/hostname']) writeFileSync(path.join(root, f), '');
  }

  private busyboxTree(root: string): void {
    const applets = execFileSync(path.join(root, 'bin', 'busybox'), ['--list-full'])
      .toString()
      .trim()
      .split('\n');
    for (const a of applets) {
      const dest = path.join(root, a);
      if (existsSync(dest)) continue;
      mkdirSync(path.dirname(dest), { recursive: true });
      execFileSync('ln', ['-s', '/bin/busybox', dest]);
    }
    for (const d of ['tmp', 'root', 'etc', 'home', 'var/www']) mkdirSync(path.join(root, d), { recursive: true });
    execFileSync('chmod', ['1777', path.join(root, 'tmp')]);
    writeFileSync(
      path.join(root, 'etc', 'passwd'),
      'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n',
    );
    writeFileSync(path.join(root, 'etc', 'group'), 'root:x:0:\nnogroup:x:65534:\n');
  }
}

function imageJson(r: Recipe, built: Built): { config: string; manifest: string; digest: string } {
  const config = JSON.stringify({
    architecture: 'amd64',
    os: 'linux',
    created: built.history.at(-1)!.created,
    config: r.config,
    rootfs: { type: 'layers', diff_ids: built.layers.map((l) => l.diffId) },
    history: built.history,
  });
  const sha = (s: string) => `sha256:${createHash('sha256').update(s).digest('hex')}`;
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: MANIFEST_V2,
    config: {
      mediaType: 'application/vnd.docker.container.image.v1+json',
      size: Buffer.byteLength(config),
      digest: sha(config),
    },
    layers: built.layers.map((l) => ({
      mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
      size: l.size,
      digest: l.digest,
    })),
  });
  return { config, manifest, digest: sha(manifest) };
}

/** The cache lacks an image and building was not allowed. */
export class NotBuiltError extends Error {
  constructor(readonly image: string) {
    super(`lesson image ${image} is not built yet (npm run setup builds it)`);
  }
}

export type BuildOptions = {
  dataDir: string;
  /** Where built layers are cached (default <dataDir>/images/lessons; tests point it at the shared one). */
  cacheDir?: string;
  log?: (message: string) => void;
  recipesDir?: string;
  /** false: only push what the cache has (a server filling its registry); images not built are skipped. */
  build?: boolean;
};

/** Builds what the cache lacks and makes sure the registry of `dataDir` serves every lesson image. */
export async function buildLessonImages(opts: BuildOptions): Promise<ImageSummary[]> {
  const log = opts.log ?? ((m: string) => console.log(`lesson images: ${m}`));
  const recipes = loadRecipes(opts.recipesDir);
  const cacheRoot = opts.cacheDir ?? path.join(opts.dataDir, 'images', 'lessons');
  mkdirSync(cacheRoot, { recursive: true });
  const paths = registryPaths(opts.dataDir);
  // A running server already supervises the registry: push through it. Otherwise run one for the build.
  let supervisor: RegistrySupervisor | undefined;
  if (!(await registryAnswers(paths.pushSocket))) {
    supervisor = new RegistrySupervisor(opts.dataDir, {
      // Pushing needs no pull-through cache; the server starts that (and validates its URL) itself.
      upstream: null,
      log: (m) => (m.includes('exited') ? log(`registry: ${m}`) : undefined),
    });
    await supervisor.start();
  }
  try {
    const client = new RegistryClient(paths.pushSocket);
    const builder = new Builder(recipes, cacheRoot, log, opts.build !== false);
    const available = async (name: string) => {
      try {
        await builder.get(name);
        return true;
      } catch (err) {
        if (!(err instanceof NotBuiltError)) throw err;
        log(err.message);
        return false;
      }
    };
    const summaries: ImageSummary[] = [];
    /** Which repository already has a layer, for a cross-repository mount instead of a second upload. */
    const pushedTo = new Map<string, string>();
    const ready = new Set<string>();
    for (const r of recipes.values()) if (await available(r.name)) ready.add(r.name);
    for (const r of recipes.values()) {
      if (!ready.has(r.name)) continue;
      const { built } = await builder.get(r.name);
      for (const l of built.layers) if (!pushedTo.has(l.digest)) pushedTo.set(l.digest, `library/${r.repository}`);
    }
    for (const name of ready) {
      const r = recipes.get(name)!;
      const { built } = await builder.get(name);
      const fresh = builder.fresh.has(name);
      const { config, manifest, digest } = imageJson(r, built);
      const repo = `library/${r.repository}`;
      const reference = `${r.repository}:${r.tags[0]}`;
      const present = await Promise.all(r.tags.map((t) => client.manifestDigest(repo, t)));
      if (present.every((d) => d === digest)) {
        summaries.push({ name, reference, digest, built: fresh, pushedBytes: 0 });
        continue;
      }
      let pushedBytes = 0;
      for (const [n, l] of built.layers.entries()) {
        const from = pushedTo.get(l.digest);
        const sent = await client.pushBlob(repo, l.digest, { file: path.join(cacheRoot, l.file) }, from);
        pushedTo.set(l.digest, repo);
        pushedBytes += sent;
        log(
          `${reference}: layer ${n + 1}/${built.layers.length} ${l.digest.slice(7, 19)} ${sent ? `pushed ${mb(sent)}` : 'already in the registry'}`,
        );
      }
      pushedBytes += await client.pushBlob(repo, JSON.parse(manifest).config.digest, Buffer.from(config));
      for (const t of r.tags) await client.pushManifest(repo, t, manifest);
      log(`${reference}: pushed as ${r.tags.map((t) => `${r.repository}:${t}`).join(', ')} (${digest.slice(0, 19)}…)`);
      summaries.push({ name, reference, digest, built: fresh, pushedBytes });
    }
    return summaries;
  } finally {
    await supervisor?.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const started = Date.now();
  const dataDir = process.env.DOCKSIDE_DATA_DIR ?? '/var/lib/dockside';
  buildLessonImages({ dataDir, cacheDir: process.env.DOCKSIDE_IMAGE_CACHE || undefined })
    .then((images) => {
      const built = images.filter((i) => i.built).length;
      const pushed = images.reduce((n, i) => n + i.pushedBytes, 0);
      console.log(
        `lesson images: ready in ${((Date.now() - started) / 1000).toFixed(1)} s: ${images.map((i) => i.reference).join(', ')}` +
          ` (${built} built, ${mb(pushed)} pushed)`,
      );
    })
    .catch((err: Error) => {
      console.error(`lesson images: ${err.message}`);
      process.exit(1);
    });
}

// `tsx server/src/images/build.ts`: builds the lesson images from lessons/images/*/image.json and pushes
// them to the local registry under Docker Hub's names. Each image is cached by a hash of its recipe
// (and of the recipes it builds on); a warm run only checks that the registry still has every manifest.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { REPO_ROOT } from '../paths';
import { RegistrySupervisor } from '../registry/supervisor';
import { diffTrees, writeDirectoryLayer, writeLayer, type Layer } from './layers';
import { MANIFEST_V2, RegistryClient } from './registryClient';

const RECIPES = path.join(REPO_ROOT, 'lessons', 'images');
const BUILDER_VERSION = '1';
const MIRROR = process.env.DOCKSIDE_DEBIAN_MIRROR ?? 'http://deb.debian.org/debian';

const Recipe = z.object({
  repository: z.string().regex(/^[a-z0-9][a-z0-9._-]*$/),
  tags: z.array(z.string().regex(/^[A-Za-z0-9_][A-Za-z0-9._-]*$/)).min(1),
  base: z.string(),
  packages: z.array(z.string()).optional(),
  after: z.string().optional(),
  files: z.record(z.string(), z.string()).optional(),
  busyboxApplets: z.boolean().optional(),
  createdBy: z.string(),
  config: z.record(z.string(), z.unknown()),
  metadata: z.array(z.string()).default([]),
});
type Recipe = z.infer<typeof Recipe> & { name: string; dir: string };

type Built = {
  layers: Layer[];
  history: { created: string; created_by: string; empty_layer?: boolean }[];
  rootfs?: string;
};

function loadRecipes(): Map<string, Recipe> {
  const recipes = new Map<string, Recipe>();
  for (const name of readdirSync(RECIPES, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)) {
    const dir = path.join(RECIPES, name);
    const parsed = Recipe.safeParse(JSON.parse(readFileSync(path.join(dir, 'image.json'), 'utf8')));
    if (!parsed.success)
      throw new Error(
        `lessons/images/${name}/image.json: ${parsed.error.issues[0]!.path.join('.')}: ${parsed.error.issues[0]!.message}`,
      );
    recipes.set(name, { ...parsed.data, name, dir });
  }
  return recipes;
}

function recipeHash(recipes: Map<string, Recipe>, name: string): string {
  const r = recipes.get(name)!;
  const h = createHash('sha256').update(BUILDER_VERSION).update(MIRROR);
  for (const f of readdirSync(r.dir).sort()) h.update(f).update(readFileSync(path.join(r.dir, f)));
  if (r.base !== 'scratch' && r.base !== 'debootstrap') h.update(recipeHash(recipes, r.base));
  return h.digest('hex').slice(0, 16);
}

const say = (msg: string) => console.log(`lesson images: ${msg}`);

function run(cmd: string, args: string[]): void {
  execFileSync(cmd, args, { stdio: ['ignore', 'ignore', 'inherit'] });
}

/** Runs a shell script in a root filesystem, in a private mount namespace with /proc and /dev. */
function inRoot(root: string, script: string): void {
  writeFileSync(path.join(root, 'etc', 'resolv.conf'), readFileSync('/etc/resolv.conf'));
  const wrapped = `set -e; mount -t proc proc "$1/proc"; mount --rbind /dev "$1/dev"; chroot "$1" /bin/sh -c "$2"`;
  try {
    execFileSync('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', wrapped, 'sh', root, script], {
      stdio: ['ignore', 'ignore', 'inherit'],
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive', LANG: 'C.UTF-8' },
    });
  } finally {
    writeFileSync(path.join(root, 'etc', 'resolv.conf'), '');
  }
}

async function buildOne(
  recipes: Map<string, Recipe>,
  name: string,
  cacheRoot: string,
  done: Map<string, Built>,
): Promise<Built> {
  const cached = done.get(name);
  if (cached) return cached;
  const r = recipes.get(name)!;
  const dir = path.join(cacheRoot, name, recipeHash(recipes, name));
  const metaFile = path.join(dir, 'built.json');
  if (existsSync(metaFile)) {
    const built = JSON.parse(readFileSync(metaFile, 'utf8')) as Built;
    done.set(name, built);
    return built;
  }
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const started = Date.now();
  const now = new Date().toISOString();
  let built: Built;

  if (r.base === 'scratch') {
    const root = path.join(dir, 'files');
    for (const [target, source] of Object.entries(r.files ?? {})) {
      const dest = path.join(root, target);
      mkdirSync(path.dirname(dest), { recursive: true });
      if (source.startsWith('host:')) cpSync(source.slice(5), dest);
      else if (source === 'hello') run('gcc', ['-static', '-Os', '-s', '-o', dest, path.join(r.dir, 'hello.c')]);
      else cpSync(path.join(r.dir, source), dest);
    }
    if (r.busyboxApplets) {
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
    const layer = await writeDirectoryLayer(root, dir);
    built = { layers: [layer], history: [{ created: now, created_by: r.createdBy }] };
  } else if (r.base === 'debootstrap') {
    const root = path.join(dir, 'rootfs');
    say(`${name}: debootstrap bookworm minbase (about 30 s)`);
    run('debootstrap', ['--variant=minbase', 'bookworm', root, MIRROR]);
    // Slim like the official image: no docs, manuals or translations, no apt lists.
    for (const p of [
      'usr/share/doc',
      'usr/share/man',
      'usr/share/info',
      'usr/share/locale',
      'var/lib/apt/lists',
      'var/cache/apt',
    ]) {
      rmSync(path.join(root, p), { recursive: true, force: true });
      mkdirSync(path.join(root, p), { recursive: true });
    }
    writeFileSync(path.join(root, 'etc', 'resolv.conf'), '');
    writeFileSync(path.join(root, 'etc', 'hostname'), '');
    const layer = await writeDirectoryLayer(root, dir, (n) => n % 5000 === 0 && say(`${name}: ${n} files packed`));
    built = { layers: [layer], history: [{ created: now, created_by: r.createdBy }], rootfs: root };
  } else {
    const base = await buildOne(recipes, r.base, cacheRoot, done);
    if (!base.rootfs) throw new Error(`${name}: base ${r.base} keeps no root filesystem to build on`);
    const root = path.join(dir, 'rootfs');
    say(`${name}: installing ${(r.packages ?? []).join(' ')} on ${r.base}`);
    run('cp', ['-a', base.rootfs, root]);
    const install = r.packages?.length
      ? `apt-get update -qq && apt-get install -y -qq --no-install-recommends ${r.packages.join(' ')} >/dev/null && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/cache/debconf/*-old /var/lib/dpkg/*-old /var/log/apt /var/log/dpkg.log`
      : 'true';
    inRoot(root, r.after ? `${install} && ${r.after}` : install);
    const layer = await writeLayer(root, diffTrees(base.rootfs, root), dir);
    rmSync(root, { recursive: true, force: true }); // nothing builds on these
    built = {
      layers: [...base.layers, layer],
      history: [...base.history.filter((h) => !h.empty_layer), { created: now, created_by: r.createdBy }],
    };
  }
  built.history.push(...r.metadata.map((m) => ({ created: now, created_by: m, empty_layer: true })));
  writeFileSync(metaFile, JSON.stringify(built));
  const bytes = built.layers.at(-1)!.size;
  say(
    `${name}: built in ${((Date.now() - started) / 1000).toFixed(1)} s (new layer ${(bytes / 1024 ** 2).toFixed(1)} MB compressed)`,
  );
  done.set(name, built);
  return built;
}

function imageConfig(r: Recipe, built: Built): { json: string; digest: string } {
  const config = {
    architecture: 'amd64',
    os: 'linux',
    created: built.history.at(-1)!.created,
    config: r.config,
    rootfs: { type: 'layers', diff_ids: built.layers.map((l) => l.diffId) },
    history: built.history,
  };
  const json = JSON.stringify(config);
  return { json, digest: `sha256:${createHash('sha256').update(json).digest('hex')}` };
}

export async function buildLessonImages(dataDir: string): Promise<void> {
  const recipes = loadRecipes();
  const cacheRoot = path.join(dataDir, 'images', 'lessons');
  const supervisor = new RegistrySupervisor(dataDir, say);
  await supervisor.start();
  try {
    const client = new RegistryClient(supervisor.paths.pushSocket);
    const done = new Map<string, Built>();
    // Base images first, so the ones built on them reuse their layers.
    const order = [...recipes.keys()].sort(
      (a, b) => Number(recipes.get(a)!.base === 'debian') - Number(recipes.get(b)!.base === 'debian'),
    );
    for (const name of order) {
      const r = recipes.get(name)!;
      const built = await buildOne(recipes, name, cacheRoot, done);
      const config = imageConfig(r, built);
      const manifest = JSON.stringify({
        schemaVersion: 2,
        mediaType: MANIFEST_V2,
        config: {
          mediaType: 'application/vnd.docker.container.image.v1+json',
          size: Buffer.byteLength(config.json),
          digest: config.digest,
        },
        layers: built.layers.map((l) => ({
          mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
          size: l.size,
          digest: l.digest,
        })),
      });
      const manifestDigest = `sha256:${createHash('sha256').update(manifest).digest('hex')}`;
      const repo = `library/${r.repository}`;
      const present = await Promise.all(r.tags.map((t) => client.hasManifest(repo, t, manifestDigest)));
      if (present.every(Boolean)) continue;
      say(`${r.repository}: pushing ${built.layers.length} layer(s) and tags ${r.tags.join(', ')}`);
      for (const l of built.layers) await client.pushBlob(repo, l.digest, { file: l.file });
      await client.pushBlob(repo, config.digest, Buffer.from(config.json));
      for (const t of r.tags) await client.pushManifest(repo, t, manifest);
    }
    say(`ready: ${[...recipes.values()].map((r) => `${r.repository}:${r.tags[0]}`).join(', ')}`);
  } finally {
    await supervisor.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const dataDir = process.env.DOCKSIDE_DATA_DIR ?? '/var/lib/dockside';
  buildLessonImages(dataDir).catch((err) => {
    console.error(`lesson images: ${(err as Error).message}`);
    process.exit(1);
  });
}

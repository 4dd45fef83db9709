// The sandbox as an OCI image a cluster can pull: the base image's root filesystem (native/image/, built
// by build-base.sh) as one layer, dockside-agent and dockside-init as a second, and the agent's pod mode
// as the entrypoint. Built by `npm start`'s set-up and pushed to the local registry as
// `dockside/sandbox`, as the lesson images are (an operator copies it to the registry their nodes pull
// from, README "Running on Kubernetes"). Layers are cached by what they are made of, so a set-up with
// nothing changed pushes nothing.
import { createHash } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { writeDirectoryLayer, type Layer } from '../images/layerWriter';
import { MANIFEST_V2, RegistryClient } from '../images/registryClient';
import { NATIVE_BUILD_DIR } from '../paths';
import { registryPaths } from '../registry/paths';
import { registryAnswers } from '../registry/probe';
import { RegistrySupervisor } from '../registry/supervisor';

export const SANDBOX_REPOSITORY = 'dockside/sandbox';
const AGENT = '/usr/local/bin/dockside-agent';
const INIT = '/usr/local/sbin/dockside-init';

export type SandboxImageOptions = {
  dataDir: string;
  /** The root filesystem (default: the current base image of dataDir). */
  rootfs?: string;
  /** Built binaries (default: native/build). */
  binDir?: string;
  repository?: string;
  log?: (message: string) => void;
};

export type SandboxImage = { reference: string; digest: string; pushedBytes: number };

const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

/** A layer made once per `key` and kept in `cacheDir` (the layer file and its description). */
async function cachedLayer(cacheDir: string, key: string, make: (dir: string) => Promise<Layer>): Promise<Layer> {
  const index = path.join(cacheDir, `${key}.json`);
  if (existsSync(index)) {
    const layer = JSON.parse(readFileSync(index, 'utf8')) as Layer;
    if (existsSync(path.join(cacheDir, layer.file))) return layer;
  }
  const made = await make(cacheDir);
  const layer = { ...made, file: path.basename(made.file) };
  writeFileSync(index, JSON.stringify(layer));
  return layer;
}

export async function buildSandboxImage(opts: SandboxImageOptions): Promise<SandboxImage> {
  const log = opts.log ?? ((m: string) => console.log(`sandbox image: ${m}`));
  const rootfs = realpathSync(opts.rootfs ?? path.join(opts.dataDir, 'images', 'base', 'current', 'rootfs'));
  const binDir = opts.binDir ?? NATIVE_BUILD_DIR;
  const repository = opts.repository ?? SANDBOX_REPOSITORY;
  const cacheDir = path.join(opts.dataDir, 'images', 'sandbox');
  mkdirSync(cacheDir, { recursive: true });

  // The base image's real path names the hash of its recipe (images/base/<hash>/rootfs).
  const baseKey = `base-${sha256(rootfs).slice(0, 16)}`;
  const base = await cachedLayer(cacheDir, baseKey, (dir) => {
    log(`packing the base root filesystem ${rootfs} (once per base image)`);
    return writeDirectoryLayer(rootfs, dir);
  });
  const binaries = ['dockside-agent', 'dockside-init'].map((b) => readFileSync(path.join(binDir, b)));
  const toolsKey = `tools-${sha256(Buffer.concat(binaries)).slice(0, 16)}`;
  const tools = await cachedLayer(cacheDir, toolsKey, async (dir) => {
    const tree = mkdtempSync(path.join(dir, '.tools-'));
    try {
      for (const [file, at] of [
        ['dockside-agent', AGENT],
        ['dockside-init', INIT],
      ] as const) {
        mkdirSync(path.join(tree, path.dirname(at)), { recursive: true });
        copyFileSync(path.join(binDir, file), path.join(tree, at));
      }
      return await writeDirectoryLayer(tree, dir);
    } finally {
      rmSync(tree, { recursive: true, force: true });
    }
  });

  const layers = [base, tools];
  const config = JSON.stringify({
    architecture: 'amd64',
    os: 'linux',
    created: '1970-01-01T00:00:00Z',
    config: {
      Entrypoint: [AGENT, 'pod'],
      Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
      WorkingDir: '/workspace',
      Labels: { 'org.opencontainers.image.title': 'Dockside sandbox' },
    },
    rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
    history: [{ created_by: 'native/image: the sandbox base image' }, { created_by: 'dockside-agent, dockside-init' }],
  });
  const configDigest = `sha256:${sha256(config)}`;
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: MANIFEST_V2,
    config: {
      mediaType: 'application/vnd.docker.container.image.v1+json',
      size: Buffer.byteLength(config),
      digest: configDigest,
    },
    layers: layers.map((l) => ({
      mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
      size: l.size,
      digest: l.digest,
    })),
  });
  const digest = `sha256:${sha256(manifest)}`;
  const tag = digest.slice(7, 19);

  const paths = registryPaths(opts.dataDir);
  let supervisor: RegistrySupervisor | undefined;
  if (!(await registryAnswers(paths.pushSocket))) {
    supervisor = new RegistrySupervisor(opts.dataDir, { upstream: null, log: () => {} });
    await supervisor.start();
  }
  try {
    const client = new RegistryClient(paths.pushSocket);
    let pushedBytes = 0;
    if ((await client.manifestDigest(repository, 'latest')) !== digest) {
      for (const l of layers)
        pushedBytes += await client.pushBlob(repository, l.digest, { file: path.join(cacheDir, l.file) });
      pushedBytes += await client.pushBlob(repository, configDigest, Buffer.from(config));
      for (const t of [tag, 'latest']) await client.pushManifest(repository, t, manifest);
    }
    return { reference: `${repository}:${tag}`, digest, pushedBytes };
  } finally {
    await supervisor?.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const started = Date.now();
  buildSandboxImage({ dataDir: process.env.DOCKSIDE_DATA_DIR ?? '/var/lib/dockside' })
    .then((image) =>
      console.log(
        `sandbox image: ${image.reference} (also :latest) ready in ${((Date.now() - started) / 1000).toFixed(1)} s, ` +
          `${Math.round(image.pushedBytes / 1024 ** 2)} MB pushed`,
      ),
    )
    .catch((err: Error) => {
      console.error(`sandbox image: ${err.message}`);
      process.exit(1);
    });
}

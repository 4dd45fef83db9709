// The Docker client's proxy configuration in each sandbox (/root/.docker/config.json): the CLI passes
// it to every `docker build` as build args and to every `docker run` as environment, so learners type
// nothing. Written by the server when it prepares a sandbox, and only while egress is on.
import { FILE_EXIT, type Runtime } from '../engine/runtime';
import { PROXY_PORT } from './paths';

export const DOCKER_CONFIG_PATH = '/root/.docker/config.json';

/** Containers and build steps reach the sandbox through their bridge's gateway (daemon.json's "bip"). */
export const PROXY_URL = `http://172.17.0.1:${PROXY_PORT}`;

/** What containers reach directly: this machine's names and private networks (other containers). */
const NO_PROXY = ['localhost', '127.0.0.0/8', '::1', '10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16'];

export function dockerClientConfig(): string {
  const proxies = { default: { httpProxy: PROXY_URL, httpsProxy: PROXY_URL, noProxy: NO_PROXY.join(',') } };
  return JSON.stringify({ proxies }, null, 2) + '\n';
}

/** Writes the client configuration into a new sandbox, from outside: nothing of the sandbox's runs. */
export async function writeDockerClientConfig(runtime: Runtime, sandboxId: string): Promise<void> {
  const dir = DOCKER_CONFIG_PATH.slice(0, DOCKER_CONFIG_PATH.lastIndexOf('/'));
  const mkdir = await runtime.file(sandboxId, 'create', [dir, 'dir'], { under: '/' });
  if (mkdir.code !== 0 && mkdir.code !== FILE_EXIT.exists)
    throw new Error(`could not configure the sandbox's proxy: ${mkdir.stderr.trim()}`);
  const r = await runtime.file(sandboxId, 'write', [DOCKER_CONFIG_PATH], {
    under: '/',
    stdin: Buffer.from(dockerClientConfig()),
  });
  if (r.code !== 0) throw new Error(`could not configure the sandbox's proxy: ${r.stderr.trim()}`);
}

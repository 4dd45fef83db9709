import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { NextConfig } from 'next';
import { PHASE_PRODUCTION_BUILD } from 'next/constants';

// The lesson page's boot scripts, bundled before the build (scripts/build-boot.mjs): the socket's code,
// which the page inlines, and the terminal's address. Only in a build: in `next dev` the player opens its
// socket and terminal itself.
const bootDir = path.join(import.meta.dirname, '.boot');
function bootEnv(phase: string): Record<string, string> {
  const manifest = path.join(bootDir, 'manifest.json');
  if (phase !== PHASE_PRODUCTION_BUILD || !existsSync(manifest)) return {};
  const boot = JSON.parse(readFileSync(manifest, 'utf8')) as { socket: string; terminal: string };
  return {
    DOCKSIDE_BOOT_SOCKET_CODE: readFileSync(path.join(bootDir, boot.socket), 'utf8'),
    DOCKSIDE_BOOT_TERMINAL_SRC: `/_next/static/boot/${boot.terminal}`,
  };
}

export default function config(phase: string): NextConfig {
  return {
    // The lesson loader and the protocol are TypeScript source in sibling workspaces.
    transpilePackages: ['@dockside/lessons', '@dockside/protocol'],
    reactStrictMode: true,
    poweredByHeader: false,
    // The set-up builds beside the running app's build and swaps it in (scripts/setup.mjs): an upgrade
    // does not break the pages the old server is still serving.
    distDir: process.env.DOCKSIDE_WEB_BUILD_DIR ?? '.next',
    env: bootEnv(phase),
    turbopack: { root: path.resolve(import.meta.dirname, '..') },
  };
}

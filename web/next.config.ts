import path from 'node:path';
import type { NextConfig } from 'next';

const config: NextConfig = {
  // The lesson loader and the protocol are TypeScript source in sibling workspaces.
  transpilePackages: ['@dockside/lessons', '@dockside/protocol'],
  reactStrictMode: true,
  poweredByHeader: false,
  // The set-up builds beside the running app's build and swaps it in (scripts/setup.mjs): an upgrade
  // does not break the pages the old server is still serving.
  distDir: process.env.DOCKSIDE_WEB_BUILD_DIR ?? '.next',
  turbopack: { root: path.resolve(import.meta.dirname, '..') },
};

export default config;

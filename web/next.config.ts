import path from 'node:path';
import type { NextConfig } from 'next';

const config: NextConfig = {
  // The lesson loader and the protocol are TypeScript source in sibling workspaces.
  transpilePackages: ['@dockside/lessons', '@dockside/protocol'],
  reactStrictMode: true,
  poweredByHeader: false,
  turbopack: { root: path.resolve(import.meta.dirname, '..') },
};

export default config;

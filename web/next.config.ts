import path from 'node:path';
import type { NextConfig } from 'next';

const config: NextConfig = {
  // The lesson loader is TypeScript source in a sibling workspace.
  transpilePackages: ['@dockside/lessons'],
  reactStrictMode: true,
  poweredByHeader: false,
  turbopack: { root: path.resolve(import.meta.dirname, '..') },
};

export default config;

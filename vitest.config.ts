import { defineConfig } from 'vitest/config';

// unit: fast, no privileges. integration: real sandboxes, registry and databases (run as root).
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: [
            'server/src/**/*.test.ts',
            'lessons/**/*.test.ts',
            'protocol/**/*.test.ts',
            'web/**/*.test.ts',
            'web/**/*.test.tsx',
          ],
          exclude: ['**/node_modules/**'],
        },
      },
      {
        test: {
          name: 'integration',
          include: ['server/test/**/*.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 300_000,
          fileParallelism: false,
        },
      },
    ],
  },
});

import { builtinModules } from 'node:module';
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      '**/node_modules/**',
      '**/.next/**',
      'server/src/generated/**',
      'web/public/monaco/**',
      'web/.boot/**',
      'native/**',
      'web/next-env.d.ts',
      'test-results/**',
      'playwright-report/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  { languageOptions: { globals: globals.node } },
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  // The browser's code takes what it shares with the server from @dockside/protocol, never from server/:
  // a value imported from there would ship server code to the browser. (Packages' own `server` entry
  // points, `next/server` and `react-dom/server`, are no part of server/.)
  {
    files: ['web/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^[./].*(^|/)server(/|$)|^@dockside/server',
              message: 'web/ imports nothing of server/: shared types and helpers are in @dockside/protocol.',
            },
          ],
        },
      ],
    },
  },
  // The protocol runs in the browser and in the server: it imports neither, nor anything of Node.js.
  {
    files: ['protocol/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^[./].*(^|/)(server|web)(/|$)|^@dockside/(server|web)',
              message: 'protocol/ is shared by web/ and server/: it imports neither.',
            },
            {
              regex: `^node:|^(${builtinModules.join('|')})$`,
              message: 'protocol/ runs in the browser too: no Node.js modules.',
            },
          ],
        },
      ],
    },
  },
);

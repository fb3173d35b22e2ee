// @ts-check
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.tools/**', '.data/**'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // Workflow code is replayed: it must not reach for I/O or the wall clock.
    files: ['workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['node:*', 'fs', 'path', 'pg', 'child_process', 'http', 'https', 'crypto'], message: 'workflows must stay deterministic: do I/O in activities' },
            { group: ['../activities/*', '../activities/**'], message: 'import activity types only (import type)', allowTypeImports: true },
          ],
        },
      ],
    },
  },
);

import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import simpleImportSort from 'eslint-plugin-simple-import-sort';
import globals from 'globals';
import tseslint from 'typescript-eslint';

// What only the local embedded default uses (devDependencies, and the simulator behind `lakewatt simulate`):
// the Function App package ships neither (.funcignore, test/unit/infra/functionPackage.test.ts).
const LOCAL_ONLY = [
  { group: ['better-sqlite3', 'commander'], message: 'Only local/ uses this package (a devDependency).' },
  { group: ['**/simulator', '**/simulator/**'], message: 'The simulator does not ship to Azure.' },
];

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'node_modules/**',
      'coverage/**',
      '.venv/**',
      '.lakewatt/**',
      'databricks/**',
      'bin/**',
      '.tools/**',
      'bench/out/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { 'simple-import-sort': simpleImportSort },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/return-await': ['error', 'in-try-catch'],
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      eqeqeq: 'error',
      'simple-import-sort/imports': 'error',
      'simple-import-sort/exports': 'error',
    },
  },
  {
    // lib/ is pure: no Functions runtime, and nothing from the local embedded default.
    files: ['lib/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['@azure/functions', 'durable-functions'],
              message: 'lib/ must not import the Functions runtime.',
            },
            { group: ['**/local/**', '../local/*'], message: 'Production code never imports local/.' },
            ...LOCAL_ONLY,
          ],
        },
      ],
    },
  },
  {
    files: ['functions/**/*.ts', 'orchestrations/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['**/local/**', '../local/*'], message: 'Production code never imports local/.' },
            ...LOCAL_ONLY,
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.mjs', '**/*.cjs', '**/*.js'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: { globals: globals.node, parserOptions: { projectService: false, project: false } },
  },
  prettier,
);

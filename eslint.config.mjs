// Workspace lint: typescript-eslint with type information for shipped sources, Nx module
// boundaries by tag (core ← probes/sinks ← apps), no `throw` in package sources (the Status
// model), no `export *`, and awilix kept out of plugins.
import nx from '@nx/eslint-plugin';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', '**/coverage/**', '**/test/fixtures/**', '.nx/**', 'tmp/**'] },
  ...nx.configs['flat/base'],
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true }],
    },
  },
  {
    files: ['packages/*/src/**/*.ts', 'examples/*/src/**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      'no-restricted-syntax': [
        'error',
        { selector: 'ThrowStatement', message: 'Return a Status instead of throwing (see docs/status-codes.md).' },
        { selector: 'ExportAllDeclaration', message: 'Use named exports.' },
      ],
      '@nx/enforce-module-boundaries': [
        'error',
        {
          enforceBuildableLibDependency: false,
          allow: [],
          depConstraints: [
            { sourceTag: 'type:core', onlyDependOnLibsWithTags: [], bannedExternalImports: ['awilix', 'semver', 'reflect-metadata'] },
            { sourceTag: 'type:linux', onlyDependOnLibsWithTags: ['type:core'], bannedExternalImports: ['awilix', 'reflect-metadata'] },
            { sourceTag: 'type:probe', onlyDependOnLibsWithTags: ['type:core', 'type:linux'], bannedExternalImports: ['awilix', 'reflect-metadata'] },
            { sourceTag: 'type:sink', onlyDependOnLibsWithTags: ['type:core', 'type:linux'], bannedExternalImports: ['awilix', 'reflect-metadata'] },
            { sourceTag: 'type:agent', onlyDependOnLibsWithTags: ['type:core'], bannedExternalImports: ['reflect-metadata'] },
            { sourceTag: 'type:protocol', onlyDependOnLibsWithTags: ['type:core', 'type:agent'], bannedExternalImports: ['awilix', 'reflect-metadata'] },
            { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:core', 'type:linux', 'type:agent', 'type:protocol'], bannedExternalImports: ['awilix', 'reflect-metadata'] },
          ],
        },
      ],
    },
  },
  {
    files: ['**/test/**/*.ts', '**/*.test.ts', 'scripts/**'],
    rules: { '@typescript-eslint/no-non-null-assertion': 'off' },
  },
);

/**
 * One vitest config for the workspace, with a project per package. Workspace packages are
 * resolved to their TypeScript sources (the `@virtualeyes/source` export condition), so
 * unit tests need no build; end-to-end tests run the built binaries. The daemon's tests run
 * last and one file at a time: they compare the recording with `ps`, which other test
 * files' process churn (hundreds of short-lived children) would disturb.
 */
import { readdirSync, existsSync } from 'node:fs';
import { defineConfig } from 'vitest/config';

/** Every workspace package: the project's own, and the examples a third party would write. */
const packages = ['packages', 'examples'].flatMap((dir) =>
  readdirSync(dir)
    .filter((name) => existsSync(`${dir}/${name}/package.json`))
    .map((name) => ({ name, root: `${dir}/${name}` })),
);
const conditions = ['@virtualeyes/source', 'node', 'import', 'default'];
/** Projects that run after all others, alone and one file at a time. */
const LAST = new Set(['vwatchd']);

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions, externalConditions: conditions } },
  test: {
    clearMocks: true,
    restoreMocks: true,
    testTimeout: 30_000,
    hookTimeout: 60_000,
    projects: packages.map(({ name, root }) => ({
      extends: true,
      test: {
        name,
        root,
        include: ['test/**/*.test.ts'],
        sequence: { groupOrder: LAST.has(name) ? 1 : 0 },
        ...(LAST.has(name) ? { fileParallelism: false } : {}),
      },
    })),
  },
});

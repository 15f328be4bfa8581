/**
 * One vitest config for the workspace, with a project per package. Workspace packages are
 * resolved to their TypeScript sources (the `@virtualeyes/source` export condition), so
 * unit tests need no build; end-to-end tests run the built binaries. The daemon's tests run
 * after all others, two files at a time; the ones that compare the recording with `ps`, measure
 * the daemon (its memory, its counters) or bound its timing (write gaps, rows lost to SIGKILL)
 * run last and alone, as other test files' process churn and load would disturb them.
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
/** Projects that run after all others. */
const LAST = new Set(['vwatchd']);
/** Files of those that run last of all, one at a time, each alone. */
const ALONE = ['test/e2e.test.ts', 'test/tcp.test.ts', 'test/memory.test.ts', 'test/capacity.test.ts', 'test/perf-e2e.test.ts', 'test/attack.test.ts', 'test/crash.test.ts'];

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions, externalConditions: conditions } },
  test: {
    clearMocks: true,
    restoreMocks: true,
    testTimeout: 30_000,
    hookTimeout: 60_000,
    projects: packages.flatMap(({ name, root }) =>
      LAST.has(name)
        ? [
            { extends: true, test: { name, root, include: ['test/**/*.test.ts'], exclude: ALONE, sequence: { groupOrder: 1 } } },
            { extends: true, test: { name: `${name}-alone`, root, include: ALONE, sequence: { groupOrder: 2 }, fileParallelism: false } },
          ]
        : [{ extends: true, test: { name, root, include: ['test/**/*.test.ts'], sequence: { groupOrder: 0 } } }],
    ),
  },
});

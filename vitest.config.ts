/**
 * One vitest config for the workspace, with a project per package. Workspace packages are
 * resolved to their TypeScript sources (the `@virtualeyes/source` export condition), so
 * unit tests need no build; end-to-end tests run the built binaries. Files run two at a time.
 * The daemon's tests run after all others; the ones that compare the recording with `ps`,
 * measure the daemon's memory, bound its timing (write gaps, answers under hostile load, rows
 * lost to SIGKILL) or watch every fork on the host run last and alone, as other test files'
 * process churn and load would disturb them.
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
/**
 * Files that run last of all, one at a time, each alone: per package, in that order. The probe's
 * process events tests see every fork on the host, so other files' churn (probe-procfs's own
 * tests run two at a time before them) overruns their buffers and delays their children.
 */
const ALONE: Readonly<Record<string, readonly string[]>> = {
  vwatchd: ['test/e2e.test.ts', 'test/memory.test.ts', 'test/capacity.test.ts', 'test/attack.test.ts', 'test/crash.test.ts'],
  'probe-procfs': ['test/events/live.privileged.test.ts'],
};
/** Group order of each package's alone files: after the daemon's, and never two groups at once (projects of one group run together). */
const ALONE_ORDER: Readonly<Record<string, number>> = { vwatchd: 2, 'probe-procfs': 3 };

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions, externalConditions: conditions } },
  test: {
    clearMocks: true,
    restoreMocks: true,
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // vitest's default is one worker fewer than the CPUs: one on a 2-core CI machine, which ran
    // the whole suite file after file (656 s). Most files wait on daemons, timers and disks
    // rather than compute, so two at a time fit two cores.
    maxWorkers: 2,
    projects: packages.flatMap(({ name, root }) => {
      const alone = ALONE[name] ?? [];
      return [
        { extends: true, test: { name, root, include: ['test/**/*.test.ts'], exclude: alone, sequence: { groupOrder: LAST.has(name) ? 1 : 0 } } },
        ...(alone.length === 0 ? [] : [{ extends: true, test: { name: `${name}-alone`, root, include: alone, sequence: { groupOrder: ALONE_ORDER[name] ?? 2 }, fileParallelism: false } }]),
      ];
    }),
  },
});

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
import { BaseSequencer, type TestSpecification } from 'vitest/node';

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

/**
 * Files of the two-at-a-time groups that take 20 s or more (in a local run), started first in
 * their group. Vitest orders a group's files project by project (by name) and, with no timings
 * cached as on a fresh clone, largest file first, so virtualeyes' slice test (73 s) began last
 * and a worker idled while it ran; slow ones first leave short ones for the end.
 */
const SLOW = [
  'packages/virtualeyes/test/slice.test.ts',
  'packages/vwatchd/test/shutdown.test.ts',
  'packages/vwatchd/test/install.test.ts',
  'packages/vwatchd/test/lifetimes.test.ts',
  'packages/sink-duckdb/test/stage-crash.test.ts',
  'packages/sink-duckdb/test/retention.test.ts',
  'packages/sink-duckdb/test/change-only.test.ts',
  'packages/sink-duckdb/test/tiers.test.ts',
  'packages/sink-duckdb/test/slice.test.ts',
  'packages/agent/test/buffer-outage.test.ts',
];

/** Vitest's order, but within a group the files in SLOW first, in SLOW's order. */
class SlowFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const group = (file: TestSpecification): number => file.project.config.sequence.groupOrder;
    const rank = (file: TestSpecification): number => {
      const index = SLOW.findIndex((path) => file.moduleId.endsWith(`/${path}`));
      return index < 0 ? SLOW.length : index;
    };
    return sorted
      .map((file, index) => ({ file, index }))
      .sort((a, b) => group(a.file) - group(b.file) || rank(a.file) - rank(b.file) || a.index - b.index)
      .map(({ file }) => file);
  }
}

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
    sequence: { sequencer: SlowFirst },
    projects: packages.flatMap(({ name, root }) => {
      const alone = ALONE[name] ?? [];
      return [
        { extends: true, test: { name, root, include: ['test/**/*.test.ts'], exclude: alone, sequence: { groupOrder: LAST.has(name) ? 1 : 0 } } },
        ...(alone.length === 0 ? [] : [{ extends: true, test: { name: `${name}-alone`, root, include: alone, sequence: { groupOrder: ALONE_ORDER[name] ?? 2 }, fileParallelism: false } }]),
      ];
    }),
  },
});

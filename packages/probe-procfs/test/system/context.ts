/**
 * Helpers of the system group's tests: a GroupContext over any file reader and clock, the
 * collector built on it (with an injectable statfs), and one collection of some tables, each
 * with a real Budget (createBudget) on the given clock.
 */
import { createHooks, type Batch, type Clock, type FileReader, type PluginDeps, type Row } from '@virtualeyes/core';
import { createFakeClock, createFixtureReader, createMemoryLogger } from '@virtualeyes/core/testing';
import type { ProcfsOptions } from '../../src/config.js';
import { createBudget, type GroupCollector, type GroupContext, type GroupOutput } from '../../src/group.js';
import type { FsStats, StatfsFn } from '../../src/system/fs.js';
import { createSystemCollector } from '../../src/system/index.js';
import { SYSTEM_BUDGET_MS, SYSTEM_TABLES } from '../../src/system/tables.js';
import { stepDir, validOptions } from '../helpers.js';

/** Every system table name. */
export const SYSTEM_NAMES: readonly string[] = SYSTEM_TABLES.map((table) => table.name);

/** The host-b capture's folder. */
export const HOST_B = stepDir('system', 'host-b');

/** A reader over the host-b capture. */
export const hostB = (): FileReader => createFixtureReader(HOST_B);

/** A statfs answering every path with the same small filesystem, counting its calls. */
export function fixedStatfs(stats: FsStats = { bsize: 4096n, blocks: 1000n, bfree: 400n, bavail: 300n, files: 100n, ffree: 60n }): StatfsFn & { calls: string[] } {
  const calls: string[] = [];
  return Object.assign((path: string) => {
    calls.push(path);
    return Promise.resolve(stats);
  }, { calls });
}

const DEFAULTS = validOptions();

/** A collector over `files`, with `clock` and `statfs`. */
export function systemCollector(files: FileReader, options: { clock?: Clock; statfs?: StatfsFn; config?: ProcfsOptions } = {}): { collector: GroupCollector; clock: Clock } {
  const clock = options.clock ?? createFakeClock();
  const deps: PluginDeps = { name: 'procfs', clock, logger: createMemoryLogger(), files, hooks: createHooks(), host: 'test-host', dataDir: '/nonexistent', platform: 'linux' };
  const context: GroupContext = { config: options.config === undefined ? DEFAULTS : validOptions(options.config), deps, files, bootMs: () => undefined, processes: () => Promise.resolve([]) };
  return { collector: createSystemCollector({ context, ...(options.statfs === undefined ? {} : { statfs: options.statfs }) }), clock };
}

/** One collection of `tables`, each with its default budget (or `budgetMs`) measured on `monotonic`. */
export async function collectSystem(
  collector: GroupCollector,
  clock: Clock,
  tables: readonly string[] = SYSTEM_NAMES,
  budget: { ms?: number; monotonic?: () => number; signal?: AbortSignal } = {},
): Promise<GroupOutput> {
  const signal = budget.signal ?? new AbortController().signal;
  const budgets = new Map(tables.map((table) => [table, createBudget(budget.ms ?? SYSTEM_BUDGET_MS[table]!, signal, budget.monotonic ?? clock.monotonic)]));
  return collector.collect(new Set(tables), budgets, signal);
}

/** The rows of `table`'s batch, failing the test when there is none. */
export function rowsOf(batches: readonly Batch[], table: string): readonly Row[] {
  const batch = batches.find((candidate) => candidate.table === table);
  if (batch === undefined) throw new Error(`no ${table} batch`);
  return batch.rows;
}

/** A row's value as a number (bigints converted), for comparisons with oracles. */
export const num = (value: unknown): number => (typeof value === 'bigint' ? Number(value) : (value as number));

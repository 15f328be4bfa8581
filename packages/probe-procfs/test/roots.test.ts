/**
 * The acceptance test of the agent's `roots`: a real agent, loading this probe and probe-perf
 * by package name, with `roots` pointing at a captured fixture step, records exactly that
 * step's expected rows, and probe-perf reads its /sys files from the same fixture. This is how
 * vwatchd watches its host from a container (`HOST_PROC=/host/proc`).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAgent, type StatusCount } from '@virtualeyes/agent';
import type { Batch } from '@virtualeyes/core';
import { createFakeClock, createMemoryLogger } from '@virtualeyes/core/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { TABLES } from '../src/index.js';
import { ALL_TABLES, FIXTURES, plain, stepDir } from './helpers.js';

const REPO = join(FIXTURES, '..', '..', '..', '..');
/** Every table the capture has no files for, turned off. */
const CORE_ONLY = Object.fromEntries(TABLES.filter((table) => !(ALL_TABLES as readonly string[]).includes(table.name)).map((table) => [table.name, 0]));
const SINK = '@virtualeyes/core/testing/memory-sink';
const dataDir = mkdtempSync(join(tmpdir(), 've-procfs-roots-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

/** Runs one collection of both probes through an agent over `roots` (and `env`); what the sink was handed, and the statuses. */
async function recordOnce(roots: Record<string, string>, env: Record<string, string> = {}) {
  const created = await createAgent(
    {
      dataDir,
      host: 'fixture',
      // The capture holds the files of the core tables only; the group tables have their own fixtures.
      probes: [{ use: '@virtualeyes/probe-procfs', intervals: CORE_ONLY }, { use: '@virtualeyes/probe-perf', options: { events: ['cs'] } }],
      sinks: [{ use: SINK }],
      roots,
    },
    { resolveFrom: [REPO], env, clock: createFakeClock(Date.UTC(2026, 10, 22)), logger: createMemoryLogger('debug'), random: () => 0.5, platform: 'linux' },
  );
  if (!created.ok) throw new Error(created.status.message);
  const agent = created.value;
  expect(agent.boot.probes.map((probe) => probe.name).sort()).toEqual(['perf', 'procfs']);
  const seen: Batch[] = [];
  agent.hooks.beforeWrite.tap('test-capture', (_sink, batches) => void seen.push(...batches));
  await agent.start();
  await agent.collectOnce();
  const errors: readonly StatusCount[] = agent.status().errors;
  await agent.stop();
  return { seen, errors };
}

describe.skipIf(process.platform !== 'linux')('an agent with roots at a captured host', () => {
  const dir = stepDir('host-a', 'step0');
  const expected = JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8')) as Record<string, unknown[]>;

  it.each([
    ['config roots', { proc: join(dir, 'proc'), sys: join(dir, 'sys'), etc: join(dir, 'etc') }, {}],
    ['HOST_PROC, HOST_SYS and HOST_ETC', {}, { HOST_PROC: join(dir, 'proc'), HOST_SYS: join(dir, 'sys'), HOST_ETC: join(dir, 'etc') }],
  ])('records the fixture rows of every procfs table through %s, and perf reads the same /sys', async (_how, roots, env) => {
    const { seen, errors } = await recordOnce(roots, env);
    for (const table of ALL_TABLES) {
      const rows = seen.filter((batch) => batch.table === table).flatMap((batch) => batch.rows);
      expect(plain(rows), table).toEqual(expected[table]);
    }
    expect(errors.filter((status) => status.source === 'procfs')).toEqual([]);
    // The capture has no CPU list or numastat: perf says so, naming the fixture's sysfs, not the host's.
    const online = errors.find((status) => status.source === 'perf' && status.op === 'read /sys/devices/system/cpu/online');
    expect(online?.lastMessage).toContain(`(is ${join(dir, 'sys')} mounted there?)`);
    const numastat = errors.find((status) => status.source === 'perf' && status.op === 'read /sys/devices/system/node/node0/numastat');
    expect(numastat?.code).toBe('NOT_FOUND');
    expect(seen.filter((batch) => batch.table === 'perf_numa').flatMap((batch) => batch.rows)).toEqual([]);
  });
});

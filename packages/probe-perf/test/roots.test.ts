/**
 * The acceptance test of the agent's `roots` for this probe: a real agent loading it by package
 * name, with `roots` (or HOST_PROC and HOST_SYS) at the vm-2cpu capture, records that capture's
 * NUMA statistics, and opens per-CPU counters on the capture's online CPUs, not this host's.
 */
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAgent } from '@virtualeyes/agent';
import type { Batch, Row } from '@virtualeyes/core';
import { createFakeClock, createMemoryLogger } from '@virtualeyes/core/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { FIXTURES, IS_ROOT, PACKAGE } from './helpers.js';

const REPO = join(PACKAGE, '..', '..');
const CASE = join(FIXTURES, 'vm-2cpu');
const tmp = mkdtempSync(join(tmpdir(), 've-perf-roots-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const linux = process.platform === 'linux';

/** One collection through an agent over `roots` (and `env`): the rows of each table the sink was handed. */
async function recordOnce(roots: Record<string, string>, env: Record<string, string> = {}) {
  const created = await createAgent(
    {
      dataDir: join(tmp, 'data'),
      host: 'fixture',
      probes: [{ use: '@virtualeyes/probe-perf', options: { events: ['cs'] } }],
      sinks: [{ use: '@virtualeyes/core/testing/memory-sink' }],
      roots,
    },
    { resolveFrom: [REPO], env, clock: createFakeClock(Date.UTC(2026, 10, 22)), logger: createMemoryLogger('debug'), random: () => 0.5, platform: 'linux' },
  );
  if (!created.ok) throw new Error(created.status.message);
  const agent = created.value;
  expect(agent.boot.probes.map((probe) => probe.name)).toEqual(['perf']);
  const seen: Batch[] = [];
  agent.hooks.beforeWrite.tap('test-capture', (_sink, batches) => void seen.push(...batches));
  expect((await agent.start()).code).toBe('OK');
  await agent.collectOnce();
  await agent.stop();
  return (table: string): Row[] => seen.filter((batch) => batch.table === table).flatMap((batch) => batch.rows);
}

const CAPTURED_NUMA = [
  {
    node: 0,
    numa_hit: 445114861,
    numa_miss: 0,
    numa_foreign: 0,
    interleave_hit: 1137,
    local_node: 445114861,
    other_node: 0,
    node_loads: null,
    node_load_misses: null,
  },
];

describe.skipIf(!linux)('an agent with roots at the vm-2cpu capture', () => {
  it.each([
    ['config roots', { proc: join(CASE, 'proc'), sys: join(CASE, 'sys') }, {}],
    ['HOST_PROC and HOST_SYS', {}, { HOST_PROC: join(CASE, 'proc'), HOST_SYS: join(CASE, 'sys') }],
  ])('records the captured numastat of node0 through %s', async (_how, roots, env) => {
    const rows = await recordOnce(roots, env);
    expect(rows('perf_numa')).toEqual(CAPTURED_NUMA);
  });

  it.skipIf(!IS_ROOT)('opens per-CPU counters on the online CPUs the root lists (root only: system-wide counters need it)', async () => {
    const sys = join(tmp, 'one-cpu', 'sys');
    cpSync(join(CASE, 'sys'), sys, { recursive: true });
    writeFileSync(join(sys, 'devices', 'system', 'cpu', 'online'), '0\n');
    const rows = await recordOnce({ proc: join(CASE, 'proc'), sys });
    expect(rows('perf_cpu').map((row) => row.cpu)).toEqual([0]);
    expect(rows('perf_numa')).toEqual(CAPTURED_NUMA);
  });
});

// `virtualeyes query --step` and the rates views from the command line: how --step becomes the
// request's stepMs (and when it is refused), that vwatchd's API schema lets it through, and the
// whole CLI (runCli, offline) over a real DuckDB store of probe-procfs's cpu table: per-minute
// buckets with rates, and cpu_rates at an instant.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOptionsValidator } from '@virtualeyes/core';
import { createFakeClock, createTestDeps } from '@virtualeyes/core/testing';
import { TABLES } from '@virtualeyes/probe-procfs';
import { QUERY_REQUEST_SCHEMA } from '@virtualeyes/protocol';
import { createSink, parseConfig } from '@virtualeyes/sink-duckdb';
import { buildRequest, runCli } from '../src/index.js';

const T0 = Date.parse('2026-11-22T05:00:00Z');
const MINUTE = 60_000;

describe('--step', () => {
  const base = { staleness: '5m', timeout: '30s', maxRows: '100' };
  const now = T0;

  it('becomes stepMs of a range request, which the API schema accepts', () => {
    const built = buildRequest('select 1', { ...base, from: '1h ago', step: '1m' }, now);
    expect(built.ok && built.value).toMatchObject({ from: now - 3_600_000, to: now, stepMs: MINUTE });
    expect(createOptionsValidator().validate(QUERY_REQUEST_SCHEMA, built.ok ? built.value : null).ok).toBe(true);
    expect(createOptionsValidator().validate(QUERY_REQUEST_SCHEMA, { sql: 'select 1', stepMs: 999 }).ok).toBe(false);
  });

  it.each([
    [{ step: '1m' }, '--step needs --from'],
    [{ at: 'now', step: '1m' }, '--step buckets a range: use --from/--to, not --at'],
    [{ from: '1h ago', step: '500ms' }, "--step must be at least 1s, got '500ms'"],
    [{ from: '1h ago', step: 'soon' }, "cannot read duration 'soon': expected a duration like 90s, 5m or 1h30m, or 0"],
  ])('refuses %j', (options, message) => {
    const built = buildRequest('select 1', { ...base, ...options }, now);
    expect(built.ok ? '' : built.status.message).toBe(message);
  });
});

describe('query --step over a store', () => {
  const dir = mkdtempSync(join(tmpdir(), 've-step-'));

  /** Runs the CLI on this store, offline. */
  const cli = async (...args: string[]) => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runCli(['node', 'virtualeyes', '--data-dir', dir, '--socket', join(dir, 'none.sock'), ...args], {
      out: (text) => out.push(text),
      err: (text) => err.push(text),
      now: () => T0 + 10 * MINUTE,
    });
    return { code, out: out.join(''), err: err.join('') };
  };

  beforeAll(async () => {
    const parsed = parseConfig({ path: join(dir, 'vwatchd.db') });
    if (!parsed.ok) throw new Error(parsed.status.message);
    const created = createSink(parsed.value, createTestDeps({ host: 'vm', clock: createFakeClock(T0 + 10 * MINUTE) }));
    if (!created.ok) throw new Error(created.status.message);
    const sink = created.value;
    expect((await sink.start({ tables: TABLES })).code).toBe('OK');
    // Two minutes at 1 Hz: cpu 'all' spends 300 ms a second in user mode the first minute, 600 the second.
    for (let second = 0; second < 120; second += 1) {
      const user = second < 60 ? 300 * second : 300 * 59 + 600 * (second - 59);
      const row = { cpu: 'all', user, nice: 0, system: 100 * second, idle: 1000 * second, iowait: 0, irq: 0, softirq: 0, steal: null, guest: null, guest_nice: null };
      expect((await sink.write([{ table: 'cpu', ts: T0 + second * 1000, snapshot: true, rows: [row] }])).status.code).toBe('OK');
    }
    await sink.close();
  });

  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('prints one row per minute with the rates of the counters', async () => {
    const from = new Date(T0).toISOString();
    const to = new Date(T0 + 2 * MINUTE - 1).toISOString();
    const { code, out, err } = await cli('query', '--from', from, '--to', to, '--step', '1m', '--json', 'select ts, samples, user, user_rate, system_rate from cpu order by ts');
    expect([code, err]).toEqual([0, '']);
    expect(JSON.parse(out)).toEqual([
      { ts: new Date(T0).toISOString(), samples: 60, user: 300 * 59, user_rate: 300, system_rate: 100 },
      // The second minute's rate starts from the last sample of the first.
      { ts: new Date(T0 + MINUTE).toISOString(), samples: 60, user: 300 * 59 + 600 * 60, user_rate: 600, system_rate: 100 },
    ]);
  });

  it('reads cpu_rates at an instant', async () => {
    const { code, out } = await cli('query', '--at', new Date(T0 + 90_000).toISOString(), '--json', 'select interval_s, user, idle from cpu_rates');
    expect(code).toBe(0);
    expect(JSON.parse(out)).toEqual([{ interval_s: 1, user: 600, idle: 1000 }]);
  });

  it('refuses too fine a step for the range, with exit code 2', async () => {
    const { code, err } = await cli('query', '--from', new Date(T0 - 86_400_000).toISOString(), '--to', new Date(T0).toISOString(), '--step', '1s', 'select * from cpu');
    expect(code).toBe(2);
    expect(err).toBe('virtualeyes: stepMs 1000 cuts the range into 86401 buckets, more than 10000: use a longer step or a shorter range\n');
  });
});

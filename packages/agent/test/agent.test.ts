import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { createAgent, type Agent } from '../src/index.js';
import type { Batch, Status } from '@virtualeyes/core';
import { createFakeClock, createMemoryLogger } from '@virtualeyes/core/testing';

const fixtures = fileURLToPath(new URL('./fixtures/plugins/', import.meta.url));
const START = Date.UTC(2026, 0, 1);
const dataRoot = mkdtempSync(join(tmpdir(), 've-agent-test-'));
afterAll(() => rmSync(dataRoot, { recursive: true, force: true }));
let dataDirs = 0;

async function agentWith(config: Record<string, unknown>, options: { clock?: ReturnType<typeof createFakeClock>; flushTimeoutMs?: number } = {}) {
  const clock = options.clock ?? createFakeClock(START);
  const logger = createMemoryLogger('debug', 'vwatchd');
  // Each agent its own data directory, so spill files of one test never reach another.
  const dataDir = join(dataRoot, `agent-${(dataDirs += 1)}`);
  const created = await createAgent({ dataDir, host: 'test-host', scheduler: { jitterMs: 0 }, ...config }, {
    clock,
    logger,
    resolveFrom: [fixtures],
    random: () => 0.5,
    ...(options.flushTimeoutMs === undefined ? {} : { flushTimeoutMs: options.flushTimeoutMs }),
  });
  if (!created.ok) throw new Error(created.status.message);
  return { agent: created.value, clock, logger };
}

function capture(agent: Agent): Batch[] {
  const seen: Batch[] = [];
  agent.hooks.beforeWrite.tap('test-capture', (_sink, batches) => void seen.push(...batches));
  return seen;
}

describe('createAgent', () => {
  it('rejects invalid config with INVALID_CONFIG naming the JSON path', async () => {
    const created = await createAgent({ dataDir: '/x', probes: [{ use: 'p', intervals: { t: -1 } }] });
    expect(created.ok).toBe(false);
    if (!created.ok) expect(created.status).toMatchObject({ code: 'INVALID_CONFIG', message: '$.probes[0].intervals.t: must be >= 0' });
  });

  it('collects on schedule and writes through the buffer into the sink', async () => {
    const { agent, clock } = await agentWith({
      probes: [{ use: './probe-counter.mjs' }],
      sinks: [{ use: './sink-memory.mjs' }],
    });
    const seen = capture(agent);
    expect((await agent.start()).code).toBe('OK');
    await clock.advance(4000);
    const ticks = seen.filter((b) => b.table === 'ticks');
    const things = seen.filter((b) => b.table === 'things');
    expect(ticks.map((b) => b.ts - START)).toEqual([0, 1000, 2000, 3000, 4000]);
    expect(things.map((b) => b.ts - START)).toEqual([0, 2000, 4000]);
    const status = agent.status();
    expect(status.host).toBe('test-host');
    expect(status.sinks[0]).toMatchObject({ sink: 'memory', writtenRows: 8, rowsWritten: 8, droppedRows: 0 });
    expect(status.tables.find((t) => t.table === 'ticks')).toMatchObject({ runs: 5, rows: 5 });
    expect((await agent.stop()).code).toBe('OK');
  });

  it('applies per-table intervals from config, 0 turning a table off', async () => {
    const { agent, clock } = await agentWith({
      probes: [{ use: './probe-counter.mjs', intervals: { ticks: 500, things: 0 } }],
      sinks: [{ use: './sink-memory.mjs' }],
    });
    const seen = capture(agent);
    await agent.start();
    await clock.advance(1000);
    expect(seen.map((b) => b.table)).toEqual(['ticks', 'ticks', 'ticks']);
    await agent.stop();
  });

  it('runs the afterCollect waterfall as a processor stage', async () => {
    const { agent, clock } = await agentWith({ probes: [{ use: './probe-counter.mjs' }], sinks: [{ use: './sink-memory.mjs' }] });
    agent.hooks.afterCollect.tap('drop-things', (batches) => batches.filter((b) => b.table !== 'things'));
    const seen = capture(agent);
    await agent.start();
    await clock.advance(2000);
    expect(new Set(seen.map((b) => b.table))).toEqual(new Set(['ticks']));
    await agent.stop();
  });

  it('keeps running when a tap throws, reporting a Status that names the tap', async () => {
    const { agent, clock } = await agentWith({ probes: [{ use: './probe-counter.mjs' }], sinks: [{ use: './sink-memory.mjs' }] });
    const statuses: Status[] = [];
    agent.hooks.status.tap('collector', (status) => void statuses.push(status));
    agent.hooks.afterCollect.tap('faulty-processor', () => {
      throw new Error('processor bug');
    });
    await agent.start();
    await clock.advance(1000);
    expect(statuses.some((s) => s.source === 'faulty-processor' && s.op === 'afterCollect')).toBe(true);
    expect(agent.status().sinks[0]!.writtenRows).toBeGreaterThan(0);
    expect(agent.status().errors.find((e) => e.source === 'faulty-processor')?.count).toBeGreaterThan(0);
    await agent.stop();
  });

  it('counts probe failures by code and backs off; a throwing collect is INTERNAL', async () => {
    const { agent, clock } = await agentWith({
      probes: [
        { use: './probe-counter.mjs', name: 'perm', options: { failWith: 'PERMISSION_DENIED' }, intervals: { things: 0 } },
      ],
      sinks: [{ use: './sink-memory.mjs' }],
    });
    await agent.start();
    await clock.advance(10_000);
    const errors = agent.status().errors;
    expect(errors.find((e) => e.source === 'perm')).toMatchObject({ code: 'PERMISSION_DENIED' });
    // With backoff (1, 2, 4, 8 s) far fewer than 11 runs happen in 10 s.
    expect(agent.status().tables[0]!.runs).toBeLessThan(6);
    await agent.stop();

    const thrower = await agentWith({ probes: [{ use: './probe-counter.mjs', options: { failWith: 'throw' } }], sinks: [{ use: './sink-memory.mjs' }] });
    await thrower.agent.start();
    await thrower.clock.advance(0);
    expect(thrower.agent.status().errors[0]).toMatchObject({ source: 'counter', code: 'INTERNAL', lastMessage: 'collect exploded' });
    await thrower.agent.stop();
  });

  it('buffers through a sink outage and loses nothing', async () => {
    const { agent, clock } = await agentWith({
      probes: [{ use: './probe-counter.mjs', intervals: { things: 0 } }],
      sinks: [{ use: './sink-memory.mjs', options: { failFirst: 3 } }],
    });
    await agent.start();
    await clock.advance(10_000);
    const sink = agent.status().sinks[0]!;
    expect(sink).toMatchObject({ writtenRows: 11, droppedRows: 0, queuedBatches: 0 });
    expect(sink.retries).toBe(3);
    await agent.stop();
  });

  it('retries a sink start that failed retryably, and gives up at once on a permanent failure', async () => {
    const { agent, clock } = await agentWith({
      probes: [{ use: './probe-counter.mjs' }],
      sinks: [{ use: './sink-memory.mjs', options: { failStarts: 3 } }],
    });
    const starting = agent.start();
    await clock.advance(2000);
    expect((await starting).code).toBe('OK');
    await clock.advance(1000);
    expect(agent.status().sinks[0]!.writtenRows).toBeGreaterThan(0);
    await agent.stop();

    const broken = await agentWith({
      probes: [{ use: './probe-counter.mjs' }],
      sinks: [{ use: './sink-memory.mjs', options: { failStarts: 1, startCode: 'PERMISSION_DENIED' } }],
    });
    expect(await broken.agent.start()).toMatchObject({ code: 'PERMISSION_DENIED', source: 'memory', op: 'start' });
    expect(broken.agent.status().sinks).toEqual([]);
    await broken.agent.stop();
  });

  it('keeps the partial rows of a collection that timed out, and reports the TIMEOUT', async () => {
    const { agent, clock } = await agentWith({
      probes: [{ use: './probe-counter.mjs', options: { slowMs: 60_000 }, intervals: { things: 0 } }],
      sinks: [{ use: './sink-memory.mjs' }],
      scheduler: { jitterMs: 0, timeoutMs: 500 },
    });
    const seen = capture(agent);
    await agent.start();
    await clock.advance(600);
    expect(seen).toEqual([expect.objectContaining({ table: 'ticks', snapshot: false, rows: [{ n: -1 }] })]);
    expect(agent.status().errors).toEqual([expect.objectContaining({ source: 'counter', code: 'TIMEOUT' })]);
    expect(agent.status().tables[0]).toMatchObject({ timeouts: 1, rows: 1 });
    await agent.stop();
  });

  it('counts failing statuses per source, code and op, folding ops past the cap into one entry', async () => {
    const { agent, clock } = await agentWith({
      probes: [{ use: './probe-counter.mjs', options: { distinctOps: 300 }, intervals: { things: 0 } }],
      sinks: [{ use: './sink-memory.mjs' }],
    });
    await agent.start();
    await clock.advance(1000);
    const errors = agent.status().errors;
    expect(errors).toHaveLength(257);
    expect(errors[0]).toMatchObject({ source: 'counter', code: 'UNSUPPORTED', op: 'open event-0', count: 2, lastMessage: 'event 0 missing' });
    expect(errors.find((e) => e.op === '*')).toMatchObject({ code: 'UNSUPPORTED', count: 2 * 44 });
    await agent.stop();
  });

  it('does not poll a probe whose start failed', async () => {
    const { agent, clock } = await agentWith({
      probes: [{ use: './probe-counter.mjs', options: { failStart: true } }],
      sinks: [{ use: './sink-memory.mjs' }],
    });
    await agent.start();
    await clock.advance(10_000);
    const status = agent.status();
    expect(status.tables).toEqual([]);
    expect(status.errors).toEqual([expect.objectContaining({ source: 'counter', code: 'PERMISSION_DENIED', count: 1, lastMessage: 'no access to the counter' })]);
    await agent.stop();
  });

  it('starts with the other plugins when one is missing, and stops idempotently', async () => {
    const { agent, clock } = await agentWith({
      probes: [{ use: '@virtualeyes/probe-nope' }, { use: './probe-counter.mjs' }],
      sinks: [{ use: './sink-memory.mjs' }],
    });
    expect(agent.boot.entries.map((e) => e.status.code)).toEqual(['NOT_FOUND', 'OK', 'OK']);
    expect(agent.bootTree()).toContain("probe @virtualeyes/probe-nope (@virtualeyes/probe-nope) NOT_FOUND: package '@virtualeyes/probe-nope' is not installed");
    await agent.start();
    await clock.advance(1000);
    expect(agent.status().sinks[0]!.writtenRows).toBeGreaterThan(0);
    const [a, b] = await Promise.all([agent.stop(), agent.stop()]);
    expect([a.code, b.code]).toEqual(['OK', 'OK']);
  });

  it('collectOnce collects every polled table now and writes it', async () => {
    const { agent, clock } = await agentWith({ probes: [{ use: './probe-counter.mjs' }], sinks: [{ use: './sink-memory.mjs' }] });
    const seen = capture(agent);
    await agent.start();
    await clock.advance(0);
    seen.length = 0;
    expect((await agent.collectOnce()).code).toBe('OK');
    expect(seen.map((b) => b.table).sort()).toEqual(['things', 'ticks']);
    await agent.stop();
  });

  it('drops (and reports) batches of tables a probe did not declare', async () => {
    const { agent, clock } = await agentWith({
      probes: [{ use: './probe-counter.mjs', options: { emitUndeclared: true } }],
      sinks: [{ use: './sink-memory.mjs' }],
    });
    const seen = capture(agent);
    await agent.start();
    await clock.advance(0);
    expect(seen.map((b) => b.table).sort()).toEqual(['things', 'ticks']);
    expect(agent.status().errors).toEqual([
      expect.objectContaining({ source: 'counter', code: 'INVALID_ARGUMENT', lastMessage: "emitted undeclared table 'undeclared'" }),
    ]);
    expect(agent.status().rejected).toEqual([expect.objectContaining({ probe: 'counter', table: 'undeclared', rows: 1 })]);
    await agent.stop();
  });

  it('drops a row that does not match its schema alone, and counts it against its probe by name', async () => {
    const { agent, clock } = await agentWith({
      probes: [{ use: './probe-counter.mjs', name: 'mixed', options: { goodAndBad: 100 }, intervals: { things: 0 } }],
      sinks: [{ use: './sink-memory.mjs' }],
    });
    const seen = capture(agent);
    await agent.start();
    await clock.advance(0);
    expect(seen.map((batch) => [batch.table, batch.rows.length])).toEqual([['ticks', 99]]);
    expect(seen[0]!.rows.every((row) => typeof row.n === 'number')).toBe(true);
    expect(agent.status().sinks[0]).toMatchObject({ writtenRows: 99 });
    expect(agent.status().rejected).toEqual([{ probe: 'mixed', table: 'ticks', rows: 1, lastMessage: 'dropped 1 of 100 rows of ticks: ticks.n should be int64, got "many"' }]);
    expect(agent.status().errors).toEqual([expect.objectContaining({ source: 'mixed', code: 'INVALID_ARGUMENT', op: 'validate', count: 1 })]);
    await clock.advance(1000);
    expect(agent.status().rejected[0]!.rows).toBe(2);
    await agent.stop();
  });

  it("passes an event batch's per-row times through, keeps them beside the rows it keeps, and drops a batch whose times do not fit", async () => {
    const collectOnce = async (options: Record<string, unknown>) => {
      const { agent, clock } = await agentWith({ probes: [{ use: './probe-beeps.mjs', options }], sinks: [{ use: './sink-memory.mjs' }] });
      const seen = capture(agent);
      await agent.start();
      await clock.advance(0);
      const rejected = agent.status().rejected;
      await agent.stop();
      return { seen, rejected, now: clock.now() };
    };
    const timed = await collectOnce({ ages: [30, 20.5, 0] });
    expect(timed.seen).toMatchObject([{ table: 'beeps', ts: timed.now, rows: [{ n: 0 }, { n: 1 }, { n: 2 }], times: [timed.now - 30, timed.now - 20.5, timed.now] }]);
    expect(timed.rejected).toEqual([]);
    // The row that failed its schema went with its time; the others kept theirs.
    const oneBad = await collectOnce({ ages: [30, 20, 10], badIndex: 1 });
    expect(oneBad.seen).toMatchObject([{ rows: [{ n: 0 }, { n: 2 }], times: [oneBad.now - 30, oneBad.now - 10] }]);
    expect(oneBad.rejected).toEqual([expect.objectContaining({ probe: 'beeps', rows: 1 })]);
    const misfit = await collectOnce({ ages: [5], extraTime: true });
    expect(misfit.seen).toEqual([]);
    expect(misfit.rejected).toEqual([{ probe: 'beeps', table: 'beeps', rows: 1, lastMessage: 'dropped 1 rows of beeps: beeps: 2 per-row times for 1 rows' }]);
  });

  it('refuses per-row times on a metric table, even when a hook added them', async () => {
    const { agent, clock } = await agentWith({ probes: [{ use: './probe-counter.mjs', intervals: { things: 0 } }], sinks: [{ use: './sink-memory.mjs' }] });
    agent.hooks.afterCollect.tap('stamp-rows', (batches) => batches.map((batch) => ({ ...batch, times: batch.rows.map(() => batch.ts) })));
    const seen = capture(agent);
    await agent.start();
    await clock.advance(0);
    expect(seen).toEqual([]);
    expect(agent.status().rejected).toEqual([
      { probe: 'counter', table: 'ticks', rows: 1, lastMessage: 'dropped 1 rows of ticks: ticks: per-row times are for event and state tables, not metric tables' },
    ]);
    await agent.stop();
  });

  it('stop() during a start that is retrying ends the retries at once and polls nothing', async () => {
    const { agent, clock } = await agentWith({
      probes: [{ use: './probe-counter.mjs' }],
      sinks: [{ use: './sink-memory.mjs', options: { failStarts: 1000 } }],
    });
    const starting = agent.start();
    await clock.advance(1000);
    const stopping = agent.stop();
    await clock.settle();
    expect((await stopping).code).toBe('OK');
    expect(await starting).toMatchObject({ code: 'UNAVAILABLE', source: 'memory', op: 'start' });
    expect((await starting).message).toContain('start abandoned: stopping');
    expect(agent.status().tables.every((table) => table.runs === 0)).toBe(true);
    expect(agent.stopReport()).toMatchObject({ writtenRows: 0, spilledRows: 0, droppedRows: 0, unclosed: [] });
    expect((await agent.start()).message).toContain('stopping');
  });

  it('spills what the flush deadline left unwritten, and the next agent on the data directory writes it first, in order', async () => {
    const clock = createFakeClock(START);
    const config = { probes: [{ use: './probe-counter.mjs', intervals: { things: 0 } }] };
    const { agent } = await agentWith({ ...config, sinks: [{ use: './sink-memory.mjs', options: { failFirst: 1_000_000 } }] }, { clock, flushTimeoutMs: 2000 });
    const dataDir = agent.config.dataDir;
    await agent.start();
    await clock.advance(4000);
    const stopping = agent.stop();
    await clock.advance(2500);
    await stopping;
    const report = agent.stopReport()!;
    expect(report).toMatchObject({ writtenRows: 0, spilledRows: 5, droppedRows: 0, unclosed: [] });
    expect(readdirSync(join(dataDir, 'spill', 'memory')).length).toBeGreaterThan(0);

    const created = await createAgent(
      { ...config, dataDir, host: 'test-host', scheduler: { jitterMs: 0 }, sinks: [{ use: './sink-memory.mjs' }] },
      { clock, logger: createMemoryLogger('debug', 'vwatchd'), resolveFrom: [fixtures], random: () => 0.5 },
    );
    if (!created.ok) throw new Error(created.status.message);
    const next = created.value;
    const seen = capture(next);
    await next.start();
    await clock.advance(1000);
    // The five spilled ticks (t = 0..4 s) first, then the new ones, collected from t = 6.5 s on.
    const times = seen.map((b) => b.ts - START);
    expect(times.slice(0, 5)).toEqual([0, 1000, 2000, 3000, 4000]);
    expect(times.length).toBeGreaterThan(5);
    expect(times.slice(5).every((ts) => ts >= 6500)).toBe(true);
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(next.status().sinks[0]).toMatchObject({ replayedRows: 5, spillPendingRows: 0, droppedRows: 0 });
    const done = next.stop();
    await clock.advance(100);
    await done;
    expect(next.stopReport()).toMatchObject({ spilledRows: 0, droppedRows: 0 });
    expect(existsSync(join(dataDir, 'spill', 'memory')) ? readdirSync(join(dataDir, 'spill', 'memory')) : []).toEqual([]);
  });

  it('spillNow() puts every queue on disk synchronously, for an exit that cannot wait', async () => {
    const { agent, clock } = await agentWith({
      probes: [{ use: './probe-counter.mjs', intervals: { things: 0 } }],
      sinks: [{ use: './sink-memory.mjs', options: { failFirst: 1_000_000 } }],
    });
    await agent.start();
    await clock.advance(2000);
    const report = agent.spillNow();
    expect(report).toMatchObject({ spilledRows: 3, droppedRows: 0 });
    expect(report.status.code).toBe('UNAVAILABLE');
    expect(agent.status().sinks[0]).toMatchObject({ queuedBatches: 0, spilledRows: 3 });
    const stopping = agent.stop();
    await clock.advance(6000);
    await stopping;
  });
});

import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createAgent, type Agent, type Batch, type Status } from '../src/index.js';
import { createFakeClock, createMemoryLogger } from '../src/testing/index.js';

const fixtures = fileURLToPath(new URL('./fixtures/plugins/', import.meta.url));
const START = Date.UTC(2026, 0, 1);

async function agentWith(config: Record<string, unknown>) {
  const clock = createFakeClock(START);
  const logger = createMemoryLogger('debug', 'vwatchd');
  const created = await createAgent({ dataDir: '/tmp/ve-agent-test', host: 'test-host', scheduler: { jitterMs: 0 }, ...config }, {
    clock,
    logger,
    resolveFrom: [fixtures],
    random: () => 0.5,
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
    await agent.stop();
  });
});

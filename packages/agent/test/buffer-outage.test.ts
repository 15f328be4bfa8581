// The acceptance check on real files: a sink down for 10 minutes of fake time while
// about 200 MB of batches arrive. Memory stays under its bound, batches spill and come back in
// order with none lost, a restart (graceful or a crash) loses nothing that was on disk, and past
// the spill limit the drops are counted by reason and reported.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createSinkBuffer, DEFAULT_BUFFER, type BufferConfig, type SinkBuffer } from '../src/index.js';
import { fail, OK, type Batch, type Sink, type Status } from '@virtualeyes/core';
import { createFakeClock, type FakeClock } from '@virtualeyes/core/testing';
import { createSpillStore } from '../src/spill.js';

const root = mkdtempSync(join(tmpdir(), 've-outage-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const MIB = 1024 * 1024;
const OUTAGE_MS = 10 * 60 * 1000;
/** One batch a second for the outage: 600 batches of about 350 KB, some 210 MB in all. */
const SECONDS = OUTAGE_MS / 1000;
const ROWS = 340;
const PAYLOAD = 'x'.repeat(1000);
const batch = (n: number): Batch => ({ table: 'load', ts: n, snapshot: false, rows: Array.from({ length: ROWS }, (_, i) => ({ n, i, payload: PAYLOAD })) });
const config: BufferConfig = { ...DEFAULT_BUFFER, maxBytes: 16 * MIB, maxAgeMs: 60_000, spillMaxBytes: 512 * MIB };

/** A sink that refuses every write (retryably) until `upAt` on the clock, then records what it takes, like real I/O a turn later. */
function outageSink(clock: FakeClock, upAt: number) {
  const accepted: number[] = [];
  const sink: Sink = {
    name: 'store',
    init: () => OK,
    start: async () => OK,
    async write(batches) {
      await new Promise((resolve) => setImmediate(resolve));
      if (clock.now() < upAt) return { status: fail('UNAVAILABLE', 'store is down') };
      accepted.push(...batches.map((b) => b.ts));
      return { status: OK };
    },
    flush: async () => OK,
    close: async () => OK,
    stats: () => ({ rowsWritten: accepted.length }),
  };
  return { sink, accepted };
}

interface Run {
  readonly clock: FakeClock;
  readonly dir: string;
  readonly statuses: Status[];
  buffer: SinkBuffer;
  maxQueued: number;
}

function start(name: string, sink: Sink, clock: FakeClock, limits: Partial<BufferConfig> = {}, dir = join(root, name), statuses: Status[] = []): Run {
  const merged = { ...config, ...limits };
  const spill = createSpillStore({ dir, sink: 'store', maxBytes: merged.spillMaxBytes, now: () => clock.now() });
  const buffer = createSinkBuffer({ sink, config: merged, clock, spill, onStatus: (status) => statuses.push(status), random: () => 0.5 });
  // As the agent does at start: pushing nothing starts the replay of what is on disk.
  buffer.push([]);
  return { clock, dir, statuses, buffer, maxQueued: 0 };
}

/** Pushes one batch a second for seconds [from, to), checking the memory bound after every push. */
async function feed(run: Run, from: number, to: number): Promise<void> {
  for (let n = from; n < to; n += 1) {
    run.buffer.push([batch(n)]);
    run.maxQueued = Math.max(run.maxQueued, run.buffer.stats().queuedBytes);
    await run.clock.advance(1000);
  }
}

/** Lets the recovered sink catch up: retries come within retryMaxMs, the replay then takes event-loop turns. */
async function drain(run: Run): Promise<void> {
  for (let i = 0; i < 2000; i += 1) {
    const stats = run.buffer.stats();
    if (stats.queuedBatches === 0 && stats.spillPendingRows === 0) return;
    await run.clock.advance(1000);
  }
}

const range = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, i) => from + i);

describe('a sink down for 10 minutes while 200 MB arrive', () => {
  it('spills beyond the memory bound and replays everything in order once the sink is back, none lost', { timeout: 180_000 }, async () => {
    const clock = createFakeClock();
    const { sink, accepted } = outageSink(clock, clock.now() + OUTAGE_MS);
    const run = start('plain', sink, clock);
    await feed(run, 0, SECONDS);
    const during = run.buffer.stats();
    expect(during.writtenBatches).toBe(0);
    expect(during.runSpilledRows).toBe(during.runSpilledBatches * ROWS);
    // About 200 MB went to disk; memory never held more than its bound.
    expect(during.spillPendingBytes).toBeGreaterThan(180 * MIB);
    expect(run.maxQueued).toBeLessThanOrEqual(config.maxBytes);
    expect(during.queuedBytes).toBeLessThanOrEqual(config.maxBytes);
    expect(during.runSpilledBatches + during.queuedBatches).toBe(SECONDS);

    await drain(run);
    expect(accepted).toEqual(range(0, SECONDS));
    const after = run.buffer.stats();
    expect(after).toMatchObject({ droppedBatches: 0, droppedRows: 0, writtenRows: SECONDS * ROWS });
    // Batches that aged in memory while the backlog was replayed went to disk too, behind it.
    expect(after.replayedBatches).toBe(after.runSpilledBatches);
    expect(after.runSpilledBatches).toBeGreaterThanOrEqual(during.runSpilledBatches);
    expect(readdirSync(run.dir)).toEqual([]);
  });

  it('a restart in the middle loses nothing that is on disk: a crash keeps the spilled part, a graceful stop everything', { timeout: 180_000 }, async () => {
    const clock = createFakeClock();
    const { sink, accepted } = outageSink(clock, clock.now() + OUTAGE_MS);
    const statuses: Status[] = [];
    const first = start('restart', sink, clock, {}, undefined, statuses);
    await feed(first, 0, 200);
    // A crash: the process is gone, with what it held in memory; only the disk survives.
    const inMemory = first.buffer.stats().queuedBatches;
    expect(inMemory).toBeGreaterThan(0);
    first.buffer.stop();
    const second = start('restart', sink, clock, {}, first.dir, statuses);
    await feed(second, 200, 400);
    // A graceful restart, as vwatchd stops: what is in memory goes to disk behind what is there.
    second.buffer.spill();
    const third = start('restart', sink, clock, {}, first.dir, statuses);
    await feed(third, 400, SECONDS);
    for (const run of [first, second, third]) expect(run.maxQueued).toBeLessThanOrEqual(config.maxBytes);

    await drain(third);
    expect(accepted).toEqual([...range(0, 200 - inMemory), ...range(200, SECONDS)]);
    expect(third.buffer.stats()).toMatchObject({ droppedBatches: 0, queuedBatches: 0, spillPendingRows: 0 });
    expect(second.buffer.stats().droppedBatches).toBe(0);
    expect(readdirSync(first.dir)).toEqual([]);
  });

  it('past the spill limit, the oldest spilled batches are dropped, counted per reason and reported once', { timeout: 180_000 }, async () => {
    const clock = createFakeClock();
    const { sink, accepted } = outageSink(clock, clock.now() + OUTAGE_MS);
    const spillMaxBytes = 64 * MIB;
    const run = start('limit', sink, clock, { spillMaxBytes });
    let maxOnDisk = 0;
    for (let n = 0; n < SECONDS; n += 1) {
      run.buffer.push([batch(n)]);
      maxOnDisk = Math.max(maxOnDisk, run.buffer.stats().spillPendingBytes);
      await clock.advance(1000);
    }
    const during = run.buffer.stats();
    expect(maxOnDisk).toBeLessThanOrEqual(spillMaxBytes);
    expect(during.droppedBatches).toBeGreaterThan(300);
    expect(during.droppedBy).toEqual({
      refused: { batches: 0, rows: 0 },
      memory: { batches: 0, rows: 0 },
      spill: { batches: during.droppedBatches, rows: during.droppedBatches * ROWS },
      age: { batches: 0, rows: 0 },
    });
    const drops = run.statuses.filter((status) => status.message.startsWith('dropped'));
    expect(drops).toHaveLength(1);
    expect(drops[0]).toMatchObject({ code: 'UNAVAILABLE', source: 'store', op: 'spill' });

    await drain(run);
    // What was kept is the newest, contiguous, and in order; with the drops it accounts for every batch.
    expect(accepted).toEqual(range(SECONDS - accepted.length, SECONDS));
    expect(accepted.length + during.droppedBatches).toBe(SECONDS);
    expect(run.buffer.stats().droppedBatches).toBe(during.droppedBatches);
  });
});

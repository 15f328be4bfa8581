import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createSinkBuffer, type BufferConfig } from '../src/index.js';
import { createHooks, fail, OK, type Batch, type Sink, type WriteResult } from '@virtualeyes/core';
import { createFakeClock } from '@virtualeyes/core/testing';
import { createSpillStore, encodeSpill } from '../src/spill.js';

const spillRoot = mkdtempSync(join(tmpdir(), 've-buffer-spill-'));
afterAll(() => rmSync(spillRoot, { recursive: true, force: true }));
let spills = 0;
const spillStore = (dir = join(spillRoot, `s${(spills += 1)}`)) => createSpillStore({ dir, sink: 'scripted', maxBytes: 1_000_000 });
const down = (n: number): WriteResult[] => Array.from({ length: n }, () => ({ status: fail('UNAVAILABLE', 'down') }));

const config: BufferConfig = { maxBytes: 1_000_000, maxAgeMs: 60_000, retryBaseMs: 100, retryMaxMs: 1000, maxBatchesPerWrite: 10, spillMaxBytes: 1_000_000, spillMaxAgeMs: 0 };
const batch = (n: number, rows = 1): Batch => ({ table: 't', ts: n, snapshot: true, rows: Array.from({ length: rows }, () => ({ n })) });

/** A sink whose write outcomes the test scripts; it records what it accepted. */
function scriptedSink(outcomes: WriteResult[] = []) {
  const accepted: number[] = [];
  let writes = 0;
  let flushes = 0;
  const sink: Sink = {
    name: 'scripted',
    init: () => OK,
    start: async () => OK,
    async write(batches) {
      writes += 1;
      const result = outcomes.shift() ?? { status: OK };
      const rejected = new Set(result.status.code === 'OK' ? [] : (result.rejected ?? batches.map((_, i) => i)));
      batches.forEach((b, i) => {
        if (!rejected.has(i)) accepted.push(b.ts);
      });
      return result;
    },
    flush: async () => {
      flushes += 1;
      return OK;
    },
    close: async () => OK,
    stats: () => ({ rowsWritten: accepted.length }),
  };
  return { sink, accepted, writes: () => writes, flushes: () => flushes };
}

describe('sink buffer', () => {
  it('writes batches in order and counts rows', async () => {
    const clock = createFakeClock();
    const { sink, accepted } = scriptedSink();
    const buffer = createSinkBuffer({ sink, config, clock });
    buffer.push([batch(1, 2), batch(2, 3)]);
    buffer.push([batch(3)]);
    await buffer.flush();
    expect(accepted).toEqual([1, 2, 3]);
    expect(buffer.stats()).toMatchObject({ writtenBatches: 3, writtenRows: 6, queuedBatches: 0, droppedBatches: 0 });
  });

  it('with a write window, writes what queued within it in one write once the oldest is a window old', async () => {
    const clock = createFakeClock();
    const scripted = scriptedSink();
    const buffer = createSinkBuffer({ sink: scripted.sink, config: { ...config, writeWindowMs: 1000 }, clock });
    buffer.push([batch(1)]);
    await clock.advance(400);
    buffer.push([batch(2)]);
    await clock.advance(599);
    expect(scripted.writes()).toBe(0);
    expect(buffer.stats().queuedBatches).toBe(2);
    await clock.advance(1);
    expect(scripted.accepted).toEqual([1, 2]);
    expect(scripted.writes()).toBe(1);
    // The next window starts with the next batch, not at the last write.
    await clock.advance(5000);
    buffer.push([batch(3)]);
    await clock.advance(999);
    expect(scripted.writes()).toBe(1);
    await clock.advance(1);
    expect(scripted.accepted).toEqual([1, 2, 3]);
  });

  it('with a write window, a flush writes at once, and a stop leaves nothing waiting on a timer', async () => {
    const clock = createFakeClock();
    const scripted = scriptedSink();
    const buffer = createSinkBuffer({ sink: scripted.sink, config: { ...config, writeWindowMs: 60_000 }, clock });
    buffer.push([batch(1), batch(2)]);
    expect(await buffer.flush()).toEqual(OK);
    expect(scripted.accepted).toEqual([1, 2]);
    buffer.push([batch(3)]);
    buffer.stop();
    await clock.advance(120_000);
    expect(scripted.accepted).toEqual([1, 2]);
    expect(buffer.stats().queuedBatches).toBe(1);
  });

  it('with a write window, writes early once a quarter of the memory limit is queued', async () => {
    const clock = createFakeClock();
    const scripted = scriptedSink();
    const buffer = createSinkBuffer({ sink: scripted.sink, config: { ...config, maxBytes: 4000, writeWindowMs: 60_000 }, clock });
    buffer.push([batch(1)]);
    await clock.advance(10);
    expect(scripted.writes()).toBe(0);
    buffer.push([batch(2, 100)]);
    await clock.advance(0);
    expect(scripted.accepted).toEqual([1, 2]);
  });

  it('with a write window, retries a failed write after its backoff, not after another window', async () => {
    const clock = createFakeClock();
    const scripted = scriptedSink(down(1));
    const buffer = createSinkBuffer({ sink: scripted.sink, config: { ...config, writeWindowMs: 10_000 }, clock, random: () => 1 });
    buffer.push([batch(1)]);
    await clock.advance(10_000);
    expect(scripted.writes()).toBe(1);
    expect(scripted.accepted).toEqual([]);
    await clock.advance(100);
    expect(scripted.writes()).toBe(2);
    expect(scripted.accepted).toEqual([1]);
  });

  it('retries a retryable failure after a capped, jittered backoff, keeping order', async () => {
    const clock = createFakeClock();
    const down = { status: fail('UNAVAILABLE', 'down') };
    const { sink, accepted, writes } = scriptedSink([down, down, down, down, down]);
    const buffer = createSinkBuffer({ sink, config, clock, random: () => 1 });
    buffer.push([batch(1)]);
    await clock.settle();
    expect(writes()).toBe(1);
    buffer.push([batch(2)]);
    // Delays: 100, 200, 400, 800, then the 1000 cap.
    await clock.advance(99);
    expect(writes()).toBe(1);
    await clock.advance(1);
    expect(writes()).toBe(2);
    await clock.advance(200 + 400 + 800);
    expect(writes()).toBe(5);
    await clock.advance(1000);
    expect(accepted).toEqual([1, 2]);
    expect(buffer.stats()).toMatchObject({ retries: 5, writtenBatches: 2, droppedBatches: 0 });
  });

  it('drops (and counts) batches a sink refuses permanently', async () => {
    const clock = createFakeClock();
    const statuses: string[] = [];
    const { sink, accepted } = scriptedSink([{ status: fail('INVALID_ARGUMENT', 'bad row'), rejected: [1] }]);
    const buffer = createSinkBuffer({ sink, config, clock, onStatus: (s) => statuses.push(`${s.code} ${s.source}`) });
    buffer.push([batch(1), batch(2, 4), batch(3)]);
    await buffer.flush();
    expect(accepted).toEqual([1, 3]);
    expect(buffer.stats()).toMatchObject({ writtenBatches: 2, droppedBatches: 1, droppedRows: 4 });
    expect(statuses).toContain('INVALID_ARGUMENT scripted');
  });

  it('retries only the rejected batches of a partial retryable failure', async () => {
    const clock = createFakeClock();
    const { sink, accepted } = scriptedSink([{ status: fail('UNAVAILABLE', 'busy'), rejected: [1] }]);
    const buffer = createSinkBuffer({ sink, config, clock });
    buffer.push([batch(1), batch(2), batch(3)]);
    await clock.advance(1000);
    expect(accepted).toEqual([1, 3, 2]);
    expect(buffer.stats()).toMatchObject({ writtenBatches: 3, droppedBatches: 0 });
  });

  it('drops the oldest batches beyond the byte limit and counts them', async () => {
    const clock = createFakeClock();
    const { sink, accepted } = scriptedSink(Array.from({ length: 50 }, () => ({ status: fail('UNAVAILABLE', 'down') })));
    const buffer = createSinkBuffer({ sink, config: { ...config, maxBytes: 2000 }, clock });
    for (let i = 0; i < 20; i += 1) buffer.push([batch(i, 10)]);
    const stats = buffer.stats();
    expect(stats.queuedBytes).toBeLessThanOrEqual(2000);
    expect(stats.droppedBatches + stats.queuedBatches).toBe(20);
    expect(stats.droppedBatches).toBeGreaterThan(0);
    expect(stats.droppedBy.memory).toEqual({ batches: stats.droppedBatches, rows: stats.droppedRows });
    expect(accepted).toEqual([]);
    buffer.stop();
  });

  it('drops batches older than maxAgeMs', async () => {
    const clock = createFakeClock();
    const { sink } = scriptedSink(Array.from({ length: 100 }, () => ({ status: fail('UNAVAILABLE', 'down') })));
    const buffer = createSinkBuffer({ sink, config: { ...config, maxAgeMs: 5000 }, clock });
    buffer.push([batch(1)]);
    await clock.advance(6000);
    expect(buffer.stats()).toMatchObject({ droppedBatches: 1, queuedBatches: 0 });
    buffer.stop();
  });

  it('flush retries until the deadline, then reports what is still pending', async () => {
    const clock = createFakeClock();
    const { sink, flushes } = scriptedSink(Array.from({ length: 1000 }, () => ({ status: fail('UNAVAILABLE', 'down') })));
    const buffer = createSinkBuffer({ sink, config, clock });
    buffer.push([batch(1, 3)]);
    const flushing = buffer.flush(clock.now() + 3000);
    await clock.advance(3500);
    const status = await flushing;
    expect(status).toMatchObject({ code: 'UNAVAILABLE', source: 'scripted', op: 'flush' });
    expect(status.message).toContain('1 batches (3 rows) still pending');
    expect(flushes()).toBe(0);
    buffer.stop();
  });

  it('treats a sink that throws as a retryable failure', async () => {
    const clock = createFakeClock();
    let calls = 0;
    const sink: Sink = {
      ...scriptedSink().sink,
      write: async () => {
        calls += 1;
        if (calls === 1) throw new Error('driver exploded');
        return { status: OK };
      },
    };
    const buffer = createSinkBuffer({ sink, config, clock });
    buffer.push([batch(1)]);
    await clock.advance(1000);
    expect(buffer.stats()).toMatchObject({ writtenBatches: 1, retries: 1 });
  });

  it('calls beforeWrite and sinkResult hooks around every write', async () => {
    const hooks = createHooks();
    const seen: string[] = [];
    hooks.beforeWrite.tap('t', (name, batches) => void seen.push(`before ${name} ${batches.length}`));
    hooks.sinkResult.tap('t', (name, status) => void seen.push(`result ${name} ${status.code}`));
    const clock = createFakeClock();
    const buffer = createSinkBuffer({ sink: scriptedSink().sink, config, clock, hooks });
    buffer.push([batch(1), batch(2)]);
    await buffer.flush();
    expect(seen).toEqual(['before scripted 2', 'result scripted OK']);
  });

  it('flush gives up at its deadline even while a write never returns', async () => {
    const clock = createFakeClock();
    const sink: Sink = { ...scriptedSink().sink, write: () => new Promise<WriteResult>(() => undefined) };
    const buffer = createSinkBuffer({ sink, config, clock });
    buffer.push([batch(1, 2)]);
    let settled = false;
    const flushing = buffer.flush(clock.now() + 2000).then((status) => {
      settled = true;
      return status;
    });
    await clock.advance(1999);
    expect(settled).toBe(false);
    await clock.advance(1);
    expect((await flushing).message).toContain('1 batches (2 rows) still pending');
    buffer.stop();
  });

  it('flush with a deadline of now still awaits one full attempt (collectOnce relies on it)', async () => {
    const clock = createFakeClock();
    const written: number[] = [];
    const sink: Sink = {
      ...scriptedSink().sink,
      async write(batches) {
        // Real I/O takes event-loop turns, not clock time.
        await new Promise((resolve) => setImmediate(resolve));
        written.push(...batches.map((b) => b.ts));
        return { status: OK };
      },
    };
    const buffer = createSinkBuffer({ sink, config, clock });
    buffer.push([batch(1)]);
    expect((await buffer.flush(clock.now())).code).toBe('OK');
    expect(written).toEqual([1]);
  });

  it('flush keeps retrying within its deadline and succeeds once the sink is back', async () => {
    const clock = createFakeClock();
    const { sink, accepted, flushes } = scriptedSink(down(4));
    const buffer = createSinkBuffer({ sink, config, clock, random: () => 1 });
    buffer.push([batch(1), batch(2)]);
    const flushing = buffer.flush(clock.now() + 5000);
    await clock.advance(5000);
    expect((await flushing).code).toBe('OK');
    expect(accepted).toEqual([1, 2]);
    expect(flushes()).toBe(1);
  });

  it('spill() puts every queued batch on disk in order, and later pushes go straight there', async () => {
    const clock = createFakeClock();
    const spill = spillStore();
    const { sink } = scriptedSink(down(100));
    const buffer = createSinkBuffer({ sink, config, clock, spill });
    buffer.push([batch(1), batch(2, 3)]);
    await clock.settle();
    const result = buffer.spill();
    expect(result).toMatchObject({ batches: 2, rows: 4, droppedBatches: 0 });
    buffer.push([batch(3)]);
    expect(buffer.stats()).toMatchObject({ queuedBatches: 0, spilledBatches: 3, spilledRows: 5, droppedRows: 0, spillPendingRows: 5 });
    const files = spill.pending();
    expect(files.flatMap((file) => (spill.read(file).ok ? (spill.read(file) as { value: Batch[] }).value.map((b) => b.ts) : []))).toEqual([1, 2, 3]);
    // Nothing is retried after a spill: the batches belong to the next start now.
    const writes = buffer.stats().retries;
    await clock.advance(10_000);
    expect(buffer.stats().retries).toBe(writes);
  });

  it('counts as dropped what cannot be spilled (no spill store, or over its limit)', async () => {
    const clock = createFakeClock();
    const statuses: string[] = [];
    const buffer = createSinkBuffer({ sink: scriptedSink(down(100)).sink, config, clock, onStatus: (s) => statuses.push(s.message) });
    buffer.push([batch(1, 2)]);
    await clock.settle();
    expect(buffer.spill()).toMatchObject({ batches: 0, droppedBatches: 1, droppedRows: 2 });
    expect(buffer.stats()).toMatchObject({ droppedRows: 2, spilledRows: 0 });
    expect(statuses.at(-1)).toContain('could not spill them');
  });

  it('replays spilled batches first, in order, then new ones, deleting each file once written', async () => {
    const clock = createFakeClock();
    const dir = join(spillRoot, 'replay');
    const earlier = spillStore(dir);
    earlier.append([batch(1), batch(2)]);
    earlier.append([batch(3, 2)]);
    const { sink, accepted } = scriptedSink();
    const buffer = createSinkBuffer({ sink, config: { ...config, maxBatchesPerWrite: 1 }, clock, spill: spillStore(dir) });
    buffer.push([batch(4)]);
    buffer.push([batch(5)]);
    await buffer.flush(clock.now() + 1000);
    expect(accepted).toEqual([1, 2, 3, 4, 5]);
    expect(readdirSync(dir)).toEqual([]);
    expect(buffer.stats()).toMatchObject({ writtenBatches: 5, writtenRows: 6, replayedBatches: 3, replayedRows: 4, spillPendingRows: 0 });
  });

  it('a stop in the middle of a replay keeps the unwritten rest in its place, so the next start writes each batch once', async () => {
    const clock = createFakeClock();
    const dir = join(spillRoot, 'partial');
    spillStore(dir).append([batch(1), batch(2), batch(3)]);
    spillStore(dir).append([batch(4)]);
    const first = scriptedSink([{ status: OK }, ...down(100)]);
    const stopping = createSinkBuffer({ sink: first.sink, config: { ...config, maxBatchesPerWrite: 1 }, clock, spill: spillStore(dir) });
    stopping.push([batch(5)]);
    await clock.advance(100);
    expect(first.accepted).toEqual([1]);
    expect(stopping.stats().spillPendingRows).toBe(3);
    stopping.spill();

    const second = scriptedSink();
    const next = createSinkBuffer({ sink: second.sink, config, clock, spill: spillStore(dir) });
    next.push([batch(6)]);
    await next.flush(clock.now() + 1000);
    expect(second.accepted).toEqual([2, 3, 4, 5, 6]);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('a write that finishes after spill() only counts, and leaves the spilled batches alone', async () => {
    const clock = createFakeClock();
    const spill = spillStore();
    let finish: (result: WriteResult) => void = () => undefined;
    const sink: Sink = { ...scriptedSink().sink, write: () => new Promise<WriteResult>((resolve) => (finish = resolve)) };
    const buffer = createSinkBuffer({ sink, config, clock, spill });
    buffer.push([batch(1), batch(2)]);
    await clock.settle();
    expect(buffer.spill().batches).toBe(2);
    finish({ status: OK });
    await clock.settle();
    expect(buffer.stats()).toMatchObject({ writtenBatches: 2, spilledBatches: 2, queuedBatches: 0, droppedBatches: 0 });
    expect(spill.pending().map((file) => file.batches)).toEqual([2]);
  });

  it('moves the oldest batches to disk beyond the byte limit instead of dropping them, and writes them first once the sink is back', async () => {
    const clock = createFakeClock();
    const spill = spillStore();
    const statuses: string[] = [];
    const { sink, accepted } = scriptedSink(down(30));
    const buffer = createSinkBuffer({ sink, config: { ...config, maxBytes: 2000 }, clock, spill, onStatus: (s) => statuses.push(`${s.op} ${s.message}`) });
    for (let i = 0; i < 20; i += 1) {
      buffer.push([batch(i, 10)]);
      expect(buffer.stats().queuedBytes).toBeLessThanOrEqual(2000);
      await clock.advance(100);
    }
    const during = buffer.stats();
    expect(during).toMatchObject({ droppedBatches: 0, writtenBatches: 0 });
    expect(during.runSpilledBatches).toBeGreaterThan(0);
    expect(during.spillPendingRows).toBe(during.runSpilledRows);
    expect(during.runSpilledBatches + during.queuedBatches).toBe(20);
    // Reported once for the outage, not once per piece.
    expect(statuses.filter((s) => s.startsWith('spill ')).length).toBe(1);
    await clock.advance(60_000);
    expect(accepted).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(buffer.stats()).toMatchObject({ droppedBatches: 0, queuedBatches: 0, spillPendingRows: 0, replayedBatches: during.runSpilledBatches });
    expect(readdirSync(spill.dir)).toEqual([]);
  });

  it('moves batches waiting longer than maxAgeMs to disk when it can spill', async () => {
    const clock = createFakeClock();
    const spill = spillStore();
    const buffer = createSinkBuffer({ sink: scriptedSink(down(100)).sink, config: { ...config, maxAgeMs: 5000 }, clock, spill });
    buffer.push([batch(1, 2)]);
    await clock.advance(6000);
    expect(buffer.stats()).toMatchObject({ droppedBatches: 0, queuedBatches: 0, runSpilledRows: 2, spillPendingRows: 2 });
    buffer.stop();
  });

  it('a write in flight while newer batches spill keeps its place ahead of them, running and across a stop', async () => {
    for (const restart of [false, true]) {
      const clock = createFakeClock();
      const dir = join(spillRoot, `head-${restart}`);
      const spill = spillStore(dir);
      const accepted: number[] = [];
      let finish: (result: WriteResult) => void = () => undefined;
      let hang = true;
      const sink: Sink = {
        ...scriptedSink().sink,
        write(batches) {
          if (hang) return new Promise<WriteResult>((resolve) => (finish = resolve));
          accepted.push(...batches.map((b) => b.ts));
          return Promise.resolve({ status: OK });
        },
      };
      const buffer = createSinkBuffer({ sink, config: { ...config, maxBytes: 2000 }, clock, spill });
      buffer.push([batch(1, 10), batch(2, 10)]);
      await clock.settle();
      // Batches 1 and 2 are with the sink; the rest overflow memory and go to disk behind them.
      for (let i = 3; i <= 12; i += 1) buffer.push([batch(i, 10)]);
      const spilled = buffer.stats().runSpilledBatches;
      expect(spilled).toBeGreaterThan(0);
      expect(spill.pending().reduce((sum, file) => sum + file.batches, 0)).toBe(spilled);
      finish({ status: fail('UNAVAILABLE', 'down') });
      await clock.settle();
      expect(buffer.stats()).toMatchObject({ queuedBatches: 12 - spilled, droppedBatches: 0 });
      hang = false;
      if (restart) {
        buffer.spill();
        const next = createSinkBuffer({ sink, config, clock, spill: spillStore(dir) });
        next.push([]);
        await next.flush(clock.now() + 1000);
      } else {
        await clock.advance(1000);
      }
      expect(accepted).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
      expect(readdirSync(dir)).toEqual([]);
    }
  });

  it('deletes the oldest spill files when the directory is full, counting them as spill drops, reported once per outage', async () => {
    const clock = createFakeClock();
    const statuses: string[] = [];
    const one = encodeSpill([batch(0, 10)], 'scripted', 0).length;
    const spill = createSpillStore({ dir: join(spillRoot, 'full'), sink: 'scripted', maxBytes: one * 3 });
    const { sink, accepted } = scriptedSink(down(40));
    const buffer = createSinkBuffer({ sink, config: { ...config, maxBytes: 1500, spillMaxBytes: one * 3 }, clock, spill, onStatus: (s) => statuses.push(s.message) });
    for (let i = 0; i < 20; i += 1) {
      buffer.push([batch(i, 10)]);
      expect(spill.pending().reduce((sum, file) => sum + file.bytes, 0)).toBeLessThanOrEqual(one * 3);
      await clock.advance(100);
    }
    const stats = buffer.stats();
    expect(stats.droppedBatches).toBeGreaterThan(0);
    expect(stats.droppedBy.spill).toEqual({ batches: stats.droppedBatches, rows: stats.droppedRows });
    expect(statuses.filter((s) => s.startsWith('dropped')).length).toBe(1);
    await clock.advance(60_000);
    // The oldest went; what is left arrives in order, and with the drops accounts for every batch.
    expect(accepted).toEqual([...accepted].sort((a, b) => a - b));
    expect(accepted.at(-1)).toBe(19);
    expect(accepted.length + stats.droppedBatches).toBe(20);
  });

  it('deletes spill files older than spillMaxAgeMs unwritten, counted as age drops', async () => {
    const clock = createFakeClock();
    const spill = createSpillStore({ dir: join(spillRoot, 'aged'), sink: 'scripted', maxBytes: 1_000_000, now: () => clock.now() });
    const { sink, accepted } = scriptedSink(down(1000));
    const buffer = createSinkBuffer({ sink, config: { ...config, maxAgeMs: 1000, spillMaxAgeMs: 10_000, retryMaxMs: 1000 }, clock, spill });
    buffer.push([batch(1, 3)]);
    await clock.advance(5000);
    buffer.push([batch(2)]);
    await clock.advance(3000);
    expect(buffer.stats()).toMatchObject({ spillPendingRows: 4, droppedBatches: 0 });
    // Batch 1 went to disk at about 1 s, batch 2 at about 6 s.
    await clock.advance(5000);
    expect(buffer.stats()).toMatchObject({ spillPendingRows: 1, droppedBy: { age: { batches: 1, rows: 3 } } });
    await clock.advance(5000);
    expect(buffer.stats()).toMatchObject({ spillPendingRows: 0, droppedBatches: 2, droppedRows: 4 });
    expect(accepted).toEqual([]);
    buffer.stop();
  });
});

// How many queries run at once: every reader of one store shares maxConcurrentQueries slots
// and a short first-come queue, so runaway queries leave the writer its libuv threads and
// every other caller a prompt answer (or a prompt "retry in 1 s"); closing the store stops
// the running queries and refuses the waiting ones.
import { describe, expect, it } from 'vitest';
import { createSystemClock, type QueryRequest, type Result, type Status, type StoreReader } from '@virtualeyes/core';
import { createFakeClock, createMemoryLogger } from '@virtualeyes/core/testing';
import { createQueryLimiter } from '../src/limits.js';
import { createReader } from '../src/index.js';
import { count, startSink, useTempDir } from './helpers.js';

const newPath = useTempDir();
const RUNAWAY: QueryRequest = { sql: 'SELECT count(*) FROM range(10000000000) AS a', timeoutMs: 20_000 };
const BUSY = { code: 'UNAVAILABLE', message: 'too many queries running (2 of 2); retry in 1 s', retryable: true, retryAfterMs: 1000, source: 'duckdb', op: 'query' };

/** A call's outcome and how long after `since` it settled. */
interface Timed<T> {
  readonly result: Result<T>;
  readonly ms: number;
}

function timed<T>(call: Promise<Result<T>>, since = performance.now()): Promise<Timed<T>> {
  return call.then((result) => ({ result, ms: performance.now() - since }));
}

function statusOf<T>(timedResult: Timed<T>): Status | undefined {
  return timedResult.result.ok ? undefined : timedResult.result.status;
}

/** True once `promise` has settled, checked without waiting for it. */
async function settled(promise: Promise<unknown>): Promise<boolean> {
  return Promise.race([promise.then(() => true), new Promise<boolean>((resolve) => setImmediate(() => resolve(false)))]);
}

describe('the query limiter', () => {
  it('admits in arrival order, refuses when the queue is full or the wait is over, and refuses as closed once closed', async () => {
    const clock = createFakeClock();
    let closed = false;
    const limiter = createQueryLimiter({ maxConcurrent: 1, maxQueued: 2, queueWaitMs: 750, clock, isClosed: () => closed });
    const order: string[] = [];
    const gates = new Map<string, () => void>();
    const call = (name: string): Promise<Result<string>> =>
      limiter.run('query', async () => {
        order.push(name);
        await new Promise<void>((resolve) => gates.set(name, resolve));
        return { ok: true, value: name };
      });
    const first = call('first');
    const second = call('second');
    const third = call('third');
    const fourth = await call('fourth');
    expect(!fourth.ok && fourth.status).toMatchObject({ code: 'UNAVAILABLE', message: 'too many queries running (1 of 1); retry in 1 s', retryAfterMs: 1000 });
    await clock.advance(700);
    gates.get('first')?.();
    expect(await first).toEqual({ ok: true, value: 'first' });
    await clock.advance(0);
    expect(order).toEqual(['first', 'second']);
    // The third waited its 750 ms while the second ran.
    await clock.advance(100);
    const late = await third;
    expect(!late.ok && late.status.code).toBe('UNAVAILABLE');
    const waiting = call('fifth');
    closed = true;
    gates.get('second')?.();
    expect(await second).toEqual({ ok: true, value: 'second' });
    const refused = await waiting;
    expect(!refused.ok && refused.status).toMatchObject({ code: 'UNAVAILABLE', message: 'the store is closed', retryable: false });
    const after = await call('sixth');
    expect(!after.ok && after.status.message).toBe('the store is closed');
    expect(order).toEqual(['first', 'second']);
  });
});

describe('runaway queries', () => {
  it('hold at most two slots of the store, every other call is answered within a second, and the writer keeps writing', { timeout: 30_000 }, async () => {
    const path = newPath();
    const { sink, reader } = await startSink(path, { clock: createSystemClock() });
    const row = (pid: number) => ({ pid, start_time: pid, comm: `p${pid}`, args: [] });
    await sink.write([{ table: 'processes', ts: Date.now() - 5000, snapshot: true, rows: [row(1)] }]);

    const start = performance.now();
    const runaways = Array.from({ length: 4 }, () => timed(reader.query(RUNAWAY), start));
    // Ordinary calls through fresh readers: the slots belong to the store, not to a reader.
    const ordinary = Array.from({ length: 20 }, (_, index) => {
      const fresh = sink.reader?.() as StoreReader;
      return timed(index % 4 === 3 ? fresh.tables() : fresh.query({ sql: 'SELECT count(*) FROM processes' }), start);
    });
    const answers = await Promise.all(ordinary);
    // Two runaways run, two wait with fourteen ordinary calls (16 queued); six are refused at once.
    for (const answer of answers) expect(statusOf(answer)).toMatchObject({ ...BUSY, op: expect.stringMatching(/^(query|list tables)$/) });
    const times = answers.map((answer) => answer.ms);
    console.info(`ordinary calls answered after ${times.map((ms) => ms.toFixed(0)).join(', ')} ms`);
    expect(times.filter((ms) => ms < 300)).toHaveLength(6);
    expect(times.filter((ms) => ms >= 700)).toHaveLength(14);
    expect(Math.max(...times)).toBeLessThan(1500);
    const queuedRunaways = await Promise.all(runaways.slice(2));
    for (const answer of queuedRunaways) expect(statusOf(answer)).toMatchObject(BUSY);
    expect(await settled(Promise.all(runaways.slice(0, 2)))).toBe(false);

    // With the queue empty again, a new call waits its 750 ms and is told to retry.
    const one = await timed(reader.query({ sql: 'SELECT 1' }));
    console.info(`SELECT 1 beside two runaways: ${one.result.ok ? 'answered' : one.result.status.code} after ${one.ms.toFixed(0)} ms`);
    expect(statusOf(one)).toMatchObject(BUSY);
    expect(one.ms).toBeLessThan(1000);

    // The writer needs libuv threads too: two runaways leave it enough.
    const write = await timed(
      sink.write([{ table: 'processes', ts: Date.now(), snapshot: true, rows: [row(1), row(2), row(3)] }]).then((result) => ({ ok: true as const, value: result })),
    );
    console.info(`write beside two runaways: ${write.ms.toFixed(0)} ms`);
    expect(write.result.ok && write.result.value.status.code).toBe('OK');
    expect(write.ms).toBeLessThan(1000);

    // Closing interrupts the two running ones at once, long before their 20 s limit.
    const closing = performance.now();
    expect((await sink.close()).code).toBe('OK');
    const stopped = await Promise.all(runaways.slice(0, 2));
    for (const answer of stopped) expect(statusOf(answer)).toMatchObject({ code: 'UNAVAILABLE', message: 'the store is closed', retryable: false });
    expect(performance.now() - closing).toBeLessThan(5000);

    const offline = await createReader({ path }, { clock: createSystemClock(), logger: createMemoryLogger(), dataDir: '/nonexistent' });
    if (!offline.ok) expect.fail(offline.status.message);
    expect(await count(offline.value, 'SELECT count(*) FROM history.processes')).toBe(3);
    await offline.value.close();
  });

  it('lets waiting calls run, first come first served, once a slot frees', { timeout: 30_000 }, async () => {
    const { sink, reader } = await startSink(newPath(), { clock: createSystemClock(), config: { queueWaitMs: 10_000 } });
    const runaways = [reader.query({ ...RUNAWAY, timeoutMs: 300 }), reader.query({ ...RUNAWAY, timeoutMs: 300 })];
    const finished: number[] = [];
    const waiting = Array.from({ length: 5 }, (_, index) =>
      reader.query({ sql: `SELECT ${index} AS n` }).then((result) => {
        finished.push(index);
        return result;
      }),
    );
    for (const result of await Promise.all(runaways)) expect(!result.ok && result.status.code).toBe('TIMEOUT');
    const answers = await Promise.all(waiting);
    expect(answers.map((answer) => answer.ok && answer.value.rows[0]?.[0])).toEqual([0, 1, 2, 3, 4]);
    // Two run at a time, so a later call may finish first only by overtaking its pair.
    expect(finished.slice(0, 2).sort()).toEqual([0, 1]);
    await sink.close();
  });

  it('refuses the waiting calls and interrupts the running ones when the store closes', { timeout: 30_000 }, async () => {
    const path = newPath();
    const { sink, reader } = await startSink(path, { clock: createSystemClock(), config: { queueWaitMs: 20_000 } });
    const start = performance.now();
    const running = [timed(reader.query(RUNAWAY), start), timed(reader.info(), start), timed(reader.query(RUNAWAY), start)];
    const waiting = [timed(reader.query({ sql: 'SELECT 1' }), start), timed(reader.tables(), start), timed(reader.info(), start)];
    // Let the two runaways get going (the info call ahead of the second one finishes meanwhile).
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await settled(running[0]!)).toBe(false);
    expect((await sink.close()).code).toBe('OK');
    const closedAt = performance.now() - start;
    for (const answer of [running[0]!, running[2]!, ...waiting]) {
      const done = await answer;
      expect(statusOf(done)).toMatchObject({ code: 'UNAVAILABLE', message: 'the store is closed', retryable: false });
      expect(done.ms).toBeLessThan(closedAt + 2000);
    }
    const after = await reader.query({ sql: 'SELECT 1' });
    expect(!after.ok && after.status.message).toBe('the store is closed');
  });
});

// No number of queries can starve the recording: with four runaway queries and twenty ordinary
// ones in flight against a real daemon, the store file keeps changing every interval (the
// writer commits each second), `select 1` answers or is told to retry within a second, and
// the daemon answers normally once the runaway queries hit their time limit.
import { execFile } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postQuery, sleep, startDaemon, VIRTUALEYES, watchStore, type QueryReply, type TestDaemon } from './helpers.js';

/** The daemon's collection interval in this test. */
const INTERVAL_MS = 1000;
/** How long the load is kept up while the store files are watched. */
const LOAD_MS = 8000;
/** A query that runs until its time limit: hashing ten billion numbers. */
const RUNAWAY = 'select max(md5(a::varchar)) from range(10000000000) t(a)';

describe('queries cannot starve the recording', () => {
  let daemon: TestDaemon;

  beforeAll(async () => {
    daemon = await startDaemon('ve-capacity-', INTERVAL_MS);
    await sleep(2 * INTERVAL_MS);
  });

  afterAll(async () => {
    await daemon.stop();
    rmSync(daemon.dataDir, { recursive: true, force: true });
  });

  it('keeps writing every interval and answers select 1 (or says retry) within a second', async () => {
    expect(daemon.stderr()).toContain('Recording into');
    const watcher = watchStore(daemon.dataDir);
    const started = performance.now();
    const runaway = Array.from({ length: 4 }, () => postQuery(daemon.socket, { sql: RUNAWAY, timeoutMs: LOAD_MS + 4000 }));
    await sleep(300);
    const ordinary = Array.from({ length: 20 }, (_, index) => postQuery(daemon.socket, { sql: `select count(*) + ${index} as n from history.process_stats` }));
    const probes: QueryReply[] = [];
    while (performance.now() - started < LOAD_MS - 1000) {
      probes.push(await postQuery(daemon.socket, { sql: 'select 1 as one' }));
      await sleep(500);
    }
    const answered = await Promise.all(ordinary);
    const left = LOAD_MS - (performance.now() - started);
    if (left > 0) await sleep(left);
    const writes = await watcher.stop();
    // The CLI, told to retry while the runaway queries hold both slots, waits and tries again
    // until they reach their time limit.
    const cliStarted = performance.now();
    const cli = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(process.execPath, [VIRTUALEYES, '--data-dir', daemon.dataDir, 'query', 'select 41 + 1 as answer', '--format', 'csv'], { timeout: 30_000 }, (error, stdout, stderr) => {
        resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : 1, stdout, stderr });
      });
    });
    const cliMs = performance.now() - cliStarted;

    // select 1: answered, or told to retry, within a second each time.
    expect(probes.length).toBeGreaterThanOrEqual(4);
    for (const reply of probes) {
      expect(reply.ms, JSON.stringify(reply.body)).toBeLessThan(1000);
      if (reply.status === 200) expect(reply.body.rows).toEqual([[1]]);
      else expect(reply).toMatchObject({ status: 503, body: { status: { code: 'UNAVAILABLE', retryable: true } } });
    }
    // The ordinary queries: each answered, or told to retry with Retry-After; nothing else.
    for (const reply of answered) {
      if (reply.status === 200) continue;
      expect(reply).toMatchObject({ status: 503, body: { status: { code: 'UNAVAILABLE', retryable: true } } });
      expect(Number(reply.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    }
    expect(answered.filter((reply) => reply.status === 503).length, 'some were told to retry').toBeGreaterThan(0);
    // Writes: the store changed at least every two intervals throughout the load.
    expect(writes.changes).toBeGreaterThanOrEqual(Math.floor(LOAD_MS / INTERVAL_MS) - 1);
    expect(writes.longestGapMs).toBeLessThan(2 * INTERVAL_MS + 500);

    // The runaway queries end at their limit (TIMEOUT) or were told to retry, and the daemon answers again.
    for (const reply of await Promise.all(runaway)) expect([503, 504], JSON.stringify(reply.body)).toContain(reply.status);
    expect(cli.code, `after ${Math.round(cliMs)} ms: ${cli.stderr}`).toBe(0);
    expect(cli.stdout.split(/\r?\n/)).toEqual(['answer', '42', '']);
    expect(cliMs, 'the CLI waited for a slot').toBeGreaterThan(1000);
    const after = await postQuery(daemon.socket, { sql: 'select count(distinct ts) as n from history.load' });
    expect(after.status).toBe(200);
    expect(Number(after.body.rows?.[0]?.[0])).toBeGreaterThanOrEqual(Math.floor(LOAD_MS / INTERVAL_MS));
  }, 60_000);

  it('refuses a 5 GB result as too large while the daemon stays within a few hundred MB and keeps recording', async () => {
    const pid = daemon.child.pid!;
    const rssOf = (): number => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]) * 1024;
    const before = rssOf();
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, rssOf())), 50);
    const watcher = watchStore(daemon.dataDir);
    const replies: QueryReply[] = [];
    try {
      // 100000 rows of 50 KB, twice: also shows the first answer's memory is given back, not piled up.
      for (let round = 0; round < 2; round += 1) replies.push(await postQuery(daemon.socket, { sql: "select repeat('x', 50000) as s from range(100000)" }));
    } finally {
      clearInterval(sampler);
    }
    await sleep(2 * INTERVAL_MS);
    const writes = await watcher.stop();
    for (const reply of replies) {
      expect(reply).toMatchObject({ status: 400, body: { status: { code: 'INVALID_ARGUMENT', message: expect.stringMatching(/^result too large: more than 16 MiB/) } } });
      expect(reply.ms).toBeLessThan(10_000);
    }
    const mib = (bytes: number): number => Math.round(bytes / 1024 / 1024);
    console.info(`daemon RSS ${mib(before)} MiB, peak ${mib(peak)} MiB over two 5 GB refusals, ${mib(rssOf())} MiB after`);
    expect(mib(peak - before), `RSS ${mib(before)} -> peak ${mib(peak)} MiB`).toBeLessThan(400);
    expect(writes.longestGapMs).toBeLessThan(2 * INTERVAL_MS + 500);
    expect(daemon.child.exitCode).toBeNull();
  }, 60_000);
});

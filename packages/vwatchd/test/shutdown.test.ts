// vwatchd stopped by SIGTERM in each state it can be in — starting with its store locked,
// retrying a failing write, writing to a full disk, answering a long query — as real daemon
// processes (the built dist/bin.js) on a real DuckDB file. Each test checks the documented exit
// code, that every row collected before the signal ends up in the store (directly, or through
// spill files the next start replays), that sessions end as `close`, and that the stop is quick.
// Needs `npx tsc -b` first.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, afterEach, describe, expect, it, type TestContext } from 'vitest';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const BIN = join(root, 'packages/vwatchd/dist/bin.js');
const FIXTURES = fileURLToPath(new URL('./fixtures/shutdown/', import.meta.url));
const BIG = 2n ** 62n;
/** The agent's flush deadline is 5 s; a stop must end well within this. */
const STOP_BOUND_MS = 12_000;
const SINK = 'store';

const dirs: string[] = [];
const children: ChildProcess[] = [];
afterEach(() => {
  // A daemon that failed to stop must not outlive its test (a runaway query keeps a CPU busy).
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

interface Daemon {
  readonly child: ChildProcess;
  readonly stderr: () => string;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
}

function dataDirFor(name: string): string {
  const dir = mkdtempSync(join(tmpdir(), `ve-shutdown-${name}-`));
  dirs.push(dir);
  return dir;
}

/** Writes a config recording numbered rows into the (switchable) DuckDB sink; returns its path. */
function configFor(dataDir: string, sinkOptions: Record<string, unknown> = {}): string {
  const path = join(dataDir, 'vwatchd.conf');
  writeFileSync(
    path,
    JSON.stringify({
      probes: [{ use: join(FIXTURES, 'probe-seq.mjs') }],
      sinks: [{ use: join(FIXTURES, 'sink-flaky.mjs'), name: SINK, options: sinkOptions, buffer: { retryBaseMs: 100, retryMaxMs: 300 } }],
      log: { level: 'info' },
    }),
  );
  return path;
}

function startDaemon(dataDir: string): Daemon {
  const child = spawn(process.execPath, [BIN, '--config', join(dataDir, 'vwatchd.conf'), '--data-dir', dataDir], { stdio: ['ignore', 'ignore', 'pipe'] });
  children.push(child);
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal, at: Date.now() })),
  );
  return { child, stderr: () => stderr, exited };
}

async function waitFor(what: string, check: () => boolean, daemon?: Daemon, timeoutMs = 30_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (check()) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`timed out waiting for ${what}${daemon === undefined ? '' : `; daemon stderr:\n${daemon.stderr()}`}`);
}

/** Sends SIGTERM; resolves to the exit code and how long the stop took, failing if it takes over {@link STOP_BOUND_MS}. */
async function terminate(daemon: Daemon): Promise<{ code: number | null; ms: number }> {
  const sent = Date.now();
  daemon.child.kill('SIGTERM');
  const exit = await exitWithin(daemon, STOP_BOUND_MS, sent);
  return { code: exit.code, ms: exit.at - sent };
}

async function exitWithin(daemon: Daemon, ms: number, since: number): Promise<{ code: number | null; at: number }> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  const exit = await Promise.race([daemon.exited, late]);
  clearTimeout(timer);
  if (exit === undefined) throw new Error(`vwatchd still running ${Date.now() - since} ms after SIGTERM; stderr:\n${daemon.stderr()}`);
  return exit;
}

/** The last row number the probe handed to the agent. */
function lastSeq(dataDir: string): number {
  const path = join(dataDir, 'probe-seq.last');
  return existsSync(path) ? Number(readFileSync(path, 'utf8').trim()) : 0;
}

function spillDir(dataDir: string): string {
  return join(dataDir, 'spill', SINK);
}

function spillFiles(dataDir: string): string[] {
  const dir = spillDir(dataDir);
  return existsSync(dir) ? readdirSync(dir).filter((name) => name.endsWith('.jsonl')).sort() : [];
}

/** What the store holds, read with DuckDB itself (read-only, released before returning). */
async function readStore(path: string): Promise<{ seqs: bigint[]; bigs: bigint[]; sessions: (string | null)[] }> {
  const instance = await DuckDBInstance.create(path, { access_mode: 'READ_ONLY' });
  try {
    const connection = await instance.connect();
    const rows = (await connection.runAndReadAll('SELECT seq, big FROM history.seq_ticks ORDER BY seq')).getRows();
    const sessions = (await connection.runAndReadAll('SELECT stop_reason FROM vw_meta.sessions ORDER BY id')).getRows();
    connection.disconnectSync();
    return { seqs: rows.map((row) => row[0] as bigint), bigs: rows.map((row) => row[1] as bigint), sessions: sessions.map((row) => row[0] as string | null) };
  } finally {
    instance.closeSync();
  }
}

/** Every row 1..last exactly once, with its bigint intact. */
function expectAllRows(store: { seqs: bigint[]; bigs: bigint[] }, last: number): void {
  expect(last).toBeGreaterThan(0);
  expect(store.seqs).toEqual(Array.from({ length: last }, (_, index) => BigInt(index + 1)));
  expect(store.bigs).toEqual(store.seqs.map((seq) => BIG + seq));
}

/** Runs a daemon whose writes all fail, stops it, and checks it spilled every row; returns the last row number. */
async function recordWithFailingWrites(dataDir: string): Promise<number> {
  writeFileSync(join(dataDir, 'fail-writes'), '');
  const daemon = startDaemon(dataDir);
  await waitFor('rows collected while writes fail', () => daemon.stderr().includes('Recording into') && lastSeq(dataDir) >= 10, daemon);
  const stop = await terminate(daemon);
  expect(stop.code, daemon.stderr()).toBe(3);
  expect(stop.ms).toBeLessThan(STOP_BOUND_MS);
  expect(daemon.stderr()).toMatch(/Stopped: 0 rows written, \d+ rows spilled to disk for the next start, 0 rows lost \(exit 3\)/);
  return lastSeq(dataDir);
}

/** Starts a daemon on what a previous run left, waits until its spill files are replayed, stops it: exit 0. */
async function replayAndStop(dataDir: string): Promise<Daemon> {
  const daemon = startDaemon(dataDir);
  await waitFor('the spill files to be replayed and deleted', () => daemon.stderr().includes('Recording into') && spillFiles(dataDir).length === 0, daemon);
  const stop = await terminate(daemon);
  expect(stop.code, daemon.stderr()).toBe(0);
  expect(stop.ms).toBeLessThan(STOP_BOUND_MS);
  expect(daemon.stderr()).toContain('Replaying');
  return daemon;
}

/** What a full-disk test gets: a daemon whose store is on a 2 MB tmpfs that is now full. */
interface FullDisk {
  readonly dataDir: string;
  readonly store: string;
  readonly daemon: Daemon;
  /** The file filling the disk; removing it frees the space. */
  readonly filler: string;
}

/**
 * Runs `body` with a daemon recording onto a tiny tmpfs, once rows were written there and more
 * were collected after the disk filled up; unmounts afterwards. Mounting needs root: skipped
 * with a reason otherwise, and a failure in CI, which runs as root.
 */
async function onFullDisk(context: TestContext, name: string, body: (disk: FullDisk) => Promise<void>): Promise<void> {
  if (process.getuid?.() !== 0) {
    if (process.env['CI'] === 'true') throw new Error('the disk-full test needs root in CI');
    context.skip('mounting a small tmpfs needs root');
  }
  const dataDir = dataDirFor(name);
  const disk = join(dataDir, 'disk');
  mkdirSync(disk, { mode: 0o750 });
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m,mode=0750', 'tmpfs', disk]);
  try {
    const store = join(disk, 'vwatchd.db');
    configFor(dataDir, { path: store });
    const daemon = startDaemon(dataDir);
    await waitFor('rows written', () => daemon.stderr().includes('Recording into') && lastSeq(dataDir) >= 5, daemon);
    const filler = join(disk, 'filler');
    fill(filler);
    const full = lastSeq(dataDir);
    // The last partly filled pages of the WAL take a few more small commits: wait until writes fail.
    await waitFor('writes failing on the full disk', () => lastSeq(dataDir) >= full + 5 && daemon.stderr().includes('No space left on device'), daemon);
    await body({ dataDir, store, daemon, filler });
  } finally {
    execFileSync('umount', [disk]);
  }
}

/**
 * A daemon whose writes fail (so a stop takes its whole flush deadline), sent `signal` twice:
 * the second `pauseMs` after the first was seen. Returns the exit, when the first was sent, and
 * the daemon, with the `fail-writes` switch already removed for the next start.
 */
async function signalTwice(name: string, signal: NodeJS.Signals, pauseMs: number): Promise<{ dataDir: string; daemon: Daemon; exit: { code: number | null; at: number }; sent: number }> {
  const dataDir = dataDirFor(name);
  configFor(dataDir);
  writeFileSync(join(dataDir, 'fail-writes'), '');
  const daemon = startDaemon(dataDir);
  await waitFor('rows collected while writes fail', () => daemon.stderr().includes('Recording into') && lastSeq(dataDir) >= 5, daemon);
  const sent = Date.now();
  daemon.child.kill(signal);
  // Two signals sent at once would merge into one pending signal: the second follows the first's log line.
  await waitFor('the first signal to be seen', () => daemon.stderr().includes(`${signal}: flushing and stopping`), daemon);
  if (pauseMs > 0) await new Promise((resolve) => setTimeout(resolve, pauseMs));
  daemon.child.kill(signal);
  const exit = await exitWithin(daemon, STOP_BOUND_MS, sent);
  rmSync(join(dataDir, 'fail-writes'));
  return { dataDir, daemon, exit, sent };
}

describe('vwatchd shutdown', () => {
  it('SIGTERM during a write retry: flushes until the deadline, spills the rest (exit 3), and the next start writes it all', async () => {
    const dataDir = dataDirFor('retry');
    configFor(dataDir);
    const last = await recordWithFailingWrites(dataDir);

    const files = spillFiles(dataDir);
    expect(files.length).toBeGreaterThan(0);
    expect(files[0]).toMatch(/^\d{12}\.jsonl$/);
    expect(statSync(spillDir(dataDir)).mode & 0o777).toBe(0o750);
    for (const name of files) expect(statSync(join(spillDir(dataDir), name)).mode & 0o777).toBe(0o640);
    const stopped = await readStore(join(dataDir, 'vwatchd.db'));
    expect(stopped.seqs).toEqual([]);
    expect(stopped.sessions).toEqual(['close']);

    rmSync(join(dataDir, 'fail-writes'));
    await replayAndStop(dataDir);
    const store = await readStore(join(dataDir, 'vwatchd.db'));
    // The second run collected more rows; the ones from before the first signal come first, in order.
    expectAllRows(store, lastSeq(dataDir));
    expect(lastSeq(dataDir)).toBeGreaterThan(last);
    expect(store.sessions).toEqual(['close', 'close']);
  }, 90_000);

  it('SIGTERM during start-up (store locked by another writer): stops at once, keeping the spill files for later', async () => {
    const dataDir = dataDirFor('startup');
    configFor(dataDir);
    const last = await recordWithFailingWrites(dataDir);
    rmSync(join(dataDir, 'fail-writes'));
    const before = spillFiles(dataDir);

    const holder = spawn(process.execPath, [join(FIXTURES, 'lock-store.mjs'), join(dataDir, 'vwatchd.db')], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      let locked = '';
      holder.stdout?.on('data', (chunk: Buffer) => (locked += chunk.toString()));
      await waitFor('the lock holder', () => locked.includes('locked'));
      const daemon = startDaemon(dataDir);
      await waitFor('the daemon to start opening its store', () => daemon.stderr().includes('sink store'), daemon);
      // The store start fails on the lock and is retried for 15 s; stop in the middle of that.
      await new Promise((resolve) => setTimeout(resolve, 1500));
      expect(daemon.stderr()).not.toContain('Recording into');
      const stop = await terminate(daemon);
      expect(stop.code, daemon.stderr()).toBe(3);
      expect(stop.ms).toBeLessThan(3000);
      expect(daemon.stderr()).toContain('SIGTERM: flushing and stopping');
      expect(spillFiles(dataDir)).toEqual(before);
    } finally {
      holder.kill('SIGKILL');
      await new Promise((resolve) => holder.once('exit', resolve));
    }

    await replayAndStop(dataDir);
    const store = await readStore(join(dataDir, 'vwatchd.db'));
    expectAllRows(store, lastSeq(dataDir));
    expect(lastSeq(dataDir)).toBeGreaterThan(last);
    // The locked run never opened the store, so it left no session.
    expect(store.sessions).toEqual(['close', 'close']);
  }, 90_000);

  it('SIGTERM while the store disk is full: keeps retrying (Node stays alive), writes everything once space is back, exit 0', async (context) => {
    await onFullDisk(context, 'full', async ({ dataDir, store, daemon, filler }) => {
      const sent = Date.now();
      daemon.child.kill('SIGTERM');
      // Space comes back while the stop is retrying: the rows must be written then, not lost at an early exit.
      await new Promise((resolve) => setTimeout(resolve, 1500));
      expect(daemon.child.exitCode).toBeNull();
      rmSync(filler);
      const exit = await exitWithin(daemon, STOP_BOUND_MS, sent);
      expect(exit.code, daemon.stderr()).toBe(0);
      expect(exit.at - sent).toBeLessThan(STOP_BOUND_MS);
      expect(daemon.stderr()).toContain('No space left on device');
      const stored = await readStore(store);
      expectAllRows(stored, lastSeq(dataDir));
      expect(stored.sessions).toEqual(['close']);
      expect(spillFiles(dataDir)).toEqual([]);
    });
  }, 90_000);

  it('SIGTERM while the store disk stays full: spills every row, exit 1 as the store cannot be closed; the next start writes them', async (context) => {
    await onFullDisk(context, 'full-stays', async ({ dataDir, store, daemon, filler }) => {
      const stop = await terminate(daemon);
      // The spill directory is on another file system with room: nothing is lost, but the session row could not be written.
      expect(stop.code, daemon.stderr()).toBe(1);
      expect(daemon.stderr()).toMatch(/Could not close store/);
      expect(daemon.stderr()).toMatch(/Stopped: \d+ rows written, [1-9]\d* rows spilled to disk for the next start, 0 rows lost \(exit 1\)/);
      expect(spillFiles(dataDir).length).toBeGreaterThan(0);

      rmSync(filler);
      await replayAndStop(dataDir);
      const stored = await readStore(store);
      expectAllRows(stored, lastSeq(dataDir));
      // The first session's store could not be checkpointed. Whether its one-row session update still
      // fit the WAL's last page (then it says close) or not (then the next start recorded a crash)
      // depends on the bytes the failed commits left; either is what happened. The second closed.
      expect(stored.sessions).toHaveLength(2);
      expect(['crash', 'close']).toContain(stored.sessions[0]);
      expect(stored.sessions[1]).toBe('close');
    });
  }, 90_000);

  it('a second SIGTERM exits 1 at once, after spilling what was queued; the next start writes it', async () => {
    // Past the grace in which a repeat counts as the same request (a terminal's and npm's copies).
    const { dataDir, daemon, exit, sent } = await signalTwice('twice', 'SIGTERM', 1100);
    expect(exit.code, daemon.stderr()).toBe(1);
    // Well before the 5 s flush deadline.
    expect(exit.at - sent).toBeLessThan(3000);
    expect(daemon.stderr()).toContain('SIGTERM again: exiting without waiting for the flush');
    expect(daemon.stderr()).toMatch(/Exiting: 0 rows written, [1-9]\d* rows spilled to disk for the next start, 0 rows lost; the store was not closed/);
    await replayAndStop(dataDir);
    const store = await readStore(join(dataDir, 'vwatchd.db'));
    expectAllRows(store, lastSeq(dataDir));
    expect(store.sessions).toEqual(['crash', 'close']);
  }, 90_000);

  it('SIGINT twice at once (a terminal’s Ctrl-C and npm forwarding it) is one clean stop, not a forced one', async () => {
    // The copy npm forwards arrives a moment after the terminal's.
    const { dataDir, daemon, exit } = await signalTwice('ctrl-c', 'SIGINT', 0);
    // 3: flushed until the deadline, then spilled, the store closed; a forced stop would be 1.
    expect(exit.code, daemon.stderr()).toBe(3);
    expect(daemon.stderr()).toContain('SIGINT again within 1000 ms');
    expect(daemon.stderr()).not.toContain('exiting without waiting for the flush');
    await replayAndStop(dataDir);
    const store = await readStore(join(dataDir, 'vwatchd.db'));
    expectAllRows(store, lastSeq(dataDir));
    expect(store.sessions).toEqual(['close', 'close']);
  }, 90_000);

  it('SIGTERM with a long query running: interrupts it and stops within seconds, everything written, exit 0', async () => {
    const dataDir = dataDirFor('query');
    configFor(dataDir);
    const daemon = startDaemon(dataDir);
    await waitFor('rows collected', () => daemon.stderr().includes('Recording into') && lastSeq(dataDir) >= 5, daemon);
    const answer = query(join(dataDir, 'vwatchd.sock'), { sql: 'select count(*) from range(100000000000)', timeoutMs: 120_000 });
    // Give the query time to get going on DuckDB's threads.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const stop = await terminate(daemon);
    expect(stop.code, daemon.stderr()).toBe(0);
    expect(stop.ms).toBeLessThan(5000);
    const answered = await answer;
    expect(answered.status === 0 || answered.status >= 400, JSON.stringify(answered)).toBe(true);
    const store = await readStore(join(dataDir, 'vwatchd.db'));
    expectAllRows(store, lastSeq(dataDir));
    expect(store.sessions).toEqual(['close']);
  }, 60_000);
});

/** Fills the file system holding `path` until it refuses more. */
function fill(path: string): void {
  const fd = openSync(path, 'w');
  const block = Buffer.alloc(64 * 1024, 1);
  try {
    for (;;) writeSync(fd, block);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
  } finally {
    closeSync(fd);
  }
  // Smaller writes take the last partial block too.
  const tail = openSync(path, 'a');
  try {
    for (;;) writeSync(tail, Buffer.alloc(512, 1));
  } catch {
    // Full.
  } finally {
    closeSync(tail);
  }
}

/** POSTs a query to the daemon's socket; status 0 means the connection ended without an answer. */
function query(socketPath: string, body: unknown): Promise<{ status: number; body: string }> {
  return new Promise((resolve) => {
    const text = JSON.stringify(body);
    const req = request({ socketPath, path: '/v1/query', method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) } }, (response) => {
      let data = '';
      response.on('data', (chunk: Buffer) => (data += chunk.toString()));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body: data }));
      response.on('error', () => resolve({ status: 0, body: data }));
    });
    req.on('error', (error) => resolve({ status: 0, body: error.message }));
    req.end(text);
  });
}

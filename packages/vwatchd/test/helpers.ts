// Shared by the daemon's hostile-load tests: a real vwatchd child on a temp data directory,
// queries over its Unix socket, and a watcher that sees every commit from outside the daemon.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../..', import.meta.url));
/** The daemon's launcher, as users run it. */
export const VWATCHD = join(root, 'packages/vwatchd/bin/vwatchd.js');
/** The CLI's launcher. */
export const VIRTUALEYES = join(root, 'packages/virtualeyes/bin/virtualeyes.js');

/** Resolves after `ms`. */
export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A running daemon. */
export interface TestDaemon {
  readonly dataDir: string;
  /** Its config file, in the data directory. */
  readonly config: string;
  readonly socket: string;
  readonly child: ChildProcess;
  stderr(): string;
  /** SIGTERM, then the exit code. */
  stop(): Promise<number | null>;
}

/** Starts vwatchd recording procfs every `intervalMs` into a fresh data directory; resolves once it records. */
export function startDaemon(prefix: string, intervalMs: number): Promise<TestDaemon> {
  const intervals = { processes: intervalMs, process_stats: intervalMs, cpu: intervalMs, load: intervalMs, memory: intervalMs };
  // Every collection written at once (no write window): the tests watch the recording write each interval while they query.
  return startWith(prefix, { probes: [{ use: '@virtualeyes/probe-procfs', intervals }], buffer: { writeWindowMs: 0 } });
}

/** Starts vwatchd with `settings` as its config file in a fresh data directory; resolves once it records (or gave up after 30 s). */
export async function startWith(prefix: string, settings: object): Promise<TestDaemon> {
  const dataDir = mkdtempSync(join(tmpdir(), prefix));
  const config = join(dataDir, 'vwatchd.conf');
  writeFileSync(config, JSON.stringify(settings));
  const child = spawn(process.execPath, [VWATCHD, '--config', config, '--data-dir', dataDir], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const until = Date.now() + 30_000;
  while (!stderr.includes('Recording into') && child.exitCode === null && Date.now() < until) await sleep(100);
  return {
    dataDir,
    config,
    socket: join(dataDir, 'vwatchd.sock'),
    child,
    stderr: () => stderr,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}

/** A reply of the query endpoint. */
export interface QueryReply {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: { status?: { code: string; retryable: boolean; message: string }; rows?: unknown[][] };
  /** Milliseconds from sending to the end of the reply. */
  readonly ms: number;
}

/** POSTs a query request to the daemon's socket. */
export function postQuery(socket: string, body: object): Promise<QueryReply> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: socket, method: 'POST', path: '/v1/query', headers: { 'content-type': 'application/json' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as QueryReply['body'],
          ms: performance.now() - started,
        }),
      );
    });
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

/**
 * Watches the store file and its WAL every 50 ms from outside the daemon: each commit changes
 * one of them, so the gaps between changes are the gaps between the recording's writes.
 * `stop()` returns the longest gap, counting the time since the last change.
 */
export function watchStore(dataDir: string): { stop(): Promise<{ changes: number; longestGapMs: number }> } {
  const changes: number[] = [];
  let last = '';
  let watching = true;
  const stamp = (): string =>
    ['vwatchd.db', 'vwatchd.db.wal']
      .map((name) => {
        try {
          const info = statSync(join(dataDir, name));
          return `${info.size}:${info.mtimeMs}`;
        } catch {
          return '-';
        }
      })
      .join('|');
  const loop = (async () => {
    while (watching) {
      const now = stamp();
      if (now !== last) {
        changes.push(performance.now());
        last = now;
      }
      await sleep(50);
    }
  })();
  return {
    async stop() {
      watching = false;
      await loop;
      const end = performance.now();
      const gaps = changes.slice(1).map((at, index) => at - changes[index]!);
      return { changes: changes.length, longestGapMs: Math.max(...gaps, end - (changes.at(-1) ?? end)) };
    },
  };
}

// The attack suite of sink-duckdb (its test/fixtures/attacks.json) against a real daemon over its
// socket, then against the stopped store through the CLI: every case is refused or harmless;
// meanwhile the daemon stays alive and keeps writing every interval; offline, the store file's
// hash does not change and no file appears beside it.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postQuery, sleep, startDaemon, VIRTUALEYES, watchStore, type QueryReply, type TestDaemon } from './helpers.js';

/** One case: refused with a message containing `refusal`, or answering when it is null. */
interface AttackCase {
  readonly group: string;
  readonly sql: string;
  readonly refusal: string | null;
}

const CASES: readonly AttackCase[] = JSON.parse(
  readFileSync(fileURLToPath(new URL('../../sink-duckdb/test/fixtures/attacks.json', import.meta.url)), 'utf8'),
) as AttackCase[];
/** Every how-many-th case also runs offline through the CLI (each is a process start). */
const OFFLINE_STRIDE = 12;
const INTERVAL_MS = 1000;

const sha256 = (path: string): string => createHash('sha256').update(readFileSync(path)).digest('hex');

function cli(args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [VIRTUALEYES, ...args], { timeout: 30_000 }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : 1, stdout, stderr });
    });
  });
}

describe('the attack suite against a running daemon, then offline', () => {
  let daemon: TestDaemon;
  const replies = new Map<number, QueryReply>();

  beforeAll(async () => {
    daemon = await startDaemon('ve-attack-', INTERVAL_MS);
    await sleep(INTERVAL_MS);
  });

  afterAll(async () => {
    await daemon.stop();
    rmSync(daemon.dataDir, { recursive: true, force: true });
  });

  it('has at least 110 refusals', () => {
    expect(CASES.filter((attack) => attack.refusal !== null).length).toBeGreaterThanOrEqual(110);
  });

  it('refuses every attack over the socket while the recording keeps writing every interval', async () => {
    const watcher = watchStore(daemon.dataDir);
    const before = await postQuery(daemon.socket, { sql: 'select count(distinct ts) as n from history.load' });
    const started = Date.now();
    for (const [index, attack] of CASES.entries()) {
      replies.set(index, await postQuery(daemon.socket, { sql: attack.sql.replaceAll('DIR', daemon.dataDir) }));
    }
    // Long enough to see several intervals even if the suite ran fast.
    const elapsed = Date.now() - started;
    if (elapsed < 4 * INTERVAL_MS) await sleep(4 * INTERVAL_MS - elapsed);
    const writes = await watcher.stop();
    const after = await postQuery(daemon.socket, { sql: 'select count(distinct ts) as n from history.load' });

    for (const [index, attack] of CASES.entries()) {
      const reply = replies.get(index)!;
      const what = `#${index} ${attack.sql}: ${reply.status} ${JSON.stringify(reply.body.status ?? {})}`;
      if (attack.refusal === null) {
        // Harmless: it answers, or fails as a plain user error on this daemon's tables.
        expect([200, 400], what).toContain(reply.status);
        continue;
      }
      expect(reply.status, what).toBe(400);
      expect(reply.body.status?.code, what).toBe('INVALID_ARGUMENT');
      // This daemon records procfs's tables, not the sink tests' ones: a case naming one of
      // those may be refused for that table first.
      const message = reply.body.status?.message ?? '';
      const expected = attack.refusal.replaceAll('DIR', daemon.dataDir);
      expect(message.includes(expected) || /table \w+ is not a recorded table/.test(message), `${what}; expected ${expected}`).toBe(true);
    }
    expect(daemon.child.exitCode, daemon.stderr()).toBeNull();
    expect(writes.longestGapMs, 'longest gap between two commits').toBeLessThan(2 * INTERVAL_MS + 500);
    const samples = (reply: QueryReply): number => Number(reply.body.rows?.[0]?.[0]);
    expect(samples(after) - samples(before)).toBeGreaterThanOrEqual(Math.floor((Date.now() - started) / INTERVAL_MS) - 2);
    // Nothing forged a log line or wrote beside the store.
    expect(daemon.stderr()).not.toMatch(/forged/);
    expect(readdirSync(daemon.dataDir).sort()).toEqual(expect.arrayContaining(['vwatchd.db', 'vwatchd.sock']));
    expect(readdirSync(daemon.dataDir).filter((name) => !['vwatchd.conf', 'vwatchd.db', 'vwatchd.db.wal', 'vwatchd.db.tmp', 'vwatchd.sock'].includes(name))).toEqual([]);
  }, 120_000);

  it('stops cleanly afterwards, and offline the attacks leave the store file unchanged', async () => {
    expect(await daemon.stop()).toBe(0);
    const store = join(daemon.dataDir, 'vwatchd.db');
    const hash = sha256(store);
    const files = readdirSync(daemon.dataDir).sort();
    const offline = CASES.filter((_, index) => index % OFFLINE_STRIDE === 0);
    for (const attack of offline) {
      const result = await cli(['--data-dir', daemon.dataDir, 'query', attack.sql.replaceAll('DIR', daemon.dataDir)]);
      const what = `${attack.sql}: exit ${result.code} ${result.stderr}`;
      if (attack.refusal === null) expect([0, 2], what).toContain(result.code);
      else expect(result.code, what).toBe(2);
      expect(result.stderr.split('\n').filter((line) => line !== '').length, what).toBeLessThanOrEqual(1);
    }
    expect(sha256(store)).toBe(hash);
    expect(readdirSync(daemon.dataDir).sort()).toEqual(files);
    // The recording is intact and readable.
    const count = await cli(['--data-dir', daemon.dataDir, 'query', 'select count(*) as n from history.load', '--format', 'json']);
    expect(count.code, count.stderr).toBe(0);
    expect((JSON.parse(count.stdout) as { n: number }[])[0]!.n).toBeGreaterThan(3);
  }, 180_000);
});

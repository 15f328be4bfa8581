// SIGKILL while the writer moves its stage: a real writer process (test/fixtures/write-forever.mjs)
// moves vw_stage into vw_raw and checkpoints every three batches and is killed at random moments
// 25 times (every other time once it has written a batch), each run continuing where the store left off. After every kill the store opens and
// every batch the writer reported written is in history.process_stats' view exactly once per
// entity: a move is one transaction, so no row is lost or counted in both tables.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { DuckDBInstance } from '@duckdb/node-api';
import { beforeAll, expect, it } from 'vitest';
import { buildSink, fixture } from './child-processes.js';
import { useTempDir } from './helpers.js';

const newPath = useTempDir('sink-duckdb-stage-crash-');
const KILLS = 25;
const ENTITIES = 20;

/**
 * Runs the writer from batch `first` for `ms` milliseconds (counted from its first reported batch
 * with `afterFirst`: a loaded machine may spend the whole of a short run starting), SIGKILLs it,
 * and returns the batches it reported written.
 */
async function runAndKill(path: string, first: number, ms: number, afterFirst: boolean): Promise<number[]> {
  const child = spawn(process.execPath, [fixture('write-forever.mjs'), path, String(first), String(3 * ENTITIES)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  if (afterFirst) {
    await new Promise<void>((resolve) => {
      const cap = setTimeout(resolve, 30_000);
      const look = (): void => {
        if (!stdout.includes('\n')) return;
        clearTimeout(cap);
        child.stdout.off('data', look);
        resolve();
      };
      child.stdout.on('data', look);
      void exited.then(() => resolve());
    });
  }
  await new Promise((resolve) => setTimeout(resolve, ms));
  child.kill('SIGKILL');
  const code = await exited;
  expect(code, stderr).toBeNull();
  return stdout.split('\n').filter((line) => line !== '').map(Number);
}

/** Rows per batch number in the store, and how many rows each physical table holds. */
async function readStore(path: string): Promise<{ perSeq: Map<number, number>; raw: number; stage: number }> {
  // A writer killed while it still opened the store may leave no file, or one without the table yet.
  if (!existsSync(path)) return { perSeq: new Map(), raw: 0, stage: 0 };
  const instance = await DuckDBInstance.create(path, { access_mode: 'READ_ONLY' });
  const connection = await instance.connect();
  try {
    const tables = await connection.runAndReadAll("SELECT count(*) FROM duckdb_views() WHERE schema_name = 'history' AND view_name = 'ticks'");
    if (Number(tables.getRowsJS()[0]?.[0]) === 0) return { perSeq: new Map(), raw: 0, stage: 0 };
    const rows = await connection.runAndReadAll('SELECT seq, count(*) FROM history.ticks WHERE _gone IS NOT TRUE GROUP BY seq');
    const one = async (sql: string): Promise<number> => Number((await connection.runAndReadAll(sql)).getRowsJS()[0]?.[0]);
    return {
      perSeq: new Map(rows.getRowsJS().map(([seq, n]) => [Number(seq), Number(n)])),
      raw: await one('SELECT count(*) FROM vw_raw.ticks'),
      stage: await one('SELECT count(*) FROM vw_stage.ticks'),
    };
  } finally {
    connection.disconnectSync();
    instance.closeSync();
  }
}

beforeAll(async () => {
  await buildSink();
}, 120_000);

it(`keeps every written batch exactly once across ${KILLS} SIGKILLs while the stage moves every three batches`, async () => {
  const path = newPath();
  let next = 0;
  let written = -1;
  let moved = 0;
  for (let kill = 0; kill < KILLS; kill += 1) {
    const ms = 300 + Math.floor(Math.random() * 900);
    // Every other run is killed at any moment from its spawn (opening the store included), the rest while writing.
    const acked = await runAndKill(path, next, ms, kill % 2 === 1);
    if (acked.length > 0) written = Math.max(written, acked.at(-1) ?? written);
    const store = await readStore(path);
    const where = `kill ${kill} after ${ms} ms, batches written up to ${written}`;
    for (let seq = 0; seq <= written; seq += 1) expect(store.perSeq.get(seq), `${where}: batch ${seq}`).toBe(ENTITIES);
    // Nothing beyond one batch this run committed but had not reported yet (the first one, if it reported none).
    const bound = Math.max(written, next - 1) + 1;
    for (const [seq, n] of store.perSeq) expect([seq <= bound, n], `${where}: batch ${seq}`).toEqual([true, ENTITIES]);
    moved = Math.max(moved, store.raw);
    next = Math.max(written, ...store.perSeq.keys()) + 1;
  }
  // The kills fell among moves: rows reached vw_raw, and the stage held at most what came after the last move.
  expect(moved).toBeGreaterThan(10 * ENTITIES);
  expect(written).toBeGreaterThanOrEqual(Math.floor(KILLS / 2));
}, 180_000);

// The offline reader: a closed store opens read-only with the same query surface; a missing
// file is NOT_FOUND; a file a running writer (another process) holds is UNAVAILABLE.
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ReaderDeps } from '@virtualeyes/core';
import { createFakeClock, createMemoryLogger, createTestDeps } from '@virtualeyes/core/testing';
import { createReader, createSink, ONLY_SELECT, parseConfig } from '../src/index.js';
import { count, PROCESSES, rowsOf, SECOND, startSink, T0, useTempDir } from './helpers.js';
import { buildSink, startFixture, stopFixture } from './child-processes.js';

const newPath = useTempDir();
// The CLI's clock runs on after the recording stopped: a minute later here.
const deps = (dataDir = '/nonexistent'): ReaderDeps => ({ clock: createFakeClock(T0 + 60 * SECOND), logger: createMemoryLogger(), dataDir });

async function recorded(): Promise<string> {
  const path = newPath();
  const { sink, clock } = await startSink(path);
  await sink.write([{ table: 'processes', ts: T0, snapshot: true, rows: [{ pid: 1, start_time: 1, comm: 'init', args: [] }] }]);
  await clock.advance(10 * SECOND);
  await sink.close();
  return path;
}

describe('offline reader', () => {
  it('opens a closed store read-only and answers like the live one', async () => {
    const path = await recorded();
    const reader = await createReader({ path }, deps());
    if (!reader.ok) expect.fail(reader.status.message);
    expect(await rowsOf(reader.value, { sql: 'SELECT pid, comm FROM processes', at: T0 + 5 * SECOND })).toEqual([{ pid: 1, comm: 'init' }]);
    expect(await count(reader.value, 'SELECT count(*) FROM processes', { at: T0 + 20 * SECOND })).toBe(0);
    const tables = await reader.value.tables();
    expect(tables.ok && tables.value.map((table) => [table.name, table.rows])).toEqual([
      ['exits', 0],
      ['os', 0],
      ['process_stats', 0],
      ['processes', 1],
    ]);
    const info = await reader.value.info();
    expect(info.ok && info.value).toMatchObject({ path, first: T0, last: T0 + 10 * SECOND, hosts: ['host-a'] });
    const refused = await reader.value.query({ sql: 'DELETE FROM processes' });
    expect(!refused.ok && refused.status.message).toBe(ONLY_SELECT);
    const external = await reader.value.query({ sql: "SELECT * FROM read_csv('/etc/passwd')" });
    expect(external.ok).toBe(false);
    expect((await reader.value.close()).code).toBe('OK');
    expect((await reader.value.close()).code).toBe('OK');
    const after = await reader.value.query({ sql: 'SELECT 1' });
    expect(!after.ok && after.status.code).toBe('UNAVAILABLE');
  });

  it('finds the default file in the data directory', async () => {
    const path = await recorded();
    const reader = await createReader({}, deps(dirname(path)));
    expect(reader.ok).toBe(true);
    if (reader.ok) await reader.value.close();
  });

  it('says NOT_FOUND when there is no recording', async () => {
    const path = join(dirname(newPath()), 'missing.db');
    const reader = await createReader({ path }, deps());
    expect(reader.ok).toBe(false);
    if (!reader.ok) expect(reader.status).toMatchObject({ code: 'NOT_FOUND', message: `no recording at ${path}; start vwatchd first` });
  });

  it('says NOT_FOUND for a DuckDB file that is not a recording', async () => {
    const path = newPath();
    mkdirSync(dirname(path), { recursive: true });
    const other = await DuckDBInstance.create(path);
    const connection = await other.connect();
    await connection.run('CREATE TABLE unrelated (a INTEGER)');
    connection.disconnectSync();
    other.closeSync();
    const reader = await createReader({ path }, deps());
    expect(!reader.ok && reader.status).toMatchObject({ code: 'NOT_FOUND', message: `${path} is not a virtualeyes recording` });
    // The refused file was released: it opens again.
    const again = await DuckDBInstance.create(path);
    again.closeSync();
  });

  it('refuses bad options', async () => {
    const reader = await createReader({ maxRows: 0 } as never, deps());
    expect(!reader.ok && reader.status.code).toBe('INVALID_CONFIG');
  });
});

describe('while another process writes', () => {
  beforeAll(buildSink, 120_000);

  it('says UNAVAILABLE and points at the daemon socket', async () => {
    const path = await recorded();
    const holder = await startFixture('hold-store.mjs', [path], 'ready');
    try {
      const reader = await createReader({ path }, deps());
      expect(reader.ok).toBe(false);
      if (!reader.ok) {
        expect(reader.status).toMatchObject({ code: 'UNAVAILABLE', message: `${path} is in use by a running vwatchd; query through its socket`, retryable: true });
      }
    } finally {
      await stopFixture(holder);
    }
    // Once the writer is gone, the file opens again and the holder's clean close shows.
    const reader = await createReader({ path }, deps());
    if (!reader.ok) expect.fail(reader.status.message);
    expect(await rowsOf(reader.value, { sql: 'SELECT host, stop_reason FROM vw_meta.sessions ORDER BY id' })).toEqual([
      { host: 'host-a', stop_reason: 'close' },
      { host: 'holder', stop_reason: 'close' },
    ]);
    await reader.value.close();
  });

  it('refuses a second writer with UNAVAILABLE', async () => {
    const path = await recorded();
    const holder = await startFixture('hold-store.mjs', [path], 'ready');
    try {
      const config = parseConfig({ path });
      if (!config.ok) expect.fail(config.status.message);
      const created = createSink(config.value, createTestDeps());
      if (!created.ok) expect.fail(created.status.message);
      const started = await created.value.start({ tables: [PROCESSES] });
      expect(started.code).toBe('UNAVAILABLE');
      expect(started.message).toContain('Could not set lock');
      expect(created.value.reader?.()).toBeUndefined();
    } finally {
      await stopFixture(holder);
    }
  });
});

// A new store file is created atomically: a creation cut short (what a SIGKILL while DuckDB
// writes its first blocks leaves) is only a scratch file, which the next start replaces, and a
// file at the store's path is always a valid DuckDB database.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../src/index.js';
import { CREATING_SUFFIX, createStoreFile } from '../src/store.js';
import { count, PROCESSES, startSink, T0, useTempDir } from './helpers.js';

const newPath = useTempDir('sink-duckdb-create-');

describe('store creation', () => {
  it('replaces a creation cut short, leaves no scratch file, and records into the new store', async () => {
    const path = newPath();
    mkdirSync(dirname(path), { recursive: true });
    // Half a header: what DuckDB had written when a kill stopped it.
    writeFileSync(`${path}${CREATING_SUFFIX}`, Buffer.alloc(4096, 7));
    writeFileSync(`${path}${CREATING_SUFFIX}.wal`, 'garbage');
    const started = await startSink(path);
    expect(existsSync(`${path}${CREATING_SUFFIX}`)).toBe(false);
    expect(existsSync(`${path}${CREATING_SUFFIX}.wal`)).toBe(false);
    const row = { pid: 1, start_time: 10, comm: 'init', args: ['/sbin/init'] };
    expect((await started.sink.write([{ table: PROCESSES.name, ts: T0, snapshot: true, rows: [row] }])).status.code).toBe('OK');
    expect(await count(started.reader, 'SELECT count(*) FROM processes')).toBe(1);
    expect((await started.sink.close()).code).toBe('OK');
    // DuckDB's file header: its magic number at offset 8.
    expect(readFileSync(path).subarray(8, 12).toString('latin1')).toBe('DUCK');
  });

  it('creates a file DuckDB opens, or says why it cannot', async () => {
    const path = newPath();
    mkdirSync(dirname(path), { recursive: true });
    const parsed = parseConfig({ path });
    if (!parsed.ok) throw new Error(parsed.status.message);
    expect(await createStoreFile(path, parsed.value)).toEqual({ ok: true, value: undefined });
    expect(readFileSync(path).subarray(8, 12).toString('latin1')).toBe('DUCK');
    // Made with the store's options: its block size, not DuckDB's default of 256 KiB.
    const instance = await DuckDBInstance.create(path, { access_mode: 'READ_ONLY' });
    const connection = await instance.connect();
    const size = await connection.runAndReadAll('SELECT block_size FROM pragma_database_size()');
    expect(Number(size.getRowsJS()[0]?.[0])).toBe(64 * 1024);
    connection.disconnectSync();
    instance.closeSync();
    const refused = await createStoreFile('/proc/nowhere/vwatchd.db', parsed.value);
    expect(refused.ok).toBe(false);
  });
});

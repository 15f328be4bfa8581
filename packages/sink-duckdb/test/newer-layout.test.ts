// A store written by a newer layout than this sink knows is refused with a clear Status (what
// to do about it), by the writer and by the offline reader alike, and the file is left as it
// was: byte for byte, its catalogue and rows untouched.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { DuckDBInstance } from '@duckdb/node-api';
import { describe, expect, it } from 'vitest';
import { createSystemClock } from '@virtualeyes/core';
import { createFakeClock, createMemoryLogger, createTestDeps } from '@virtualeyes/core/testing';
import { createReader, createSink, parseConfig } from '../src/index.js';
import { startSink, T0, TABLES, useTempDir } from './helpers.js';

const newPath = useTempDir('sink-duckdb-newer-');
const digest = (path: string): string => createHash('sha256').update(readFileSync(path)).digest('hex');

describe('a store of a newer layout', () => {
  it('is refused by the writer and the reader, and left untouched', async () => {
    const path = newPath();
    const first = await startSink(path);
    await first.sink.write([{ table: 'process_stats', ts: T0, snapshot: true, rows: [{ pid: 1, rss: 10, cpu: 0 }] }]);
    await first.clock.advance(1000);
    expect((await first.sink.close()).code).toBe('OK');
    // What a future sink-duckdb would leave: a higher layout version in the store's metadata.
    const instance = await DuckDBInstance.create(path);
    const connection = await instance.connect();
    await connection.run(`INSERT INTO vw_meta.store VALUES (99, now())`);
    await connection.run('CHECKPOINT');
    connection.disconnectSync();
    instance.closeSync();
    const before = digest(path);

    const config = parseConfig({ path });
    if (!config.ok) expect.fail(config.status.message);
    const created = createSink(config.value, createTestDeps({ name: 'store', clock: createFakeClock(T0 + 5000) }));
    if (!created.ok) expect.fail(created.status.message);
    created.value.init();
    const started = await created.value.start({ tables: TABLES });
    expect(started).toMatchObject({ code: 'UNSUPPORTED', source: 'store', op: 'start' });
    expect(started.message).toBe(
      'the store was written by a newer sink-duckdb (layout version 99; this one knows up to 3): install a newer @virtualeyes/sink-duckdb, or give this one another path; the file is left as it is',
    );
    expect((await created.value.close()).code).toBe('OK');
    expect(digest(path)).toBe(before);

    const reader = await createReader(config.value, { clock: createSystemClock(), logger: createMemoryLogger(), dataDir: '/nonexistent' });
    expect(reader.ok ? 'OK' : reader.status).toMatchObject({ code: 'UNSUPPORTED', op: 'open store', message: expect.stringContaining('layout version 99') });
    expect(digest(path)).toBe(before);
  });
});

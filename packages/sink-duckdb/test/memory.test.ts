// Memory bounds of a store instance: its buffer pool and spill directory come from the config;
// a query that needs more than memoryLimit spills beside the store file, and no further than
// maxTempDirectorySize (which DuckDB 1.5 ignores as an open option, so this proves the run-time
// setting holds); the configuration is still locked afterwards.
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { DuckDBInstance } from '@duckdb/node-api';
import { DEFAULT_CONFIG, parseConfig } from '../src/index.js';
import { AccessMode, openInstance, tempDirectoryOf } from '../src/store.js';
import { classifyDuckDbError } from '../src/errors.js';
import { useTempDir } from './helpers.js';

const newPath = useTempDir('sink-duckdb-memory-');
// About 70 MB of sort input: twice the memory limit below.
const ROWS = 1_000_000;
const SPILL_LIMIT = '32MB';
const SORT = `SELECT s, i FROM t ORDER BY s DESC OFFSET ${ROWS - 5}`;

async function open(options: Record<string, unknown>): Promise<{ path: string; instance: DuckDBInstance }> {
  const path = newPath();
  mkdirSync(dirname(path), { recursive: true });
  const config = parseConfig({ path, threads: 1, ...options });
  if (!config.ok) expect.fail(config.status.message);
  const opened = await openInstance(path, config.value, AccessMode.READ_WRITE);
  if (!opened.ok) expect.fail(opened.status.message);
  return { path, instance: opened.value };
}

/** Bytes on disk under `directory` (allocated blocks, as a full disk would count them). */
function bytesUnder(directory: string): number {
  if (!existsSync(directory)) return 0;
  // DuckDB deletes spill files while we look: a file gone between the listing and its stat counts nothing.
  return readdirSync(directory).reduce((sum, name) => sum + (statSync(join(directory, name), { throwIfNoEntry: false })?.blocks ?? 0) * 512, 0);
}

/** Runs the big sort while watching the spill directory; returns the outcome and the most bytes seen there. */
async function sortWatching(instance: DuckDBInstance, directory: string): Promise<{ error?: unknown; rows?: number; spilledBytes: number }> {
  const connection = await instance.connect();
  await connection.run(`CREATE TABLE t AS SELECT i, md5(i::VARCHAR) || md5((i * 7)::VARCHAR) AS s FROM range(${ROWS}) r(i)`);
  let spilledBytes = 0;
  const watch = setInterval(() => {
    spilledBytes = Math.max(spilledBytes, bytesUnder(directory));
  }, 20);
  try {
    const reader = await connection.runAndReadAll(SORT);
    return { rows: reader.getRows().length, spilledBytes };
  } catch (error) {
    return { error, spilledBytes };
  } finally {
    clearInterval(watch);
    connection.disconnectSync();
  }
}

describe('memory bounds of the store', () => {
  it('defaults to a 64 MB buffer pool and a 1 GB spill bound', () => {
    expect(DEFAULT_CONFIG).toMatchObject({ memoryLimit: '64MB', maxTempDirectorySize: '1GB' });
    expect(parseConfig({ maxTempDirectorySize: 'lots' }).ok).toBe(false);
    expect(parseConfig({ maxTempDirectorySize: '50%' }).ok).toBe(false);
  });

  it('opens with the memory options of its config, then locks them', async () => {
    const { path, instance } = await open({ memoryLimit: '48MB', maxTempDirectorySize: '512MB' });
    const connection = await instance.connect();
    try {
      const settings = await connection.runAndReadAll(
        "SELECT current_setting('memory_limit'), current_setting('temp_directory'), current_setting('max_temp_directory_size'), current_setting('lock_configuration')",
      );
      expect(settings.getRowsJS()[0]).toEqual(['45.7 MiB', tempDirectoryOf(path), '488.2 MiB', true]);
      expect(tempDirectoryOf(path)).toBe(`${path}.tmp`);
      await expect(connection.run("SET memory_limit = '1GB'")).rejects.toThrow(/Cannot change configuration option/);
    } finally {
      connection.disconnectSync();
      instance.closeSync();
    }
  });

  it('spills a sort larger than memoryLimit into <store>.tmp and still answers', async () => {
    const { path, instance } = await open({ memoryLimit: SPILL_LIMIT, maxTempDirectorySize: '1GB' });
    try {
      const outcome = await sortWatching(instance, tempDirectoryOf(path));
      expect(outcome.error).toBeUndefined();
      expect(outcome.rows).toBe(5);
      // More than the memory limit went to disk, in the directory beside the store.
      expect(outcome.spilledBytes).toBeGreaterThan(32 * 1024 * 1024);
    } finally {
      instance.closeSync();
    }
    expect(existsSync(tempDirectoryOf(path))).toBe(false);
  });

  it('fails the same sort once it would spill more than maxTempDirectorySize', async () => {
    const { path, instance } = await open({ memoryLimit: SPILL_LIMIT, maxTempDirectorySize: '2MB' });
    try {
      const outcome = await sortWatching(instance, tempDirectoryOf(path));
      expect(outcome.rows).toBeUndefined();
      const status = classifyDuckDbError(outcome.error, 'query');
      expect(status.code).toBe('UNAVAILABLE');
      expect(status.message).toMatch(/max_temp_directory_size/);
      expect(outcome.spilledBytes).toBeLessThanOrEqual(4 * 1024 * 1024);
    } finally {
      instance.closeSync();
    }
  });
});

// A store on a full disk: writes fail retryably, and a flush (a checkpoint) is refused as
// UNAVAILABLE instead of running, because DuckDB treats a checkpoint that runs out of space as
// fatal and invalidates the database. Once space returns the same instance flushes and writes
// again, with every row committed before the disk filled still there. A real 2 MB tmpfs.
import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, rmSync, statfsSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, type TestContext } from 'vitest';
import { WAL_CHECKPOINT_BYTES } from '../src/store.js';
import { count, PROCESS_STATS, SECOND, startSink, T0, useTempDir } from './helpers.js';

const newDir = useTempDir('sink-duckdb-full-');

/** Fills the file system of `path` to the last byte. */
function fill(path: string): void {
  for (const size of [64 * 1024, 512, 1]) {
    const fd = openSync(path, 'a');
    try {
      for (;;) writeSync(fd, Buffer.alloc(size, 1));
    } catch {
      // Full at this write size.
    } finally {
      closeSync(fd);
    }
  }
}

describe('a store on a full disk', () => {
  it('refuses to checkpoint while full, and flushes and writes once space returns', async (context: TestContext) => {
    if (process.getuid?.() !== 0) {
      if (process.env['CI'] === 'true') expect.fail('the disk-full test needs root in CI');
      context.skip('mounting a small tmpfs needs root');
    }
    const disk = join(newDir(), 'disk');
    mkdirSync(disk, { recursive: true });
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', disk]);
    try {
      const { sink, clock, reader } = await startSink(join(disk, 'vwatchd.db'), { tables: [PROCESS_STATS] });
      const batch = (n: number) => ({ table: 'process_stats', ts: T0 + n * SECOND, snapshot: true, rows: [{ pid: 1, rss: n, cpu: n }] });
      let n = 0;
      for (; n < 5; n += 1) expect((await sink.write([batch(n)])).status.code).toBe('OK');
      const filler = join(disk, 'filler');
      fill(filler);
      // The WAL's last partly filled page takes a few more commits; then writes fail, retryably.
      let failed = false;
      for (let tries = 0; tries < 200 && !failed; tries += 1) {
        const result = await sink.write([batch(n)]);
        if (result.status.code === 'OK') n += 1;
        else {
          expect(result.status).toMatchObject({ code: 'UNAVAILABLE', retryable: true });
          failed = true;
        }
      }
      expect(failed).toBe(true);
      const refused = await sink.flush();
      expect(refused).toMatchObject({ code: 'UNAVAILABLE', retryable: true });
      expect(refused.message).toContain('No space left on device');

      rmSync(filler);
      expect((await sink.flush()).code).toBe('OK');
      expect((await sink.write([batch(n)])).status.code).toBe('OK');
      await clock.advance(SECOND);
      expect(await count(reader, 'select count(*) from history.process_stats')).toBe(n + 1);
      const closed = await sink.close();
      expect(closed.code, closed.message).toBe('OK');
    } finally {
      execFileSync('umount', [disk]);
    }
  });

  // DuckDB's own automatic checkpoint (at a 16 MiB WAL, inside the commit that crosses it) would
  // run out of disk here and invalidate the database; the writer's own checkpoint checks first.
  it('lets the WAL grow past the checkpoint size on a nearly full disk without invalidating the store', async (context: TestContext) => {
    if (process.getuid?.() !== 0) {
      if (process.env['CI'] === 'true') expect.fail('the disk-full test needs root in CI');
      context.skip('mounting a small tmpfs needs root');
    }
    const disk = join(newDir(), 'disk');
    mkdirSync(disk, { recursive: true });
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=40m', 'tmpfs', disk]);
    try {
      const path = join(disk, 'vwatchd.db');
      // Every row a change (a new rss); batches small enough for DuckDB to log their rows in the WAL (it writes big appends to the file directly).
      const { sink, clock, reader } = await startSink(path, { tables: [PROCESS_STATS], config: { sortRows: 0 } });
      const batch = (n: number) => ({
        table: 'process_stats',
        ts: T0 + n * SECOND,
        snapshot: true,
        rows: Array.from({ length: 2_000 }, (_, pid) => ({ pid, rss: n * 1_000_003 + pid * 7919, cpu: n + pid / 3 })),
      });
      expect((await sink.flush()).code).toBe('OK');
      // Room for the WAL to pass the checkpoint size, not for the checkpoint after it.
      const { bavail, bsize } = statfsSync(disk);
      writeFileSync(join(disk, 'filler'), Buffer.alloc(Number(bavail) * Number(bsize) - WAL_CHECKPOINT_BYTES - 3 * 1024 * 1024));
      const wal = (): number => (existsSync(`${path}.wal`) ? statSync(`${path}.wal`).size : 0);
      let written = 0;
      let refused = 0;
      for (let n = 0; n < 2000 && refused < 3; n += 1) {
        const result = await sink.write([batch(n)]);
        if (result.status.code === 'OK') written += 1;
        else {
          expect(result.status).toMatchObject({ code: 'UNAVAILABLE', retryable: true });
          refused += 1;
        }
      }
      // The WAL passed the size at which DuckDB would have checkpointed, and the disk then filled.
      expect(wal()).toBeGreaterThan(WAL_CHECKPOINT_BYTES);
      expect(refused).toBeGreaterThan(0);
      expect(await count(reader, 'select count(*) from history.process_stats')).toBe(written * 2_000);

      rmSync(join(disk, 'filler'));
      expect((await sink.write([batch(100)])).status.code).toBe('OK');
      // The next write finds room and checkpoints: the WAL is folded into the file.
      expect(wal()).toBeLessThan(WAL_CHECKPOINT_BYTES);
      await clock.advance(SECOND);
      expect(await count(reader, 'select count(*) from history.process_stats')).toBe((written + 1) * 2_000);
      expect((await sink.close()).code).toBe('OK');
    } finally {
      // Lazily: after a failed assertion the sink still holds its files open.
      execFileSync('umount', ['-l', disk]);
    }
  });
});

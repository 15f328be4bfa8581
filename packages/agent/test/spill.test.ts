// The spill store on a real temp directory: files in write order with the documented modes,
// bigints, Dates and non-finite numbers round-tripping, the byte limit, and a corrupt or
// truncated file moved aside instead of breaking a start.
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createSpillStore, decodeSpill, encodeSpill } from '../src/spill.js';
import type { Batch, Status } from '@virtualeyes/core';

const root = mkdtempSync(join(tmpdir(), 've-spill-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let dirs = 0;
const freshDir = (): string => join(root, `case-${(dirs += 1)}`, 'spill', 'duckdb');

const batch = (n: number, rows = 1): Batch => ({
  table: 't',
  ts: 1_700_000_000_000 + n,
  snapshot: n % 2 === 0,
  rows: Array.from({ length: rows }, (_, i) => ({ n, big: 2n ** 62n + BigInt(n), i, name: `row ${n}`, tags: ['a', 'b'], missing: null, on: true })),
});

describe('spill store', () => {
  it('writes batches as numbered files (0640 in a 0750 directory) and reads them back equal, bigints included', () => {
    const dir = freshDir();
    const spill = createSpillStore({ dir, sink: 'duckdb', maxBytes: 1_000_000 });
    expect(spill.pending()).toEqual([]);
    const first = spill.append([batch(1, 2), batch(2)]);
    expect(first).toMatchObject({ batches: 2, rows: 3, droppedBatches: 0, status: { code: 'OK' } });
    spill.append([batch(3)]);
    expect(readdirSync(dir).sort()).toEqual(['000000000001.jsonl', '000000000002.jsonl']);
    expect(statSync(dir).mode & 0o777).toBe(0o750);
    expect(statSync(join(dir, '000000000001.jsonl')).mode & 0o777).toBe(0o640);

    // A new store over the same directory (the next start) finds them, oldest first.
    const again = createSpillStore({ dir, sink: 'duckdb', maxBytes: 1_000_000 });
    expect(again.pending().map((file) => [file.seq, file.batches, file.rows])).toEqual([
      [1, 2, 3],
      [2, 1, 1],
    ]);
    const read = again.read(again.pending()[0]!);
    expect(read.ok && read.value).toEqual([batch(1, 2), batch(2)]);
    if (read.ok) expect(typeof read.value[0]!.rows[0]!['big']).toBe('bigint');
  });

  it('round-trips Dates, NaN and infinities, which plain JSON cannot', () => {
    const odd = { table: 'odd', ts: 5, snapshot: false, rows: [{ at: new Date(1_700_000_000_123), nan: Number.NaN, inf: -Infinity, big: -(2n ** 63n) }] };
    const decoded = decodeSpill(encodeSpill([odd as unknown as Batch], 'x', 0));
    expect(decoded.ok).toBe(true);
    if (!decoded.ok) return;
    const row = decoded.value[0]!.rows[0] as unknown as { at: Date; nan: number; inf: number; big: bigint };
    expect(row.at).toBeInstanceOf(Date);
    expect(row.at.getTime()).toBe(1_700_000_000_123);
    expect(row.nan).toBeNaN();
    expect(row.inf).toBe(-Infinity);
    expect(row.big).toBe(-(2n ** 63n));
  });

  it("keeps an event batch's per-row times, and refuses a line whose times do not match its rows", () => {
    const timed = { table: 'beeps', ts: 10, snapshot: false, rows: [{ n: 1 }, { n: 2 }], times: [8.25, 10] };
    const decoded = decodeSpill(encodeSpill([timed, batch(1)], 'x', 0));
    expect(decoded.ok && decoded.value).toEqual([timed, batch(1)]);
    expect(decoded.ok && 'times' in decoded.value[1]!).toBe(false);
    const bad = encodeSpill([{ ...timed, times: [8.25] }], 'x', 0);
    expect(decodeSpill(bad).ok).toBe(false);
    // A state batch's ends, null for an entity that goes on.
    const ended = { table: 'things', ts: 10, snapshot: false, rows: [{ n: 1 }, { n: 2 }], times: [2, 3], ends: [9.5, null] };
    const back = decodeSpill(encodeSpill([ended], 'x', 0));
    expect(back.ok && back.value).toEqual([ended]);
    expect(decodeSpill(encodeSpill([{ ...ended, ends: [9.5] }], 'x', 0)).ok).toBe(false);
  });

  it('stops at the byte limit and counts what it could not keep', () => {
    const dir = freshDir();
    const statuses: Status[] = [];
    const size = encodeSpill([batch(1)], 'duckdb', 0).length;
    const spill = createSpillStore({ dir, sink: 'duckdb', maxBytes: size * 2, onStatus: (status) => statuses.push(status) });
    const result = spill.append([batch(1), batch(2), batch(3), batch(4)]);
    expect(result.batches).toBeGreaterThan(0);
    expect(result.batches + result.droppedBatches).toBe(4);
    expect(result.droppedRows).toBe(result.droppedBatches);
    expect(result.status).toMatchObject({ code: 'UNAVAILABLE', source: 'duckdb' });
    expect(statuses[0]?.message).toContain('spill limit');
    expect(spill.pending().reduce((sum, file) => sum + file.bytes, 0)).toBeLessThanOrEqual(size * 2);

    const off = createSpillStore({ dir: freshDir(), sink: 'duckdb', maxBytes: 0 });
    expect(off.append([batch(1)])).toMatchObject({ batches: 0, droppedBatches: 1, droppedRows: 1 });
  });

  it('splits large spills into files of at most fileMaxBytes', () => {
    const dir = freshDir();
    const one = encodeSpill([batch(1, 50)], 'duckdb', 0).length;
    const spill = createSpillStore({ dir, sink: 'duckdb', maxBytes: 10_000_000, fileMaxBytes: one * 2 });
    spill.append(Array.from({ length: 6 }, (_, i) => batch(i, 50)));
    const files = spill.pending();
    expect(files.length).toBeGreaterThanOrEqual(3);
    expect(files.flatMap((file) => (spill.read(file).ok ? [file.batches] : [])).reduce((a, b) => a + b, 0)).toBe(6);
  });

  it('moves a corrupt or truncated file aside as .bad with a warning, and keeps the others', () => {
    const dir = freshDir();
    const writer = createSpillStore({ dir, sink: 'duckdb', maxBytes: 1_000_000 });
    writer.append([batch(1)]);
    writer.append([batch(2)]);
    writer.append([batch(3)]);
    const [first, second] = writer.pending();
    // Truncated mid-line, and a header that is not one.
    const text = readFileSync(first!.path, 'utf8');
    writeFileSync(first!.path, text.slice(0, text.length - 10));
    writeFileSync(second!.path, 'garbage\n');

    const statuses: Status[] = [];
    const reader = createSpillStore({ dir, sink: 'duckdb', maxBytes: 1_000_000, onStatus: (status) => statuses.push(status) });
    // The bad header is caught when listing; the truncated body when reading.
    expect(reader.pending().map((file) => file.seq)).toEqual([1, 3]);
    const truncated = reader.read(reader.pending()[0]!);
    expect(truncated.ok).toBe(false);
    expect(reader.pending().map((file) => file.seq)).toEqual([3]);
    expect(readdirSync(dir).sort()).toEqual(['000000000001.jsonl.bad', '000000000002.jsonl.bad', '000000000003.jsonl']);
    expect(statuses.map((status) => status.code)).toEqual(['PARSE_ERROR', 'PARSE_ERROR']);
    expect(statuses[1]?.message).toContain('digest mismatch');
    const good = reader.read(reader.pending()[0]!);
    expect(good.ok && good.value).toEqual([batch(3)]);
  });

  it('rewrites a partly replayed file in place and deletes replayed ones; leftover temp files are cleared', () => {
    const dir = freshDir();
    const spill = createSpillStore({ dir, sink: 'duckdb', maxBytes: 1_000_000 });
    spill.append([batch(1), batch(2), batch(3)]);
    spill.append([batch(4)]);
    const [first, second] = spill.pending();
    expect(spill.rewrite(first!, [batch(3)]).code).toBe('OK');
    expect(spill.pending().map((file) => [file.seq, file.batches])).toEqual([
      [1, 1],
      [2, 1],
    ]);
    expect(spill.remove(second!).code).toBe('OK');
    writeFileSync(join(dir, '.000000000009.jsonl.tmp'), 'half');
    const next = createSpillStore({ dir, sink: 'duckdb', maxBytes: 1_000_000 });
    expect(next.pending().map((file) => file.seq)).toEqual([1]);
    expect(readdirSync(dir)).toEqual(['000000000001.jsonl']);
    const read = next.read(next.pending()[0]!);
    expect(read.ok && read.value).toEqual([batch(3)]);
  });

  it('asks makeRoom for space before dropping, keeps write order, and drops alone a batch bigger than the whole limit', () => {
    const dir = freshDir();
    const size = encodeSpill([batch(1)], 'duckdb', 0).length;
    const spill = createSpillStore({ dir, sink: 'duckdb', maxBytes: size * 2 + 300 });
    spill.append([batch(1)]);
    spill.append([batch(2)]);
    let asked = 0;
    const makeRoom = (): boolean => {
      asked += 1;
      const oldest = spill.pending()[0];
      return oldest !== undefined && spill.remove(oldest).code === 'OK';
    };
    expect(spill.append([batch(3)], makeRoom)).toMatchObject({ batches: 1, droppedBatches: 0 });
    expect(asked).toBe(1);
    expect(spill.pending().map((file) => file.seq)).toEqual([2, 3]);
    // Too big even for an empty directory: dropped without deleting anything, and the next batch still kept.
    const huge = batch(4, 200);
    const result = spill.append([huge, batch(5)], makeRoom);
    expect(result).toMatchObject({ batches: 1, droppedBatches: 1, droppedRows: 200, status: { code: 'UNAVAILABLE' } });
    const read = spill.pending().map((file) => spill.read(file)).flatMap((r) => (r.ok ? r.value.map((b) => b.ts - 1_700_000_000_000) : []));
    expect(read).toEqual([3, 5]);
  });

  it('records when each file was written, and a rewrite keeps that age', () => {
    const dir = freshDir();
    let now = 1000;
    const spill = createSpillStore({ dir, sink: 'duckdb', maxBytes: 1_000_000, now: () => now });
    spill.append([batch(1), batch(2)]);
    now = 5000;
    spill.append([batch(3)]);
    expect(spill.pending().map((file) => file.createdAt)).toEqual([1000, 5000]);
    now = 9000;
    spill.rewrite(spill.pending()[0]!, [batch(2)]);
    expect(createSpillStore({ dir, sink: 'duckdb', maxBytes: 1_000_000 }).pending().map((file) => file.createdAt)).toEqual([1000, 5000]);
  });
});

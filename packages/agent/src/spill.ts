/**
 * A sink's spill directory: batches a sink could not take (while it stays down, or at a stop)
 * are kept on disk as numbered JSON Lines files (`<seq>.jsonl`, oldest first) and replayed in
 * that order. Files are written whole (temp name, fsync, rename), checked by a digest when read,
 * and bounded in total bytes; bigints, Dates and non-finite numbers round-trip. Everything here
 * is synchronous so a second signal can still spill without waiting for the event loop; the
 * running buffer keeps each call short by appending one bounded piece at a time.
 */
import { createHash } from 'node:crypto';
import {
  closeSync,
  fchmodSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  renameSync,
  rmSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { classifyErrno, err, fail, ok, OK, StatusCode, type Batch, type Result, type Status, type Value } from '@virtualeyes/core';

/** Mode of spill files: owner read-write, group read. */
export const SPILL_FILE_MODE = 0o640;

/** Mode of spill directories. */
export const SPILL_DIR_MODE = 0o750;

/** Identifies the file format in each header. */
const FORMAT = 'virtualeyes-spill';
const VERSION = 1;
/** Sequence numbers are zero-padded so that name order is write order. */
const SEQ_DIGITS = 12;
const SPILL_NAME = /^(\d{12})\.jsonl$/;
/** Largest file written at once; more batches go to further files, so a replay holds one file in memory. */
const DEFAULT_FILE_MAX_BYTES = 16 * 1024 * 1024;
/** Room counted for each file's header line against the limits (a header is about 200 bytes). */
const HEADER_RESERVE_BYTES = 256;
/** Bytes read to find a header line. */
const HEADER_PROBE_BYTES = 4096;

/** One spill file waiting for replay. */
export interface SpillFile {
  /** Sequence number (its name without the extension). */
  readonly seq: number;
  /** Absolute path. */
  readonly path: string;
  /** Batches it holds. */
  readonly batches: number;
  /** Rows it holds. */
  readonly rows: number;
  /** Its size in bytes. */
  readonly bytes: number;
  /** When it was written (epoch ms, from the store's `now`), for the age limit. */
  readonly createdAt: number;
}

/** What one {@link SpillStore.append} did. */
export interface SpillWrite {
  /** Batches now on disk. */
  readonly batches: number;
  /** Rows now on disk. */
  readonly rows: number;
  /** Batches that did not fit under the byte limit or could not be written. */
  readonly droppedBatches: number;
  /** Rows of those batches. */
  readonly droppedRows: number;
  /** OK, or why some batches were not written. */
  readonly status: Status;
}

/** The spill directory of one sink. */
export interface SpillStore {
  /** The directory. */
  readonly dir: string;
  /** Files waiting for replay, oldest first. */
  pending(): readonly SpillFile[];
  /**
   * Writes batches, in order, after every file already there. When the next batch does not fit
   * under the byte limit, `makeRoom` (if given) may delete older files and return true to try
   * again; what still does not fit is counted, not written.
   */
  append(batches: readonly Batch[], makeRoom?: () => boolean): SpillWrite;
  /** Reads a file's batches; a corrupt file is moved aside (`.bad`) and reported. */
  read(file: SpillFile): Result<Batch[]>;
  /** Replaces a file's content with `batches` (deleting it when empty), keeping its place in the order and its age. */
  rewrite(file: SpillFile, batches: readonly Batch[]): Status;
  /** Deletes a replayed file. */
  remove(file: SpillFile): Status;
}

/** Options for {@link createSpillStore}. */
export interface SpillStoreOptions {
  /** Directory of this sink's spill files (`<dataDir>/spill/<sink>`); created when first written. */
  readonly dir: string;
  /** Sink instance name, recorded in each header. */
  readonly sink: string;
  /** Most bytes all files together may take; 0 turns spilling off. */
  readonly maxBytes: number;
  /** Largest single file. @default 16 MiB */
  readonly fileMaxBytes?: number;
  /** Receives warnings (a corrupt file moved aside, a failed write). */
  readonly onStatus?: (status: Status) => void;
  /** Wall time for headers. @default Date.now */
  readonly now?: () => number;
}

interface Header {
  readonly format: string;
  readonly version: number;
  readonly sink: string;
  readonly batches: number;
  readonly rows: number;
  readonly createdAt: number;
  readonly sha256: string;
}

/** Creates the spill store of one sink; it touches the disk only when asked. */
export function createSpillStore(options: SpillStoreOptions): SpillStore {
  const { dir, sink, maxBytes } = options;
  const fileMaxBytes = options.fileMaxBytes ?? DEFAULT_FILE_MAX_BYTES;
  const now = options.now ?? Date.now;
  let files: SpillFile[] | undefined;

  const report = (status: Status): void => options.onStatus?.(status);
  const op = (what: string): { source: string; op: string } => ({ source: sink, op: what });

  const moveAside = (path: string, why: string): void => {
    try {
      renameSync(path, `${path}.bad`);
    } catch {
      // Renaming failed too: leave it; it is skipped on every start until someone looks.
    }
    report(fail(StatusCode.PARSE_ERROR, `spill file ${path} is unreadable (${why}); moved aside as ${path}.bad`, { ...op('spill replay'), retryable: false }));
  };

  const scan = (): SpillFile[] => {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch (error) {
      const status = classifyErrno(error, `list ${dir}`, sink);
      if (status.code !== StatusCode.NOT_FOUND) report(status);
      return [];
    }
    const found: SpillFile[] = [];
    for (const name of names.sort()) {
      // A temp file is a write that never finished renaming: its batches are still in the caller's hands or lost with the process.
      if (name.endsWith('.tmp')) {
        removeQuietly(join(dir, name));
        continue;
      }
      const match = SPILL_NAME.exec(name);
      if (match === null) continue;
      const path = join(dir, name);
      const header = readHeader(path);
      if (!header.ok) {
        moveAside(path, header.status.message);
        continue;
      }
      const { header: head, bytes } = header.value;
      found.push({ seq: Number(match[1]), path, batches: head.batches, rows: head.rows, bytes, createdAt: typeof head.createdAt === 'number' ? head.createdAt : 0 });
    }
    return found;
  };

  const list = (): SpillFile[] => (files ??= scan());

  const writeFile = (seq: number, batches: readonly Batch[], createdAt = now(), lines = batches.map(encodeLine)): Result<SpillFile> => {
    const text = spillText(lines, batches, sink, createdAt);
    const name = `${String(seq).padStart(SEQ_DIGITS, '0')}.jsonl`;
    const path = join(dir, name);
    const temp = join(dir, `.${name}.tmp`);
    try {
      mkdirSync(dir, { recursive: true, mode: SPILL_DIR_MODE });
      const fd = openSync(temp, 'w', SPILL_FILE_MODE);
      try {
        fchmodSync(fd, SPILL_FILE_MODE);
        const bytes = Buffer.from(text, 'utf8');
        let offset = 0;
        while (offset < bytes.length) offset += writeSync(fd, bytes, offset);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      renameSync(temp, path);
      syncDir(dir);
      return ok({ seq, path, batches: batches.length, rows: countRows(batches), bytes: Buffer.byteLength(text), createdAt });
    } catch (error) {
      removeQuietly(temp);
      return err(classifyErrno(error, `write ${path}`, sink));
    }
  };

  return {
    dir,
    pending: () => [...list()],
    append(batches, makeRoom) {
      const used = (): number => list().reduce((sum, file) => sum + file.bytes, 0);
      const last = list().at(-1);
      let seq = last === undefined ? 1 : last.seq + 1;
      let written = 0;
      let writtenRows = 0;
      let droppedBatches = 0;
      let droppedRows = 0;
      let status: Status = OK;
      let index = 0;
      const full = (): Status =>
        fail(StatusCode.UNAVAILABLE, maxBytes === 0 ? 'spilling is off (spillMaxBytes: 0)' : `spill limit of ${maxBytes} bytes reached in ${dir}`, { ...op('spill'), retryable: false });
      while (index < batches.length) {
        // Group batches into files of at most fileMaxBytes (one oversized batch makes a file of its own).
        const group: Batch[] = [];
        // Each batch is encoded once: the JSON is most of an append's time.
        const lines: string[] = [];
        let size = HEADER_RESERVE_BYTES;
        let room = maxBytes - used();
        while (index < batches.length) {
          const text = encodeLine(batches[index]!);
          const line = Buffer.byteLength(text);
          if (group.length > 0 && size + line > fileMaxBytes) break;
          if (size + line > room) {
            if (group.length > 0) break;
            // A batch bigger than the whole limit could only be kept by emptying the directory, and not even then.
            if (HEADER_RESERVE_BYTES + line > maxBytes || makeRoom === undefined || !makeRoom()) break;
            room = maxBytes - used();
            continue;
          }
          group.push(batches[index]!);
          lines.push(text);
          size += line;
          index += 1;
        }
        if (group.length === 0) {
          // This batch cannot be kept; the later ones may still fit (they are usually smaller).
          status = full();
          droppedBatches += 1;
          droppedRows += batches[index]!.rows.length;
          index += 1;
          if (maxBytes === 0 || makeRoom === undefined) break;
          continue;
        }
        const file = writeFile(seq, group, now(), lines);
        if (!file.ok) {
          status = file.status;
          index -= group.length;
          break;
        }
        files = [...list(), file.value];
        seq += 1;
        written += group.length;
        writtenRows += file.value.rows;
      }
      const rest = batches.slice(index);
      if (!isOkStatus(status)) report(status);
      return { batches: written, rows: writtenRows, droppedBatches: droppedBatches + rest.length, droppedRows: droppedRows + countRows(rest), status };
    },
    read(file) {
      let text: string;
      try {
        text = readFileSync(file.path, 'utf8');
      } catch (error) {
        return err(classifyErrno(error, `read ${file.path}`, sink));
      }
      const decoded = decodeSpill(text);
      if (!decoded.ok) {
        moveAside(file.path, decoded.status.message);
        files = list().filter((entry) => entry.path !== file.path);
      }
      return decoded;
    },
    rewrite(file, batches) {
      if (batches.length === 0) return this.remove(file);
      // Same sequence number and age: the remainder keeps its place before every later file, and its age limit.
      const replaced = writeFile(file.seq, batches, file.createdAt);
      if (!replaced.ok) return replaced.status;
      files = list().map((entry) => (entry.path === file.path ? replaced.value : entry));
      return OK;
    },
    remove(file) {
      try {
        unlinkSync(file.path);
      } catch (error) {
        const status = classifyErrno(error, `delete ${file.path}`, sink);
        if (status.code !== StatusCode.NOT_FOUND) return status;
      }
      files = list().filter((entry) => entry.path !== file.path);
      return OK;
    },
  };
}

function isOkStatus(status: Status): boolean {
  return status.code === StatusCode.OK;
}

/** Encodes batches as a spill file: a header line with counts and a digest, then one line per batch. */
export function encodeSpill(batches: readonly Batch[], sink: string, createdAt: number): string {
  return spillText(batches.map(encodeLine), batches, sink, createdAt);
}

function spillText(lines: readonly string[], batches: readonly Batch[], sink: string, createdAt: number): string {
  const body = lines.join('');
  const header: Header = {
    format: FORMAT,
    version: VERSION,
    sink,
    batches: batches.length,
    rows: countRows(batches),
    createdAt,
    sha256: createHash('sha256').update(body).digest('hex'),
  };
  return `${JSON.stringify(header)}\n${body}`;
}

/** Decodes a spill file, checking its header, digest and every batch's shape. */
export function decodeSpill(text: string): Result<Batch[]> {
  const bad = (why: string): Result<Batch[]> => err(fail(StatusCode.PARSE_ERROR, why, { op: 'spill replay', retryable: false }));
  const newline = text.indexOf('\n');
  if (newline < 0) return bad('no header line');
  const header = parseHeader(text.slice(0, newline));
  if (!header.ok) return header;
  const body = text.slice(newline + 1);
  if (createHash('sha256').update(body).digest('hex') !== header.value.sha256) return bad('digest mismatch (truncated or altered)');
  const batches: Batch[] = [];
  for (const line of body.split('\n')) {
    if (line === '') continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line, revive);
    } catch {
      return bad(`line ${batches.length + 2} is not JSON`);
    }
    if (!isBatch(parsed)) return bad(`line ${batches.length + 2} is not a batch`);
    batches.push(parsed);
  }
  if (batches.length !== header.value.batches) return bad(`header says ${header.value.batches} batches, found ${batches.length}`);
  return ok(batches);
}

/** One batch as its line of a spill file, newline included. */
function encodeLine(batch: Batch): string {
  const line = {
    table: batch.table,
    ts: batch.ts,
    snapshot: batch.snapshot,
    rows: batch.rows,
    ...(batch.times === undefined ? {} : { times: batch.times }),
    ...(batch.ends === undefined ? {} : { ends: batch.ends }),
  };
  return `${JSON.stringify(line, replace)}\n`;
}

/** JSON cannot hold bigints, Dates or non-finite numbers: each becomes a one-key tagged object. */
function replace(this: unknown, key: string, value: unknown): unknown {
  // `value` is already Date.toJSON()'s string; the holder still has the Date.
  const raw = (this as Record<string, unknown>)[key];
  if (raw instanceof Date) return { $date: raw.getTime() };
  if (typeof value === 'bigint') return { $bigint: value.toString() };
  if (typeof value === 'number' && !Number.isFinite(value)) return { $number: String(value) };
  return value;
}

function revive(_key: string, value: unknown): unknown {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return value;
  const keys = Object.keys(value);
  if (keys.length !== 1) return value;
  const tagged = value as Record<string, unknown>;
  if (typeof tagged['$bigint'] === 'string') return BigInt(tagged['$bigint']);
  if (typeof tagged['$date'] === 'number') return new Date(tagged['$date']);
  if (typeof tagged['$number'] === 'string') return Number(tagged['$number']);
  return value;
}

function isBatch(value: unknown): value is Batch {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as { table?: unknown; ts?: unknown; snapshot?: unknown; rows?: unknown; times?: unknown; ends?: unknown };
  return (
    typeof candidate.table === 'string' &&
    typeof candidate.ts === 'number' &&
    typeof candidate.snapshot === 'boolean' &&
    Array.isArray(candidate.rows) &&
    (candidate.times === undefined ||
      (Array.isArray(candidate.times) && candidate.times.length === candidate.rows.length && candidate.times.every((time: unknown) => typeof time === 'number'))) &&
    (candidate.ends === undefined ||
      (Array.isArray(candidate.ends) && candidate.ends.length === candidate.rows.length && candidate.ends.every((end: unknown) => end === null || typeof end === 'number'))) &&
    candidate.rows.every((row: unknown) => typeof row === 'object' && row !== null && !Array.isArray(row) && Object.values(row).every(isValue))
  );
}

function isValue(value: unknown): value is Value {
  if (value === null || value instanceof Date) return true;
  if (Array.isArray(value)) return value.every((item) => typeof item === 'string');
  return ['string', 'number', 'bigint', 'boolean'].includes(typeof value);
}

function parseHeader(line: string): Result<Header> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    return err(fail(StatusCode.PARSE_ERROR, 'header is not JSON', { op: 'spill replay', retryable: false }));
  }
  const header = parsed as Partial<Header> | null;
  if (
    header === null ||
    typeof header !== 'object' ||
    header.format !== FORMAT ||
    header.version !== VERSION ||
    typeof header.batches !== 'number' ||
    typeof header.rows !== 'number' ||
    typeof header.sha256 !== 'string'
  ) {
    return err(fail(StatusCode.PARSE_ERROR, `not a version ${VERSION} ${FORMAT} header`, { op: 'spill replay', retryable: false }));
  }
  return ok(header as Header);
}

function readHeader(path: string): Result<{ header: Header; bytes: number }> {
  try {
    const bytes = statSync(path).size;
    const fd = openSync(path, 'r');
    try {
      const buffer = Buffer.alloc(Math.min(HEADER_PROBE_BYTES, bytes));
      const read = readSync(fd, buffer, 0, buffer.length, 0);
      const text = buffer.subarray(0, read).toString('utf8');
      const newline = text.indexOf('\n');
      if (newline < 0) return err(fail(StatusCode.PARSE_ERROR, 'no header line', { op: 'spill replay', retryable: false }));
      const header = parseHeader(text.slice(0, newline));
      return header.ok ? ok({ header: header.value, bytes }) : header;
    } finally {
      closeSync(fd);
    }
  } catch (error) {
    return err(classifyErrno(error, `read ${path}`));
  }
}

function removeQuietly(path: string): void {
  try {
    rmSync(path, { force: true });
  } catch {
    // A leftover temp file is ignored by every scan; nothing depends on removing it.
  }
}

function syncDir(dir: string): void {
  // Makes the rename durable; some file systems refuse fsync on a directory, which changes nothing here.
  try {
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // See above.
  }
}

function countRows(batches: readonly Batch[]): number {
  return batches.reduce((sum, batch) => sum + batch.rows.length, 0);
}

/**
 * `virtualeyes export`: writes a slice of the recording — every row that an as-of question about
 * an instant in [--from, --to] needs — into a directory: one file per part, page by page as the
 * store hands them out (through the daemon or from the file), then manifest.json. The store only
 * reads; this process writes every file, private to its user and group (0750 and 0640).
 */
import { createHash, type Hash } from 'node:crypto';
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, readdir, rm, rmdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Command, Option } from 'commander';
import { classifyErrno, err, errnoOf, fail, fromPromise, ok, OK, StatusCode, type Cell, type Result, type SliceFileWriter, type SlicePart, type Status, type StoreReader } from '@virtualeyes/core';
import type { Io } from './cli.js';
import type { Connection } from './client.js';
import { escapeText, jsonText } from './escape.js';
import { cellText, csvField, renderTable } from './format.js';
import {
  ABOUT,
  ENCODING,
  EXTENSION,
  loadSliceFiles,
  MANIFEST_NAME,
  manifestTime,
  SLICE_FORMAT,
  SLICE_FORMAT_VERSION,
  SliceFormat,
  type LoadedSliceFiles,
  type Manifest,
  type ManifestTable,
} from './slice.js';
import { parseDuration, parseTime } from './time.js';
import { VERSION } from './version.js';
import type { HostConfig } from '@virtualeyes/protocol';

/** Mode of the slice directory when this creates it. */
export const SLICE_DIR_MODE = 0o750;

/** Mode of every file of a slice. */
export const SLICE_FILE_MODE = 0o640;

/** The staleness window a slice holds for by default: that of `query` and `ps`. */
export const DEFAULT_STALENESS = '5m';

/** Rows asked for per page by default; the store caps a page at its maxRows and ends it early at its maxResultBytes. */
export const DEFAULT_PAGE_ROWS = 20_000;

/** What to export. Times are epoch milliseconds. */
export interface ExportRequest {
  /** First instant the slice answers for. */
  readonly from: number;
  /** Last instant (cut to now by the store). */
  readonly to: number;
  /** Only these recorded tables; every one when absent. */
  readonly tables?: readonly string[];
  /** The staleness window answers must hold for; the store's default when absent. */
  readonly stalenessMs?: number;
  /** File format. */
  readonly format: SliceFormat;
  /** The directory to write: new, or empty. */
  readonly dir: string;
  /** Rows asked for per page. */
  readonly pageRows: number;
}

/** What an export wrote. */
export interface ExportSummary {
  /** The slice directory. */
  readonly dir: string;
  /** File format. */
  readonly format: SliceFormat;
  /** First and last instant it answers for (ISO-8601). */
  readonly from: string;
  readonly to: string;
  /** Hosts of its rows. */
  readonly hosts: readonly string[];
  /** One entry per file, the manifest last. */
  readonly files: readonly { readonly table: string; readonly file: string; readonly rows: number; readonly bytes: number }[];
  /** Data rows in all files. */
  readonly rows: number;
}

/** What an export uses besides the reader. */
export interface ExportContext {
  /** Writes Parquet files (the store package's), needed for the parquet format only. */
  readonly parquet?: LoadedSliceFiles;
  /** Told how far a part with more than one page has got. */
  readonly progress: (message: string) => void;
  /** The current time, for the manifest. */
  readonly now: () => number;
}

/**
 * Exports a slice into `request.dir`: the store plans it, then each part is read page by page and
 * written to `<part>.<csv|jsonl|parquet>`, and manifest.json last (a directory without it is
 * incomplete). On failure everything written is removed again. Never rejects.
 */
export async function exportSlice(reader: StoreReader, request: ExportRequest, context: ExportContext): Promise<Result<ExportSummary>> {
  if (reader.slicePlan === undefined || reader.slice === undefined) {
    return err(fail(StatusCode.UNSUPPORTED, 'this store cannot export slices', { op: 'export' }));
  }
  const slice = reader.slice.bind(reader);
  const planned = await reader.slicePlan({
    from: request.from,
    to: request.to,
    ...(request.tables === undefined ? {} : { tables: request.tables }),
    ...(request.stalenessMs === undefined ? {} : { stalenessMs: request.stalenessMs }),
  });
  if (!planned.ok) return planned;
  const plan = planned.value;
  const dir = await prepareOutput(request.dir);
  if (!dir.ok) return dir;
  const written: string[] = [];
  const undo = async (): Promise<void> => {
    for (const path of written) await rm(path, { force: true });
    if (dir.value.created) await rmdir(request.dir).catch(() => undefined);
  };
  const hosts = new Set<string>();
  const tables: ManifestTable[] = [];
  for (const part of plan.parts) {
    const file = `${part.name}.${EXTENSION[request.format]}`;
    const path = join(request.dir, file);
    written.push(path);
    const out = await openPartFile(path, part, request.format, context.parquet);
    if (!out.ok) {
      await undo();
      return out;
    }
    let rows = 0;
    let pages = 0;
    let cursor: string | undefined;
    const hostIndex = part.columns.findIndex((column) => column.name === 'host');
    for (;;) {
      const page = await slice({ scope: plan.scope, part: part.name, maxRows: request.pageRows, ...(cursor === undefined ? {} : { cursor }) });
      const problem = !page.ok ? page.status : columnsProblem(part, page.value.columns.map((column) => column.name));
      if (problem !== undefined || !page.ok) {
        await out.value.abort();
        await undo();
        return err(problem ?? fail(StatusCode.INTERNAL, 'no page', { op: 'export' }));
      }
      const appended = await out.value.append(page.value.rows);
      if (appended.code !== StatusCode.OK) {
        await out.value.abort();
        await undo();
        return err(appended);
      }
      for (const row of page.value.rows) {
        const host = hostIndex < 0 ? undefined : row[hostIndex];
        if (typeof host === 'string') hosts.add(host);
      }
      rows += page.value.rows.length;
      pages += 1;
      cursor = page.value.next;
      if (cursor === undefined) break;
      context.progress(`${part.name}: ${rows} rows so far (page ${pages})`);
    }
    const finished = await out.value.finish();
    if (!finished.ok) {
      await undo();
      return finished;
    }
    tables.push({
      name: part.name,
      kind: part.kind,
      description: part.description,
      semantics: part.semantics,
      key: part.key,
      timeColumn: part.timeColumn,
      since: manifestTime(part.since),
      columns: part.columns,
      file,
      format: request.format,
      rows,
      bytes: finished.value.bytes,
      sha256: finished.value.sha256,
    });
  }
  const manifest: Manifest = {
    format: SLICE_FORMAT,
    formatVersion: SLICE_FORMAT_VERSION,
    about: ABOUT,
    createdAt: manifestTime(context.now()),
    tool: { name: 'virtualeyes', version: VERSION },
    from: manifestTime(plan.scope.from),
    to: manifestTime(plan.scope.to),
    stalenessMs: plan.scope.stalenessMs,
    keyframeMs: plan.scope.keyframeMs,
    hosts: [...hosts].sort(),
    encoding: ENCODING[request.format],
    tables,
  };
  const manifestPath = join(request.dir, MANIFEST_NAME);
  written.push(manifestPath);
  const text = await writeText(manifestPath, `${jsonText(manifest)}\n`);
  if (!text.ok) {
    await undo();
    return text;
  }
  return ok({
    dir: request.dir,
    format: request.format,
    from: manifest.from,
    to: manifest.to,
    hosts: manifest.hosts,
    files: [...tables.map((table) => ({ table: table.name, file: table.file, rows: table.rows, bytes: table.bytes })), { table: '', file: MANIFEST_NAME, rows: 0, bytes: text.value }],
    rows: tables.reduce((sum, table) => sum + table.rows, 0),
  });
}

/** Why a page's columns are not the part's, if they are not. */
function columnsProblem(part: SlicePart, names: readonly string[]): Status | undefined {
  const wanted = part.columns.map((column) => column.name);
  if (names.length === wanted.length && names.every((name, index) => name === wanted[index])) return undefined;
  return fail(StatusCode.INTERNAL, `the store answered columns (${names.join(', ')}) for ${part.name}, whose plan has (${wanted.join(', ')})`, { op: 'export' });
}

/** Creates `dir` (0750) or accepts an empty existing directory; says whether it created it. */
async function prepareOutput(dir: string): Promise<Result<{ created: boolean }>> {
  const found = await fromPromise(stat(dir), (error) => classifyErrno(error, `stat ${dir}`));
  if (!found.ok) {
    if (errnoOf(found.status.cause) !== 'ENOENT') return found;
    const made = await fromPromise(mkdir(dir, { recursive: true, mode: SLICE_DIR_MODE }), (error) => classifyErrno(error, `create ${dir}`));
    return made.ok ? ok({ created: true }) : made;
  }
  if (!found.value.isDirectory()) return err(fail(StatusCode.INVALID_ARGUMENT, `${dir} is not a directory`, { op: 'export' }));
  const entries = await fromPromise(readdir(dir), (error) => classifyErrno(error, `read ${dir}`));
  if (!entries.ok) return entries;
  if (entries.value.length > 0) return err(fail(StatusCode.INVALID_ARGUMENT, `${dir} is not empty; export into a new or empty directory`, { op: 'export' }));
  return ok({ created: false });
}

/** A part's file being written: its rows appended page by page. */
interface PartFile {
  append(rows: readonly (readonly Cell[])[]): Promise<Status>;
  /** Closes the file: its size and SHA-256. */
  finish(): Promise<Result<{ bytes: number; sha256: string }>>;
  abort(): Promise<void>;
}

/** Opens the file of `part` at `path` (which must not exist) in `format`. */
async function openPartFile(path: string, part: SlicePart, format: SliceFormat, parquet: LoadedSliceFiles | undefined): Promise<Result<PartFile>> {
  const names = part.columns.map((column) => column.name);
  if (format === SliceFormat.PARQUET) {
    if (parquet === undefined) return err(fail(StatusCode.UNSUPPORTED, 'no configured sink can write Parquet files', { op: 'export' }));
    const writer = await parquet.files.createParquetWriter(path, part.columns);
    return writer.ok ? ok(parquetFile(path, writer.value)) : writer;
  }
  const out = await openText(path);
  if (!out.ok) return out;
  const line = format === SliceFormat.CSV ? csvLine : (row: readonly Cell[]): string => `${jsonText(Object.fromEntries(names.map((name, index) => [name, row[index] ?? null])), 0)}\n`;
  if (format === SliceFormat.CSV) {
    const header = await out.value.write(`${names.map(csvField).join(',')}\r\n`);
    if (header.code !== StatusCode.OK) {
      await out.value.abort();
      return err(header);
    }
  }
  return ok({
    append: (rows) => out.value.write(rows.map(line).join('')),
    finish: () => out.value.close(),
    abort: () => out.value.abort(),
  });
}

/** A Parquet writer's file, hashed once written. */
function parquetFile(path: string, writer: SliceFileWriter): PartFile {
  return {
    append: (rows) => writer.append(rows),
    async finish() {
      const done = await writer.finish();
      if (!done.ok) return done;
      return hashFile(path);
    },
    abort: () => writer.abort(),
  };
}

/**
 * One row of CSV: each field as {@link csvField} quotes it, an empty text as `""` and NULL as an
 * empty unquoted field (so the two stay apart), lists as JSON; CRLF at the end.
 */
export function csvLine(row: readonly Cell[]): string {
  return `${row.map((cell) => (cell === null ? '' : csvText(cellText(cell)))).join(',')}\r\n`;
}

function csvText(text: string): string {
  return text === '' ? '""' : csvField(text);
}

/** A text file written in order, hashed as it goes. */
interface TextOut {
  write(text: string): Promise<Status>;
  close(): Promise<Result<{ bytes: number; sha256: string }>>;
  abort(): Promise<void>;
}

/** Creates `path` (0640; refused if it exists) for writing. */
async function openText(path: string): Promise<Result<TextOut>> {
  const stream = createWriteStream(path, { flags: 'wx', mode: SLICE_FILE_MODE });
  const opened = await new Promise<Status>((resolve) => {
    stream.once('open', () => resolve(OK));
    stream.once('error', (error) => resolve(classifyErrno(error, `create ${path}`)));
  });
  if (opened.code !== StatusCode.OK) return err(opened);
  let failure: Status | undefined;
  stream.on('error', (error) => (failure ??= classifyErrno(error, `write ${path}`)));
  const hash: Hash = createHash('sha256');
  let bytes = 0;
  return ok({
    write: (text) => writeChunk(stream, text, hash, (count) => (bytes += count), () => failure),
    async close() {
      const closed = await new Promise<Status>((resolve) => stream.end(() => resolve(failure ?? OK)));
      return closed.code === StatusCode.OK ? ok({ bytes, sha256: hash.digest('hex') }) : err(closed);
    },
    async abort() {
      if (!stream.closed) await new Promise<void>((resolve) => stream.once('close', () => resolve()).destroy());
      await rm(path, { force: true });
    },
  });
}

/** Writes `text`, waiting while the stream's buffer is full. */
async function writeChunk(stream: WriteStream, text: string, hash: Hash, counted: (bytes: number) => void, failure: () => Status | undefined): Promise<Status> {
  const known = failure();
  if (known !== undefined) return known;
  if (text === '') return OK;
  const buffer = Buffer.from(text, 'utf8');
  hash.update(buffer);
  counted(buffer.length);
  if (!stream.write(buffer)) {
    await new Promise<void>((resolve) => {
      const done = (): void => {
        stream.off('drain', done);
        stream.off('error', done);
        resolve();
      };
      stream.once('drain', done);
      stream.once('error', done);
    });
  }
  return failure() ?? OK;
}

/** Writes a whole small file (0640, refused if it exists); its size. */
async function writeText(path: string, text: string): Promise<Result<number>> {
  const out = await openText(path);
  if (!out.ok) return out;
  const written = await out.value.write(text);
  if (written.code !== StatusCode.OK) {
    await out.value.abort();
    return err(written);
  }
  const closed = await out.value.close();
  return closed.ok ? ok(closed.value.bytes) : closed;
}

/** Size and SHA-256 of a file, read as a stream. */
export async function hashFile(path: string): Promise<Result<{ bytes: number; sha256: string }>> {
  return new Promise((resolve) => {
    const hash = createHash('sha256');
    let bytes = 0;
    const stream = createReadStream(path);
    stream.on('data', (chunk: Buffer | string) => {
      const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      bytes += buffer.length;
      hash.update(buffer);
    });
    stream.once('error', (error) => resolve(err(classifyErrno(error, `read ${path}`))));
    stream.once('end', () => resolve(ok({ bytes, sha256: hash.digest('hex') })));
  });
}

/** What the export and import commands need from the CLI around them. */
export interface SliceCommandContext {
  /** Where output goes. */
  readonly io: Io;
  /** Reports a failure and sets the exit code (2 for INVALID_ARGUMENT, else 1, unless given). */
  readonly fail: (status: Status, code?: number) => void;
  /** The exit code of bad usage or input. */
  readonly usageExit: number;
  /** Connects (daemon or file), runs `body`, closes. */
  readonly withReader: (body: (connection: Connection, config: HostConfig) => Promise<void>) => Promise<void>;
}

/** The `export` command. */
export function exportCommand(context: SliceCommandContext): Command {
  const { io, fail: report } = context;
  return new Command('export')
    .description('Write a slice of the recording (every row the instants in a range need) into a directory, with a manifest, to load elsewhere')
    .requiredOption('--from <time>', 'first instant the slice answers for')
    .addOption(new Option('--to <time>', 'last instant (cut to now)').default('now'))
    .addOption(new Option('-f, --format <format>', 'file format: csv (RFC 4180), json (JSON Lines, .jsonl) or parquet').choices(Object.values(SliceFormat)).default(SliceFormat.CSV))
    .addOption(new Option('-t, --tables <names...>', 'only these recorded tables (space- or comma-separated, repeatable)').default(undefined, 'every table'))
    .requiredOption('-o, --output <dir>', 'directory to write: new, or empty')
    .option('--staleness <duration>', 'the longest --staleness of the queries the slice must answer as the recording does', DEFAULT_STALENESS)
    .option('--page-rows <n>', 'rows asked for per request (the store caps it at its maxRows and its result-byte limit)', String(DEFAULT_PAGE_ROWS))
    .option('--json', 'print the summary as JSON')
    .addHelpText(
      'after',
      `
The slice holds what an as-of question about an instant in [--from, --to] needs: the stored metric
rows back to --from less twice the staleness and the keyframe interval, the sample log, the
sessions (starts and stops) of the recorder, the state versions valid in the range, and the
events of the range and its staleness window; manifest.json says what every file and column is.
Through a running vwatchd the data comes over its API in pages; this command writes the files
(directory 0750, files 0640). Load a slice with 'virtualeyes import DIR --data-dir NEW'.
Default format csv: every tool and spreadsheet reads it, it streams, and the manifest gives the types.

Examples:
  virtualeyes export --from "1h ago" -o ./slice
  virtualeyes export --from 2026-11-22T05:00:00Z --to 2026-11-22T06:00:00Z --format parquet --tables processes process_stats -o /tmp/incident`,
    )
    .action(async (options: { from: string; to: string; format: SliceFormat; tables?: string[]; output: string; staleness: string; pageRows: string; json?: boolean }) => {
      const usage = (message: string): void => report(fail(StatusCode.INVALID_ARGUMENT, message, { op: 'export' }));
      const from = parseTime(options.from, io.now());
      if (!from.ok) return report(from.status);
      const to = parseTime(options.to, io.now());
      if (!to.ok) return report(to.status);
      if (from.value > to.value) return usage('--from is after --to');
      const staleness = parseDuration(options.staleness);
      if (!staleness.ok) return report(staleness.status);
      const pageRows = Number(options.pageRows);
      if (!Number.isInteger(pageRows) || pageRows < 1) return usage(`--page-rows must be a positive integer, got '${options.pageRows}'`);
      const tables = options.tables?.flatMap((name) => name.split(',')).map((name) => name.trim()).filter((name) => name !== '');
      await context.withReader(async (connection, config) => {
        const parquet = options.format === SliceFormat.PARQUET ? await loadSliceFiles(config) : undefined;
        if (parquet !== undefined && !parquet.ok) return report(parquet.status);
        const summary = await exportSlice(
          connection.reader,
          {
            from: from.value,
            to: to.value,
            ...(tables === undefined ? {} : { tables }),
            stalenessMs: Math.round(staleness.value),
            format: options.format,
            dir: options.output,
            pageRows,
          },
          { ...(parquet === undefined ? {} : { parquet: parquet.value }), progress: (message) => io.err(`virtualeyes: ${escapeText(message)}\n`), now: io.now },
        );
        if (!summary.ok) return report(summary.status);
        io.out(`${options.json === true ? jsonText(summary.value) : renderExport(summary.value)}\n`);
      });
    });
}

/** The summary for people: where, what span, and a line per file. */
export function renderExport(summary: ExportSummary): string {
  const head = `slice of ${summary.from} to ${summary.to} (${summary.format}, ${summary.rows} rows, hosts ${summary.hosts.length === 0 ? 'none' : summary.hosts.join(', ')}) in ${summary.dir}`;
  const rows = summary.files.map((file) => [file.file, file.file === MANIFEST_NAME ? '' : file.rows, file.bytes]);
  // Host names are the recording's: shown escaped, as everything printed.
  return `${escapeText(head)}\n${renderTable(['FILE', 'ROWS', 'BYTES'], rows, [false, true, true])}`;
}

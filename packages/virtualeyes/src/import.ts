/**
 * `virtualeyes import DIR`: checks a slice's manifest, then has the configured store package
 * create a new store in the data directory (private: 0750, files 0640) with the recording's
 * layout and load every file into it, so `virtualeyes --data-dir NEW query/ps/diff` answers as
 * the recording did. Input is untrusted: a malformed manifest or file is one line and exit
 * code 2, and nothing is written outside the new store (which is removed again on failure).
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { chmod, lstat, mkdir, readdir, readFile, rmdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { Command } from 'commander';
import { createLogger, createSystemClock, err, errnoOf, fail, fromPromise, classifyErrno, ok, OK, StatusCode, type Cell, type Result, type SliceLoader, type Status } from '@virtualeyes/core';
import { loadHostConfig, type ConfigOverrides, type HostConfig } from '@virtualeyes/protocol';
import { escapeText, jsonText } from './escape.js';
import { SLICE_DIR_MODE, type SliceCommandContext } from './export.js';
import { renderTable } from './format.js';
import { checkManifest, loadSliceFiles, MANIFEST_NAME, planOf, SliceFormat, type Manifest, type ManifestTable } from './slice.js';

/** Largest manifest.json read. */
const MAX_MANIFEST_BYTES = 16 * 1024 * 1024;

/** Rows handed to the store at a time. */
const BATCH_ROWS = 5000;

/** What an import loaded. */
export interface ImportSummary {
  /** The new store file. */
  readonly store: string;
  /** The data directory it is in. */
  readonly dataDir: string;
  /** The span it answers for (ISO-8601). */
  readonly from: string;
  readonly to: string;
  /** Rows per part. */
  readonly tables: readonly { readonly table: string; readonly rows: number }[];
  /** Rows in all. */
  readonly rows: number;
  /** A command that queries it. */
  readonly command: string;
}

/** What a slice is loaded with. */
export interface ImportTarget {
  /** The host config naming the data directory and the store package. */
  readonly config: HostConfig;
  /** The `--data-dir` to name in the command printed, when one was given. */
  readonly dataDirOption?: string;
}

/** Reads and checks `dir/manifest.json`; INVALID_ARGUMENT naming what is wrong. */
export async function readManifest(dir: string): Promise<Result<Manifest>> {
  const path = join(dir, MANIFEST_NAME);
  const bad = (message: string): Result<Manifest> => err(fail(StatusCode.INVALID_ARGUMENT, `${path}: ${message}`, { op: 'import' }));
  const found = await fromPromise(lstat(path), (error) => classifyErrno(error, `read ${path}`));
  if (!found.ok) return errnoOf(found.status.cause) === 'ENOENT' ? bad(`not found; ${dir} is not a slice directory`) : found;
  if (!found.value.isFile()) return bad('is not a regular file');
  if (found.value.size > MAX_MANIFEST_BYTES) return bad(`is larger than ${MAX_MANIFEST_BYTES} bytes`);
  const text = await fromPromise(readFile(path, 'utf8'), (error) => classifyErrno(error, `read ${path}`));
  if (!text.ok) return text;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text.value) as unknown;
  } catch (error) {
    return bad(`is not JSON (${error instanceof Error ? error.message : String(error)})`);
  }
  const manifest = checkManifest(parsed);
  if (!manifest.ok) return bad(manifest.status.message);
  // Every file must be a regular file inside `dir` itself: not a link, not elsewhere.
  for (const table of manifest.value.tables) {
    const file = resolve(dir, table.file);
    if (resolve(file, '..') !== resolve(dir)) return bad(`file ${table.file} is outside ${dir}`);
    const entry = await fromPromise(lstat(file), (error) => classifyErrno(error, `read ${file}`));
    if (!entry.ok) return errnoOf(entry.status.cause) === 'ENOENT' ? bad(`names ${table.file}, which is missing`) : entry;
    if (!entry.value.isFile()) return bad(`names ${table.file}, which is not a regular file`);
    if (entry.value.size !== table.bytes) return bad(`names ${table.file} of ${table.bytes} bytes, which has ${entry.value.size} (cut short or changed?)`);
  }
  return manifest;
}

/**
 * Creates the data directory (0750) or checks an existing one as vwatchd does (see its
 * data-dir.ts): a directory of this user, not a shared world-writable one, tightened to 0750.
 */
async function prepareDataDir(dir: string): Promise<Result<{ created: boolean }>> {
  const refuse = (message: string): Result<{ created: boolean }> => err(fail(StatusCode.INVALID_ARGUMENT, message, { op: 'import' }));
  const found = await fromPromise(stat(dir), (error) => classifyErrno(error, `stat ${dir}`));
  if (!found.ok) {
    if (errnoOf(found.status.cause) !== 'ENOENT') return found;
    const made = await fromPromise(mkdir(dir, { recursive: true, mode: SLICE_DIR_MODE }), (error) => classifyErrno(error, `create ${dir}`));
    return made.ok ? ok({ created: true }) : made;
  }
  if (!found.value.isDirectory()) return refuse(`data directory ${dir} is not a directory`);
  const mode = found.value.mode & 0o7777;
  if ((mode & 0o1002) === 0o1002) return refuse(`data directory ${dir} is shared and world-writable; import into a private subdirectory such as ${join(dir, 'slice')}`);
  const uid = process.geteuid?.();
  if (uid !== undefined && found.value.uid !== uid) return refuse(`data directory ${dir} belongs to uid ${found.value.uid}, not to this user; choose another --data-dir`);
  if ((mode & SLICE_DIR_MODE) !== mode) {
    const tightened = await fromPromise(chmod(dir, mode & SLICE_DIR_MODE), (error) => classifyErrno(error, `chmod ${dir}`));
    if (!tightened.ok) return tightened;
  }
  return ok({ created: false });
}

/**
 * Loads the slice in `dir` into a new store of `target`'s data directory. The manifest and the
 * files' names and sizes are checked before anything is created; each file's rows, line ends
 * and SHA-256 while it loads. On failure the new store is removed. Never rejects.
 */
export async function importSlice(dir: string, target: ImportTarget): Promise<Result<ImportSummary>> {
  const manifest = await readManifest(dir);
  if (!manifest.ok) return manifest;
  const files = await loadSliceFiles(target.config);
  if (!files.ok) return files;
  const dataDir = target.config.agent.dataDir;
  const prepared = await prepareDataDir(dataDir);
  if (!prepared.ok) return prepared;
  const deps = { clock: createSystemClock(), logger: createLogger({ level: 'warn', name: 'virtualeyes' }), dataDir };
  const loader = await files.value.files.createLoader(files.value.options, deps, planOf(manifest.value));
  if (!loader.ok) {
    if (prepared.value.created) await removeIfEmpty(dataDir);
    return loader;
  }
  const loaded: { table: string; rows: number }[] = [];
  for (const table of manifest.value.tables) {
    const rows = await loadTable(loader.value, join(dir, table.file), table);
    if (!rows.ok) {
      await loader.value.abort();
      if (prepared.value.created) await removeIfEmpty(dataDir);
      return rows;
    }
    loaded.push({ table: table.name, rows: rows.value });
  }
  const store = await loader.value.finish();
  if (!store.ok) {
    await loader.value.abort();
    if (prepared.value.created) await removeIfEmpty(dataDir);
    return store;
  }
  const dataDirText = target.dataDirOption ?? dataDir;
  const sample = manifest.value.tables.find((table) => table.kind === 'state') ?? manifest.value.tables.find((table) => !table.name.startsWith('vw_meta.'));
  const sql = sample === undefined ? 'select count(*) from vw_meta.sessions' : `select count(*) from ${sample.name}`;
  return ok({
    store: store.value,
    dataDir,
    from: manifest.value.from,
    to: manifest.value.to,
    tables: loaded,
    rows: loaded.reduce((sum, table) => sum + table.rows, 0),
    command: `virtualeyes --data-dir ${shellQuote(dataDirText)} query --at ${shellQuote(manifest.value.to)} ${shellQuote(sql)}`,
  });
}

async function removeIfEmpty(dir: string): Promise<void> {
  const entries = await readdir(dir).catch(() => ['?']);
  if (entries.length === 0) await rmdir(dir).catch(() => undefined);
}

/** Loads one file and checks what the manifest says of it: row count and SHA-256. */
async function loadTable(loader: SliceLoader, path: string, table: ManifestTable): Promise<Result<number>> {
  const bad = (message: string): Result<number> => err(fail(StatusCode.INVALID_ARGUMENT, `${table.file}: ${message}`, { op: 'import' }));
  let counted: { rows: number; sha256: string };
  if (table.format === SliceFormat.PARQUET) {
    // The store package reads Parquet itself; the hash is checked first, so it reads what was exported.
    const digest = await digestFile(path);
    if (!digest.ok) return digest;
    if (digest.value !== table.sha256) return bad('does not match its SHA-256 in the manifest (changed or cut short?)');
    const rows = await loader.appendParquet(table.name, path);
    if (!rows.ok) return rows.status.code === StatusCode.INVALID_ARGUMENT ? bad(rows.status.message) : rows;
    counted = { rows: rows.value, sha256: digest.value };
  } else {
    const names = table.columns.map((column) => column.name);
    const append = (rows: readonly (readonly Cell[])[]): Promise<Status> => loader.append(table.name, rows);
    const read = await readRecords(path, table.format === SliceFormat.CSV ? csvRecords(names) : jsonRecords(names), append);
    if (!read.ok) return read.status.code === StatusCode.INVALID_ARGUMENT ? bad(read.status.message) : read;
    counted = read.value;
  }
  if (counted.rows !== table.rows) return bad(`holds ${counted.rows} rows, the manifest says ${table.rows} (cut short or changed?)`);
  if (counted.sha256 !== table.sha256) return bad('does not match its SHA-256 in the manifest (changed or cut short?)');
  return ok(counted.rows);
}

async function digestFile(path: string): Promise<Result<string>> {
  return new Promise((done) => {
    const hash = createHash('sha256');
    const stream = createReadStream(path);
    stream.on('data', (chunk: Buffer | string) => hash.update(chunk));
    stream.once('error', (error) => done(err(classifyErrno(error, `read ${path}`))));
    stream.once('end', () => done(ok(hash.digest('hex'))));
  });
}

/** A parser of a file's text into rows, fed piece by piece. */
export interface RecordParser {
  /** Parses the next piece; the complete rows in it. INVALID_ARGUMENT at the first malformed line. */
  push(text: string): Result<Cell[][]>;
  /** Ends the input: refused when it stops inside a row (a file cut short). */
  end(): Result<Cell[][]>;
}

/** Streams `path` through `parser`, handing rows to `append` in batches; the row count and the file's SHA-256. */
async function readRecords(path: string, parser: RecordParser, append: (rows: readonly (readonly Cell[])[]) => Promise<Status>): Promise<Result<{ rows: number; sha256: string }>> {
  const hash = createHash('sha256');
  const decoder = new StringDecoder('utf8');
  let pending: Cell[][] = [];
  let rows = 0;
  const flush = async (force: boolean): Promise<Status> => {
    if (pending.length === 0 || (!force && pending.length < BATCH_ROWS)) return OK;
    const batch = pending;
    pending = [];
    rows += batch.length;
    return append(batch);
  };
  const stream = createReadStream(path);
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      hash.update(chunk);
      const parsed = parser.push(decoder.write(chunk));
      if (!parsed.ok) return parsed;
      pending.push(...parsed.value);
      const flushed = await flush(false);
      if (flushed.code !== StatusCode.OK) return err(flushed);
    }
  } catch (error) {
    return err(classifyErrno(error, `read ${path}`));
  } finally {
    stream.destroy();
  }
  const last = parser.push(decoder.end());
  if (!last.ok) return last;
  const ended = parser.end();
  if (!ended.ok) return ended;
  pending.push(...last.value, ...ended.value);
  const flushed = await flush(true);
  if (flushed.code !== StatusCode.OK) return err(flushed);
  return ok({ rows, sha256: hash.digest('hex') });
}

/**
 * The CSV a slice holds (RFC 4180): a header naming `columns`, then rows of as many fields. An
 * unquoted empty field is NULL, a quoted one the empty text. Lines end in CRLF or LF; the last
 * must end too (otherwise the file was cut short).
 */
export function csvRecords(columns: readonly string[]): RecordParser {
  let line = 1;
  let header = true;
  let fields: (string | null)[] = [];
  let field = '';
  let state: 'start' | 'plain' | 'quoted' | 'quote' | 'cr' = 'start';
  // Whether the current field was quoted, so an empty one is the empty text rather than NULL.
  let quoted = false;
  const bad = (message: string): Result<Cell[][]> => err(fail(StatusCode.INVALID_ARGUMENT, `line ${line}: ${message}`, { op: 'import' }));
  const endField = (): void => {
    fields.push(field === '' && !quoted ? null : field);
    field = '';
    quoted = false;
  };
  const endRecord = (rows: Cell[][]): string | undefined => {
    const record = fields;
    fields = [];
    if (header) {
      header = false;
      const names = record.map((name) => name ?? '');
      if (names.join(',') !== columns.join(',')) return `the header is (${names.join(', ')}), the manifest says (${columns.join(', ')})`;
      return undefined;
    }
    if (record.length !== columns.length) return `${record.length} fields, expected ${columns.length}`;
    rows.push(record);
    return undefined;
  };
  return {
    push(text) {
      const rows: Cell[][] = [];
      for (let index = 0; index < text.length; index += 1) {
        const char = text[index]!;
        if (state === 'cr') {
          if (char !== '\n') return bad('a carriage return not followed by a line feed');
          state = 'start';
          line += 1;
          continue;
        }
        if (state === 'quoted') {
          if (char === '"') state = 'quote';
          else {
            if (char === '\n') line += 1;
            field += char;
          }
          continue;
        }
        if (state === 'quote' && char === '"') {
          field += '"';
          state = 'quoted';
          continue;
        }
        if (state === 'plain' && char === '"') return bad('a quote inside an unquoted field');
        if (state === 'quote' && char !== ',' && char !== '\r' && char !== '\n') return bad('text after a closing quote');
        if (char === ',') {
          endField();
          state = 'start';
        } else if (char === '\r' || char === '\n') {
          endField();
          const problem = endRecord(rows);
          if (problem !== undefined) return bad(problem);
          if (char === '\r') state = 'cr';
          else {
            state = 'start';
            line += 1;
          }
        } else if (state === 'start' && char === '"') {
          state = 'quoted';
          quoted = true;
        } else {
          field += char;
          state = 'plain';
        }
      }
      return ok(rows);
    },
    end() {
      if (state === 'quoted') return bad('a quoted field never ends (the file is cut short?)');
      if (state === 'cr') return ok([]);
      if (state !== 'start' || fields.length > 0) return bad('the last line has no line end (the file is cut short?)');
      if (header) return bad('no header line (the file is empty)');
      return ok([]);
    },
  };
}

/** JSON Lines as a slice holds them: one object per line keyed by exactly `columns`, each line ending in LF. */
export function jsonRecords(columns: readonly string[]): RecordParser {
  let line = 0;
  let rest = '';
  const wanted = [...columns].sort().join(',');
  const bad = (message: string): Result<Cell[][]> => err(fail(StatusCode.INVALID_ARGUMENT, `line ${line}: ${message}`, { op: 'import' }));
  return {
    push(text) {
      const rows: Cell[][] = [];
      const lines = (rest + text).split('\n');
      rest = lines.pop() ?? '';
      for (const text of lines) {
        line += 1;
        let value: unknown;
        try {
          value = JSON.parse(text) as unknown;
        } catch {
          return bad('is not JSON (the file is cut short or changed?)');
        }
        if (typeof value !== 'object' || value === null || Array.isArray(value)) return bad('is not a JSON object');
        const keys = Object.keys(value).sort().join(',');
        if (keys !== wanted) return bad(`has the keys (${Object.keys(value).join(', ')}), the manifest says (${columns.join(', ')})`);
        const row = value as Record<string, Cell>;
        rows.push(columns.map((name) => row[name] ?? null));
      }
      return ok(rows);
    },
    end() {
      line += 1;
      return rest === '' ? ok([]) : bad('has no line end (the file is cut short?)');
    },
  };
}

/** `text` in single quotes for a POSIX shell, escaped for the terminal it is printed on. */
function shellQuote(text: string): string {
  return /^[A-Za-z0-9_./:@=+-]+$/.test(text) ? text : `'${text.replace(/'/g, "'\\''")}'`;
}

/** The `import` command. */
export function importCommand(context: SliceCommandContext): Command {
  const { io, fail: report } = context;
  return new Command('import')
    .description('Load a slice written by `virtualeyes export` into a new store that the other commands can query')
    .argument('<dir>', 'the slice directory (with manifest.json)')
    .option('--json', 'print the summary as JSON')
    .addHelpText(
      'after',
      `
The store is created in the data directory (--data-dir NEW, before or after 'import'; default: the
configured one), which must hold no store yet: a new directory is created 0750, the store 0640.
The manifest and every file are checked (names, sizes, rows, SHA-256, types); a bad slice is one
line and exit code 2, and leaves no store behind. Then query it like a live recording, within the
slice's span:
  virtualeyes --data-dir NEW query --at TIME "select count(*) from processes"
  virtualeyes --data-dir NEW ps --at TIME

Examples:
  virtualeyes import ./slice --data-dir /tmp/incident-store
  virtualeyes --data-dir /tmp/incident-store import ./slice --json`,
    )
    .action(async (dir: string, options: { json?: boolean }, command: Command) => {
      const globals = command.optsWithGlobals<{ config?: string; dataDir?: string; socket?: string }>();
      const overrides: ConfigOverrides = {
        ...(globals.config === undefined ? {} : { configPath: globals.config }),
        ...(globals.dataDir === undefined ? {} : { dataDir: globals.dataDir }),
      };
      const config = loadHostConfig(overrides);
      if (!config.ok) return report(config.status, context.usageExit);
      const summary = await importSlice(dir, { config: config.value, ...(globals.dataDir === undefined ? {} : { dataDirOption: globals.dataDir }) });
      if (!summary.ok) return report(summary.status);
      if (options.json === true) {
        io.out(`${jsonText(summary.value)}\n`);
        return;
      }
      const lines = [
        `imported ${summary.value.rows} rows of ${summary.value.tables.length} tables into ${summary.value.store}`,
        `it answers for ${summary.value.from} to ${summary.value.to}; query it with:`,
        `  ${summary.value.command}`,
      ];
      io.out(`${lines.map(escapeText).join('\n')}\n${renderTable(['TABLE', 'ROWS'], summary.value.tables.map((table) => [table.table, table.rows]), [false, true])}\n`);
    });
}

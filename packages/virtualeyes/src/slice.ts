/**
 * The slice format that `virtualeyes export` writes and `virtualeyes import` reads: one file per
 * part (a recorded table, the sample log, the sessions) and manifest.json describing them (its
 * JSON Schema, checked with ajv on import). Also where the CLI finds the configured store
 * package's slice files (Parquet, loading a new store), by name, as it finds its reader.
 */
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { importPlugin } from '@virtualeyes/agent';
import {
  createOptionsValidator,
  err,
  fail,
  ok,
  StatusCode,
  type JsonSchema,
  type PluginManifest,
  type Result,
  type SliceColumn,
  type SliceFiles,
  type SlicePart,
  type SlicePartKind,
  type SlicePlan,
} from '@virtualeyes/core';
import type { HostConfig } from '@virtualeyes/protocol';

/** Version of the slice format this CLI writes and reads, in `formatVersion`. */
export const SLICE_FORMAT_VERSION = 1;

/** Value of the manifest's `format`: what the directory is. */
export const SLICE_FORMAT = 'virtualeyes-slice';

/** The manifest's file name inside a slice directory. */
export const MANIFEST_NAME = 'manifest.json';

/** File formats of a slice's parts. */
export const SliceFormat = { CSV: 'csv', JSON: 'json', PARQUET: 'parquet' } as const;

/** One of the {@link SliceFormat} strings. */
export type SliceFormat = (typeof SliceFormat)[keyof typeof SliceFormat];

/** The file extension of each format (`json` is JSON Lines: one object per line). */
export const EXTENSION: Readonly<Record<SliceFormat, string>> = { csv: 'csv', json: 'jsonl', parquet: 'parquet' };

/** How each format writes values, as the manifest says it. */
export const ENCODING: Readonly<Record<SliceFormat, string>> = {
  csv:
    'RFC 4180 CSV in UTF-8: a header row of the column names, then one row per line, lines ending in CRLF. A field ' +
    'holding a comma, quote, line break, control or format character is quoted, a quote doubled. NULL is an empty ' +
    'unquoted field; an empty text is "". Times are ISO-8601 UTC with microseconds; int64 is decimal; bool is true or ' +
    'false; floats are decimal or NaN, Infinity, -Infinity; a text[] value is a JSON array of strings.',
  json:
    'JSON Lines in UTF-8 (file extension .jsonl): one JSON object per row, keyed by column name in column order, each ' +
    'line ending in LF. NULL is null. Times are ISO-8601 UTC strings with microseconds; integers beyond 2^53 are ' +
    'decimal strings; non-finite floats are the strings NaN, Infinity, -Infinity; text[] is an array of strings. ' +
    'Control, bidi and other invisible characters in strings are \\u escapes; the text parses back exactly.',
  parquet:
    'Apache Parquet written by DuckDB (zstd), one file per part, with the column types of the manifest: int32 INT32, ' +
    'int64 INT64, float64 DOUBLE, bool BOOLEAN, text UTF8, timestamp a UTC timestamp in microseconds, text[] a list of UTF8.',
};

/** What the manifest says a slice is, for someone who finds one. */
export const ABOUT =
  'A slice of a virtualeyes recording: every stored row that an as-of question about an instant in [from, to] needs, ' +
  'with a staleness window of at most stalenessMs (the rows of metric tables reach back to each table\'s `since` for it). ' +
  '`virtualeyes import DIR --data-dir NEW` loads it into a new store that answers such questions (query --at, ' +
  'query --from/--to within [from, to], ps, diff) as the recording did; outside [from, to] it holds only part of the ' +
  'recording. Each table says how its rows relate to time (semantics); hosts are those of the rows.';

/** One part's entry in the manifest. */
export interface ManifestTable {
  /** Part name: a recorded table, `vw_meta.samples` or `vw_meta.sessions`. */
  readonly name: string;
  /** What the part is. */
  readonly kind: SlicePartKind;
  /** What a row is. */
  readonly description: string;
  /** How its rows relate to time. */
  readonly semantics: string;
  /** Key columns. */
  readonly key: readonly string[];
  /** The column rows are ordered by. */
  readonly timeColumn: string;
  /** Earliest instant its rows reach back to (ISO-8601). */
  readonly since: string;
  /** Every column, in file order. */
  readonly columns: readonly SliceColumn[];
  /** File name inside the slice directory: `<name>.<extension>`. */
  readonly file: string;
  /** The file's format. */
  readonly format: SliceFormat;
  /** Data rows in the file. */
  readonly rows: number;
  /** The file's size. */
  readonly bytes: number;
  /** SHA-256 of the file, hex. */
  readonly sha256: string;
}

/** manifest.json. */
export interface Manifest {
  /** Always {@link SLICE_FORMAT}. */
  readonly format: typeof SLICE_FORMAT;
  /** {@link SLICE_FORMAT_VERSION} when written. */
  readonly formatVersion: number;
  /** What a slice is. */
  readonly about: string;
  /** When the slice was written (ISO-8601). */
  readonly createdAt: string;
  /** The program that wrote it. */
  readonly tool: { readonly name: string; readonly version: string };
  /** First instant it answers for (ISO-8601). */
  readonly from: string;
  /** Last instant it answers for. */
  readonly to: string;
  /** Longest staleness window its answers hold for, milliseconds. */
  readonly stalenessMs: number;
  /** Longest keyframe interval of the recording, milliseconds. */
  readonly keyframeMs: number;
  /** Hosts of its rows. */
  readonly hosts: readonly string[];
  /** How values are written in its files. */
  readonly encoding: string;
  /** The parts, in loading order: sessions, sample log, tables. */
  readonly tables: readonly ManifestTable[];
}

const IDENTIFIER = '[a-z][a-z0-9_]*';
const PART_NAME = `^(vw_meta\\.(samples|sessions)|${IDENTIFIER})$`;
const ISO_TIME: JsonSchema = { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d{1,6})?Z$' };
const TEXT: JsonSchema = { type: 'string', maxLength: 100_000 };
const COUNT: JsonSchema = { type: 'integer', minimum: 0 };

/** JSON Schema of manifest.json (format version 1). */
export const MANIFEST_SCHEMA: JsonSchema = Object.freeze({
  type: 'object',
  additionalProperties: false,
  required: ['format', 'formatVersion', 'createdAt', 'tool', 'from', 'to', 'stalenessMs', 'keyframeMs', 'hosts', 'tables'],
  properties: {
    format: { const: SLICE_FORMAT },
    formatVersion: { const: SLICE_FORMAT_VERSION },
    about: TEXT,
    createdAt: ISO_TIME,
    tool: { type: 'object', additionalProperties: false, required: ['name', 'version'], properties: { name: TEXT, version: TEXT } },
    from: ISO_TIME,
    to: ISO_TIME,
    stalenessMs: COUNT,
    keyframeMs: COUNT,
    hosts: { type: 'array', maxItems: 100_000, items: TEXT },
    encoding: TEXT,
    tables: {
      type: 'array',
      maxItems: 1026,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'kind', 'description', 'key', 'timeColumn', 'since', 'columns', 'file', 'format', 'rows', 'bytes', 'sha256'],
        properties: {
          name: { type: 'string', maxLength: 136, pattern: PART_NAME },
          kind: { enum: ['metric', 'state', 'event', 'samples', 'sessions'] },
          description: TEXT,
          semantics: TEXT,
          key: { type: 'array', maxItems: 64, items: { type: 'string', pattern: `^${IDENTIFIER}$` } },
          timeColumn: { type: 'string', pattern: `^${IDENTIFIER}$` },
          since: ISO_TIME,
          columns: {
            type: 'array',
            minItems: 1,
            maxItems: 4096,
            items: {
              type: 'object',
              additionalProperties: false,
              required: ['name', 'type', 'description'],
              properties: {
                name: { type: 'string', maxLength: 128, pattern: `^_?${IDENTIFIER}$` },
                type: { enum: ['int32', 'int64', 'float64', 'text', 'bool', 'timestamp', 'text[]'] },
                unit: { type: 'string', maxLength: 64 },
                description: TEXT,
                nullable: { type: 'boolean' },
                counter: { type: 'boolean' },
                added: { type: 'boolean' },
              },
            },
          },
          // Only a plain file name: a path (`../x`, `/etc/x`, `a/b`) is refused here already.
          file: { type: 'string', maxLength: 200, pattern: '^(vw_meta\\.(samples|sessions)|[a-z][a-z0-9_]*)\\.(csv|jsonl|parquet)$' },
          format: { enum: Object.values(SliceFormat) },
          rows: COUNT,
          bytes: COUNT,
          sha256: { type: 'string', pattern: '^[0-9a-f]{64}$' },
        },
      },
    },
  },
});

/** The manifest's time text of epoch milliseconds. */
export function manifestTime(ms: number): string {
  return new Date(ms).toISOString();
}

/**
 * Checks a parsed manifest.json: its format version first (so a newer slice gets a sentence
 * saying so, not a schema path), then the schema, then what the schema cannot say (each file
 * named after its part in its format, parts named once, the logs' kinds). INVALID_ARGUMENT.
 */
export function checkManifest(value: unknown): Result<Manifest> {
  const bad = (message: string): Result<Manifest> => err(fail(StatusCode.INVALID_ARGUMENT, message, { op: 'read manifest' }));
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return bad('the manifest is not a JSON object');
  const version = (value as { formatVersion?: unknown }).formatVersion;
  if (version !== SLICE_FORMAT_VERSION) {
    const given = version === undefined ? 'no format version' : `format version ${JSON.stringify(version)}`;
    return bad(`the manifest has ${given}; this virtualeyes reads slices of format version ${SLICE_FORMAT_VERSION}`);
  }
  // A path where a file name belongs gets its own sentence: it would read outside the slice.
  const tables = (value as { tables?: unknown }).tables;
  for (const table of Array.isArray(tables) ? (tables as unknown[]) : []) {
    const file = typeof table === 'object' && table !== null ? (table as { file?: unknown }).file : undefined;
    if (typeof file === 'string' && (/[/\\]/.test(file) || file.startsWith('.'))) return bad(`the manifest names the file ${JSON.stringify(file)}, which is not a plain name of a file in the slice directory`);
  }
  const checked = createOptionsValidator().validate<Manifest>(MANIFEST_SCHEMA, value, '$');
  if (!checked.ok) return bad(`the manifest is not valid: ${checked.status.message}`);
  const manifest = checked.value;
  const names = new Set<string>();
  for (const table of manifest.tables) {
    if (names.has(table.name)) return bad(`the manifest names table ${table.name} twice`);
    names.add(table.name);
    const expected = `${table.name}.${EXTENSION[table.format]}`;
    if (table.file !== expected) return bad(`the manifest names file ${table.file} for table ${table.name}; a ${table.format} slice names it ${expected}`);
    const log = table.name.startsWith('vw_meta.');
    if (log !== (table.kind === 'samples' || table.kind === 'sessions') || (log && table.name !== `vw_meta.${table.kind}`)) {
      return bad(`table ${table.name} cannot be of kind ${table.kind}`);
    }
    if (!table.columns.some((column) => column.name === table.timeColumn)) return bad(`table ${table.name}: time column ${table.timeColumn} is not one of its columns`);
    if (Number.isNaN(Date.parse(table.since))) return bad(`table ${table.name}: since is not a time`);
  }
  for (const field of ['from', 'to', 'createdAt'] as const) if (Number.isNaN(Date.parse(manifest[field]))) return bad(`the manifest's ${field} is not a time`);
  if (Date.parse(manifest.from) > Date.parse(manifest.to)) return bad("the manifest's from is after its to");
  return ok(manifest);
}

/** The plan a store package loads: the manifest's scope and parts. */
export function planOf(manifest: Manifest): SlicePlan {
  const parts: SlicePart[] = manifest.tables.map((table) => ({
    name: table.name,
    kind: table.kind,
    description: table.description,
    semantics: table.semantics,
    key: table.key,
    columns: table.columns,
    timeColumn: table.timeColumn,
    since: Date.parse(table.since),
  }));
  const recorded = manifest.tables.filter((table) => !table.name.startsWith('vw_meta.')).map((table) => table.name);
  return {
    scope: { from: Date.parse(manifest.from), to: Date.parse(manifest.to), stalenessMs: manifest.stalenessMs, keyframeMs: manifest.keyframeMs, tables: recorded },
    parts,
  };
}

/** A store package's slice files, with the options of the sink that named it (validated by its schema). */
export interface LoadedSliceFiles {
  /** The package's `sliceFiles`. */
  readonly files: SliceFiles;
  /** The sink's options, validated and defaulted. */
  readonly options: Record<string, unknown>;
  /** The package, as the config names it. */
  readonly use: string;
}

/**
 * The slice files of the first configured sink whose package exports them (`sliceFiles`), found
 * by name from the working directory and from the CLI's own install, as the offline reader is.
 * UNSUPPORTED when none does; INVALID_CONFIG when that sink's options are invalid.
 */
export async function loadSliceFiles(config: HostConfig): Promise<Result<LoadedSliceFiles>> {
  const validator = createOptionsValidator();
  const why: string[] = [];
  for (const [index, spec] of config.agent.sinks.entries()) {
    const imported = await importPlugin(spec.use, { resolveFrom: [process.cwd(), dirname(fileURLToPath(import.meta.url))] });
    if (!imported.ok) {
      why.push(imported.status.message);
      continue;
    }
    const module = imported.value as { readonly manifest?: Partial<PluginManifest>; readonly sliceFiles?: Partial<SliceFiles> };
    const files = module.sliceFiles;
    const schema = module.manifest?.configSchema;
    if (files === undefined || typeof files.createLoader !== 'function' || typeof files.createParquetWriter !== 'function' || schema === undefined) {
      why.push(`${spec.use} exports no slice files`);
      continue;
    }
    const options = validator.validate<Record<string, unknown>>(schema, spec.options ?? {}, `$.sinks[${index}].options`);
    if (!options.ok) return options;
    return ok({ files: files as SliceFiles, options: options.value, use: spec.use });
  }
  return err(fail(StatusCode.UNSUPPORTED, `no configured sink can write or load slices${why.length === 0 ? '' : ` (${why.join('; ')})`}`, { op: 'load slice files' }));
}

/**
 * The physical layout of a store file and its setup when the writer starts: the `history`
 * and `vw_meta` schemas, one table per declared table (created, or widened with ALTER when a
 * newer probe declares more columns), closing versions a crashed session left open, and the
 * session row. Functions here may reject with DuckDB errors; callers convert them.
 */
import type { DuckDBConnection, DuckDBValue, JS } from '@duckdb/node-api';
import { fail, fromPromise, OK, StatusCode, validateSchema, withSource, type ColumnDef, type Result, type Status, type TableKind, type TableSchema } from '@virtualeyes/core';
import { classifyDuckDbError } from './errors.js';
import {
  duckDbTypeOf,
  FORMAT_VERSION,
  HISTORY_SCHEMA,
  historyTable,
  META_SCHEMA,
  MetricColumn,
  physicalTables,
  quoteIdent,
  quoteText,
  RAW_SCHEMA,
  rawTable,
  SAMPLES_TABLE,
  STAGE_SCHEMA,
  stagedViewSql,
  stageTable,
  StoreColumn,
  timeColumnsOf,
  timeLiteral,
} from './sql.js';

/** A column as it exists in the file. */
export interface PhysicalColumn {
  /** Column name. */
  readonly name: string;
  /** DuckDB type name (`BIGINT`, `TIMESTAMP WITH TIME ZONE`). */
  readonly type: string;
}

/** A declared table and the physical columns it is stored in, in file order. */
export interface TableLayout {
  /** The schema the probe declared this session. */
  readonly schema: TableSchema;
  /** Every column of `history.<name>`, store-added ones included. */
  readonly columns: readonly PhysicalColumn[];
  /** A metric table of layout 3: rows are appended to `vw_stage.<name>` and moved to `vw_raw.<name>` in entity order. */
  readonly staged: boolean;
}

/** A table as `vw_meta.tables` records it. */
export interface MetaTable {
  /** Table name. */
  readonly name: string;
  /** Table kind. */
  readonly kind: TableKind;
  /** What a row is. */
  readonly description: string;
  /** Key columns. */
  readonly key: readonly string[];
  /** Declared columns (current and earlier versions), with units. */
  readonly columns: readonly ColumnDef[];
  /** A metric table of layout 3: `history.<name>` is the view of `vw_raw.<name>` and `vw_stage.<name>` (optional: false). */
  readonly staged?: boolean;
}

/** What {@link prepareStore} leaves behind. */
export interface PreparedStore {
  /** Tables ready for writing, by name. */
  readonly layouts: ReadonlyMap<string, TableLayout>;
  /** Declared tables that cannot be stored, with why. */
  readonly unusable: ReadonlyMap<string, Status>;
  /** This session's id in `vw_meta.sessions`. */
  readonly sessionId: number;
  /** State versions closed because an earlier session ended without closing them. */
  readonly recovered: number;
}

/** Schema holding the downsampled tiers of metric tables, `vw_tiers.<table>_<seconds>s` (docs/storage.md). */
export const TIERS_SCHEMA = 'vw_tiers';

/** `vw_meta.tiers`: per metric table and tier, how far it is rolled up and from when it keeps rows. */
export const TIERS_TABLE = `${META_SCHEMA}.tiers`;

/** `vw_meta.retention`: per table, the instant from which its raw rows answer exactly (older ones were deleted). */
export const RETENTION_TABLE = `${META_SCHEMA}.retention`;

/** Statements creating the schemas and metadata tables; idempotent. */
const CREATE_META = [
  `CREATE SCHEMA IF NOT EXISTS ${HISTORY_SCHEMA}`,
  // Layout 3: the two physical tables of a metric table (sql.ts).
  `CREATE SCHEMA IF NOT EXISTS ${RAW_SCHEMA}`,
  `CREATE SCHEMA IF NOT EXISTS ${STAGE_SCHEMA}`,
  `CREATE SCHEMA IF NOT EXISTS ${META_SCHEMA}`,
  `CREATE TABLE IF NOT EXISTS ${META_SCHEMA}.store (format_version INTEGER NOT NULL, created_at TIMESTAMPTZ NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS ${META_SCHEMA}.tables (name VARCHAR NOT NULL, kind VARCHAR NOT NULL, description VARCHAR NOT NULL, "key" VARCHAR NOT NULL, columns VARCHAR NOT NULL, updated_at TIMESTAMPTZ NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS ${META_SCHEMA}.sessions (id INTEGER NOT NULL, host VARCHAR NOT NULL, started_at TIMESTAMPTZ NOT NULL, last_write_at TIMESTAMPTZ, stopped_at TIMESTAMPTZ, stop_reason VARCHAR)`,
  // Layout 2: the keyframe interval each session wrote metric tables with (NULL before), bounding how old a row an as-of read may need.
  `ALTER TABLE ${META_SCHEMA}.sessions ADD COLUMN IF NOT EXISTS keyframe_ms BIGINT`,
  `CREATE TABLE IF NOT EXISTS ${SAMPLES_TABLE} (table_name VARCHAR NOT NULL, host VARCHAR NOT NULL, ts TIMESTAMPTZ NOT NULL, keyframe_ms BIGINT NOT NULL)`,
  // Retention and tiers (still layout 2: a reader that ignores them reads the retained raw rows as before).
  `CREATE SCHEMA IF NOT EXISTS ${TIERS_SCHEMA}`,
  `CREATE TABLE IF NOT EXISTS ${TIERS_TABLE} (table_name VARCHAR NOT NULL, step_ms BIGINT NOT NULL, keep_ms BIGINT, rolled_to TIMESTAMPTZ, dirty_from TIMESTAMPTZ, kept_from TIMESTAMPTZ, updated_at TIMESTAMPTZ NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS ${RETENTION_TABLE} (table_name VARCHAR NOT NULL, raw_from TIMESTAMPTZ NOT NULL, updated_at TIMESTAMPTZ NOT NULL)`,
];

/** How a session ended, in `vw_meta.sessions.stop_reason`. */
export const StopReason = {
  /** The writer closed the store. */
  CLOSE: 'close',
  /** The writer vanished; the next session closed its versions at its last write. */
  CRASH: 'crash',
} as const;

/** Runs SQL and returns its rows as plain JS values. */
export async function selectRows(connection: DuckDBConnection, sql: string, values?: DuckDBValue[]): Promise<JS[][]> {
  const reader = await connection.runAndReadAll(sql, values);
  return reader.getRowsJS();
}

/** Runs statements one after the other inside one transaction; rolls back on the first error. */
export async function inTransaction<T>(connection: DuckDBConnection, work: () => Promise<T>): Promise<T> {
  await connection.run('BEGIN TRANSACTION');
  try {
    const value = await work();
    await connection.run('COMMIT');
    return value;
  } catch (error) {
    await connection.run('ROLLBACK').catch(() => undefined);
    return Promise.reject(error);
  }
}

/** The refusal of a store whose layout is newer than this sink knows: it says what to do, and that nothing was changed. */
export function newerLayout(version: number, source: string, op: string): Status {
  return fail(
    StatusCode.UNSUPPORTED,
    `the store was written by a newer sink-duckdb (layout version ${version}; this one knows up to ${FORMAT_VERSION}): install a newer @virtualeyes/sink-duckdb, or give this one another path; the file is left as it is`,
    { source, op, retryable: false },
  );
}

/**
 * Creates or upgrades the layout for `tables`, closes versions an earlier session left open
 * and records a new session for `host`. A table that cannot be stored is reported in
 * `unusable`; the others still work.
 */
export async function prepareStore(
  connection: DuckDBConnection,
  tables: readonly TableSchema[],
  host: string,
  now: number,
  source: string,
  keyframeMs: number,
): Promise<Result<PreparedStore>> {
  const base = await fromPromise(
    inTransaction(connection, async () => {
      for (const statement of CREATE_META) await connection.run(statement);
      const stored = await selectRows(connection, `SELECT max(format_version) FROM ${META_SCHEMA}.store`);
      const version = stored[0]?.[0];
      if (version === null || version === undefined) {
        await connection.run(`INSERT INTO ${META_SCHEMA}.store VALUES (${FORMAT_VERSION}, ${timeLiteral(now)})`);
        return FORMAT_VERSION;
      }
      if (Number(version) < FORMAT_VERSION) {
        // Layout 2 to 3 changes nothing stored: its metric tables stay single tables, new ones are staged.
        if (Number(version) < 2) await upgradeMetricTables(connection);
        await connection.run(`INSERT INTO ${META_SCHEMA}.store VALUES (${FORMAT_VERSION}, ${timeLiteral(now)})`);
        return FORMAT_VERSION;
      }
      return Number(version);
    }),
    (error) => classifyDuckDbError(error, 'create store layout', source),
  );
  if (!base.ok) return base;
  if (base.value > FORMAT_VERSION) return { ok: false, status: newerLayout(base.value, source, 'start') };

  const unusable = new Map<string, Status>();
  const known = await fromPromise(readMetaTables(connection), (error) => classifyDuckDbError(error, 'read table metadata', source));
  if (!known.ok) return known;
  for (const table of tables) {
    const valid = validateSchema(table);
    if (valid.code !== StatusCode.OK) {
      unusable.set(table.name, withSource(valid, source, `declare table ${table.name}`));
      continue;
    }
    const declared = await declareTable(connection, table, known.value.get(table.name), now, source);
    if (declared.code !== StatusCode.OK) unusable.set(table.name, declared);
  }

  const layouts = await fromPromise(readLayouts(connection, tables, unusable), (error) => classifyDuckDbError(error, 'read table layout', source));
  if (!layouts.ok) return layouts;

  const session = await fromPromise(
    inTransaction(connection, async () => {
      const recovered = await closeAbandonedVersions(connection);
      const next = await selectRows(connection, `SELECT coalesce(max(id), 0) + 1 FROM ${META_SCHEMA}.sessions`);
      const sessionId = Number(next[0]?.[0] ?? 1);
      await connection.run(`INSERT INTO ${META_SCHEMA}.sessions (id, host, started_at, keyframe_ms) VALUES ($1, $2, ${timeLiteral(now)}, $3)`, [
        sessionId,
        host,
        keyframeMs,
      ]);
      return { sessionId, recovered };
    }),
    (error) => classifyDuckDbError(error, 'start session', source),
  );
  if (!session.ok) return session;
  return { ok: true, value: { layouts: layouts.value, unusable, sessionId: session.value.sessionId, recovered: session.value.recovered } };
}

/** Every table recorded in `vw_meta.tables`, by name. */
export async function readMetaTables(connection: DuckDBConnection): Promise<Map<string, MetaTable>> {
  const rows = await selectRows(connection, `SELECT name, kind, description, "key", columns FROM ${META_SCHEMA}.tables ORDER BY name`);
  const staged = await readStagedTables(connection);
  const tables = new Map<string, MetaTable>();
  for (const [name, kind, description, key, columns] of rows) {
    tables.set(String(name), {
      name: String(name),
      kind: String(kind) as TableKind,
      description: String(description),
      key: JSON.parse(String(key)) as string[],
      columns: JSON.parse(String(columns)) as ColumnDef[],
      staged: staged.has(String(name)),
    });
  }
  return tables;
}

/** Physical columns of every table in the history schema, by table name. */
export async function readPhysicalColumns(connection: DuckDBConnection): Promise<Map<string, PhysicalColumn[]>> {
  // A staged table's columns are its raw table's (its view's, as DuckDB bound them, may lag an ALTER).
  const rows = await selectRows(
    connection,
    `SELECT table_name, column_name, data_type FROM duckdb_columns()
     WHERE database_name = current_database() AND (schema_name = '${RAW_SCHEMA}' OR (schema_name = '${HISTORY_SCHEMA}'
       AND table_name NOT IN (SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() AND schema_name = '${RAW_SCHEMA}')))
     ORDER BY table_name, column_index`,
  );
  const tables = new Map<string, PhysicalColumn[]>();
  for (const [table, name, type] of rows) {
    const columns = tables.get(String(table)) ?? [];
    columns.push({ name: String(name), type: String(type) });
    tables.set(String(table), columns);
  }
  return tables;
}

/** The metric tables of layout 3: `history.<t>` is a view of `vw_raw.<t>` and `vw_stage.<t>`. */
export async function readStagedTables(connection: DuckDBConnection): Promise<Set<string>> {
  const rows = await selectRows(
    connection,
    `SELECT view_name FROM duckdb_views() WHERE database_name = current_database() AND schema_name = '${HISTORY_SCHEMA}' AND NOT internal`,
  );
  return new Set(rows.map(([name]) => String(name)));
}

/** Creates or widens one table and records its schema, in a transaction of its own. */
async function declareTable(connection: DuckDBConnection, table: TableSchema, meta: MetaTable | undefined, now: number, source: string): Promise<Status> {
  const op = `declare table ${table.name}`;
  const physical = await fromPromise(readPhysicalColumns(connection), (error) => classifyDuckDbError(error, op, source));
  if (!physical.ok) return physical.status;
  const existing = physical.value.get(table.name);
  const storeColumns = [StoreColumn.HOST, ...timeColumnsOf(table.kind)];
  if (existing !== undefined) {
    const names = new Set(existing.map((column) => column.name));
    const storedKind = meta?.kind ?? (names.has(StoreColumn.VALID_FROM) ? 'state' : 'metric');
    const compatible = storeColumns.every((name) => names.has(name)) && (storedKind === table.kind || (storedKind !== 'state' && table.kind !== 'state'));
    if (!compatible) {
      return fail(
        StatusCode.INVALID_ARGUMENT,
        `table '${table.name}' is stored as ${storedKind} but now declared as ${table.kind}; move the store file aside or rename the table`,
        { source, op },
      );
    }
  }
  const statements: string[] = [];
  if (existing === undefined) {
    const columns = [
      `${quoteIdent(StoreColumn.HOST)} VARCHAR NOT NULL`,
      ...timeColumnsOf(table.kind).map((name) => `${quoteIdent(name)} TIMESTAMPTZ${name === StoreColumn.VALID_TO ? '' : ' NOT NULL'}`),
      ...table.columns.map((column) => `${quoteIdent(column.name)} ${duckDbTypeOf(column.type)}`),
      // Last, as ALTER puts it in tables of layout 1: readers name it, never rely on its position.
      ...(table.kind === 'metric' ? [`${quoteIdent(MetricColumn.GONE)} BOOLEAN`] : []),
    ];
    if (table.kind === 'metric') {
      // Layout 3: appended to the stage, moved into the raw table in entity order; history.<t> reads both.
      statements.push(`CREATE TABLE ${rawTable(table.name)} (${columns.join(', ')})`, `CREATE TABLE ${stageTable(table.name)} (${columns.join(', ')})`, stagedViewSql(table.name));
    } else {
      statements.push(`CREATE TABLE ${historyTable(table.name)} (${columns.join(', ')})`);
    }
  } else {
    const staged = await fromPromise(readStagedTables(connection), (error) => classifyDuckDbError(error, op, source));
    if (!staged.ok) return staged.status;
    // Both physical tables of a staged one change alike, so the view's `SELECT *` sees the same columns in each.
    const targets = physicalTables(table.name, staged.value.has(table.name));
    const alter = (change: string): void => {
      for (const target of targets) statements.push(`ALTER TABLE ${target} ${change}`);
    };
    // An event table now declared as a metric one (or one of layout 1) gains the tombstone column.
    if (table.kind === 'metric' && !existing.some((column) => column.name === MetricColumn.GONE)) alter(`ADD COLUMN ${quoteIdent(MetricColumn.GONE)} BOOLEAN`);
    const types = new Map(existing.map((column) => [column.name, column.type]));
    for (const column of table.columns) {
      const want = duckDbTypeOf(column.type);
      const have = types.get(column.name);
      if (have === undefined) alter(`ADD COLUMN ${quoteIdent(column.name)} ${want}`);
      else if (have !== want) alter(`ALTER COLUMN ${quoteIdent(column.name)} SET DATA TYPE ${want}`);
    }
    // The view is bound again to the changed tables.
    if (statements.length > 0 && staged.value.has(table.name)) statements.push(stagedViewSql(table.name, true));
  }
  const columns = mergeColumns(table.columns, meta?.columns ?? []);
  const done = await fromPromise(
    inTransaction(connection, async () => {
      for (const statement of statements) await connection.run(statement);
      await connection.run(`DELETE FROM ${META_SCHEMA}.tables WHERE name = $1`, [table.name]);
      await connection.run(`INSERT INTO ${META_SCHEMA}.tables VALUES ($1, $2, $3, $4, $5, ${timeLiteral(now)})`, [
        table.name,
        table.kind,
        table.description,
        JSON.stringify(table.key),
        JSON.stringify(columns),
      ]);
    }),
    (error) => classifyDuckDbError(error, op, source),
  );
  return done.ok ? OK : done.status;
}

/** The declared columns, then columns earlier versions declared that are gone now (still stored). */
function mergeColumns(declared: readonly ColumnDef[], earlier: readonly ColumnDef[]): ColumnDef[] {
  const names = new Set(declared.map((column) => column.name));
  return [...declared.map((column) => ({ ...column })), ...earlier.filter((column) => !names.has(column.name))];
}

async function readLayouts(
  connection: DuckDBConnection,
  tables: readonly TableSchema[],
  unusable: ReadonlyMap<string, Status>,
): Promise<Map<string, TableLayout>> {
  const physical = await readPhysicalColumns(connection);
  const staged = await readStagedTables(connection);
  const layouts = new Map<string, TableLayout>();
  for (const table of tables) {
    const columns = physical.get(table.name);
    if (unusable.has(table.name) || columns === undefined) continue;
    layouts.set(table.name, { schema: table, columns, staged: staged.has(table.name) });
  }
  return layouts;
}

/**
 * Layout 1 to 2: layout 1 stored every row of every metric batch, so each stored instant is a
 * sample and each entity's rows are exactly the rows at it. The sample log gets those instants
 * with a keyframe interval of 0 (an as-of read then takes rows at the sample itself, as before),
 * and every metric table gets the tombstone column, NULL in the old rows.
 */
async function upgradeMetricTables(connection: DuckDBConnection): Promise<void> {
  const physical = await readPhysicalColumns(connection);
  const meta = await readMetaTables(connection);
  for (const table of meta.values()) {
    const columns = physical.get(table.name);
    if (table.kind !== 'metric' || columns === undefined) continue;
    const target = historyTable(table.name);
    if (!columns.some((column) => column.name === MetricColumn.GONE)) {
      await connection.run(`ALTER TABLE ${target} ADD COLUMN ${quoteIdent(MetricColumn.GONE)} BOOLEAN`);
    }
    await connection.run(`INSERT INTO ${SAMPLES_TABLE} SELECT DISTINCT ${quoteText(table.name)}, host, ts, 0 FROM ${target} ORDER BY host, ts`);
  }
}

/**
 * Closes every version still open from an earlier session: at that host's last recorded write
 * (a crash), never before the version began. Marks unfinished sessions as crashed.
 */
async function closeAbandonedVersions(connection: DuckDBConnection): Promise<number> {
  const physical = await readPhysicalColumns(connection);
  const meta = await readMetaTables(connection);
  let closed = 0;
  for (const table of meta.values()) {
    if (table.kind !== 'state' || !physical.has(table.name)) continue;
    const target = historyTable(table.name);
    const updated = await selectRows(
      connection,
      `UPDATE ${target} AS t SET valid_to = greatest(t.valid_from, coalesce(s.last_at, t.valid_from))
       FROM (SELECT host, max(coalesce(last_write_at, started_at)) AS last_at FROM ${META_SCHEMA}.sessions GROUP BY host) AS s
       WHERE t.valid_to IS NULL AND t.host = s.host`,
    );
    const orphans = await selectRows(connection, `UPDATE ${target} SET valid_to = valid_from WHERE valid_to IS NULL`);
    closed += Number(updated[0]?.[0] ?? 0) + Number(orphans[0]?.[0] ?? 0);
  }
  await connection.run(
    `UPDATE ${META_SCHEMA}.sessions SET stopped_at = coalesce(last_write_at, started_at), stop_reason = '${StopReason.CRASH}' WHERE stopped_at IS NULL`,
  );
  return closed;
}

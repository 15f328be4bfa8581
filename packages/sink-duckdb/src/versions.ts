/**
 * State-table versioning, as pure functions over an in-memory map of open versions: which
 * versions a batch closes and which it opens. An entity whose non-key values did not change
 * produces nothing, so an idle process costs no rows. The writer applies the result in SQL.
 */
import type { Batch, Row, TableSchema, Value } from '@virtualeyes/core';

/** The open (valid_to NULL) version of one entity, as the writer remembers it. */
export interface OpenVersion {
  /** The row as written (its key columns identify the stored version). */
  readonly row: Row;
  /** `valid_from` of the stored version, epoch milliseconds. */
  readonly validFrom: number;
}

/** What the writer remembers per entity of one table (keyed by {@link entityKey}), with uncommitted changes on top. */
export interface EntityView<V> {
  /** The remembered value of an entity, if any. */
  get(key: string): V | undefined;
  /** Records a new value, or forgets the entity. */
  set(key: string, value: V | undefined): void;
  /** Every remembered entity. */
  keys(): Iterable<string>;
}

/** Open versions of one state table keyed by {@link entityKey}, with uncommitted changes on top. */
export type VersionView = EntityView<OpenVersion>;

/** An open version to close, and when. */
export interface VersionClose {
  readonly version: OpenVersion;
  /** valid_to, epoch milliseconds (never before the version's valid_from). */
  readonly at: number;
}

/** A row to store as a new version. */
export interface VersionInsert {
  readonly row: Row;
  /** valid_from, epoch milliseconds. */
  readonly from: number;
  /** valid_to when the version is already over (an entity that came and went), else undefined. */
  readonly to?: number;
}

/** What one state batch does to the stored versions. */
export interface VersionChanges {
  /** Versions to close. */
  readonly closes: readonly VersionClose[];
  /** Rows to store as new versions. */
  readonly inserts: readonly VersionInsert[];
}

/** An uncommitted layer over what a table's writer remembers. */
export interface Overlay<V> extends EntityView<V> {
  /** Writes the layer into the committed map. */
  commit(): void;
}

/** An uncommitted layer over a table's committed open versions. */
export type VersionOverlay = Overlay<OpenVersion>;

/** Creates a layer whose changes reach `base` only on commit (so a failed write leaves no trace). */
export function createOverlay<V>(base: Map<string, V>): Overlay<V> {
  const changes = new Map<string, V | undefined>();
  return {
    get: (key) => (changes.has(key) ? changes.get(key) : base.get(key)),
    set: (key, version) => {
      changes.set(key, version);
    },
    *keys() {
      for (const key of base.keys()) if (!changes.has(key)) yield key;
      for (const [key, version] of changes) if (version !== undefined) yield key;
    },
    commit() {
      for (const [key, version] of changes) {
        if (version === undefined) base.delete(key);
        else base.set(key, version);
      }
      changes.clear();
    },
  };
}

/** One microsecond in milliseconds, the store's time resolution. */
const MICROSECOND_MS = 0.001;

/**
 * Compares a state batch with the open versions: new entities open a version, changed ones
 * close the old and open a new one, and with `snapshot` every entity missing from the batch is
 * closed. A row's version begins at its per-row time when the batch has them (never before the
 * version it replaces), else at the batch time; an ended row (`ends`) closes its entity's open
 * version at its end, or is stored as a version already over when none is open. Later rows of
 * a batch win over earlier rows with the same key. Updates `view`.
 */
export function diffStateBatch(schema: TableSchema, view: VersionView, batch: Batch): VersionChanges {
  const keyColumns = schema.key;
  const valueColumns = schema.columns.filter((column) => !keyColumns.includes(column.name)).map((column) => column.name);
  const latest = new Map<string, number>();
  for (const [index, row] of batch.rows.entries()) latest.set(entityKey(keyColumns, row), index);

  const closes: VersionClose[] = [];
  const inserts: VersionInsert[] = [];
  for (const [key, index] of latest) {
    const row = batch.rows[index]!;
    const open = view.get(key);
    const time = batch.times?.[index] ?? batch.ts;
    const end = batch.ends?.[index] ?? null;
    if (end !== null) {
      if (open !== undefined) closes.push({ version: open, at: Math.max(end, open.validFrom) });
      else inserts.push({ row, from: Math.min(batch.times?.[index] ?? end, end), to: end });
      view.set(key, undefined);
      continue;
    }
    if (open !== undefined && sameValues(valueColumns, row, open.row)) continue;
    // One microsecond after the version it replaces at the earliest: closes find a version by its valid_from.
    const from = open === undefined ? time : Math.max(time, open.validFrom + MICROSECOND_MS);
    if (open !== undefined) closes.push({ version: open, at: from });
    inserts.push({ row, from });
    view.set(key, { row: remembered(row), validFrom: from });
  }
  if (batch.snapshot) {
    const gone = [...view.keys()].filter((key) => !latest.has(key));
    for (const key of gone) {
      const open = view.get(key);
      if (open !== undefined) closes.push({ version: open, at: Math.max(batch.ts, open.validFrom) });
      view.set(key, undefined);
    }
  }
  return { closes, inserts };
}

/**
 * Whether `row` holds the values `before` (a {@link remembered} row, so frozen) holds in
 * `columns`, compared as {@link serialize} would: 5 and 5n, undefined and null alike; a list by
 * its items; only NaN differs, equal to NaN alone. Comparing values in place costs no string per
 * row, which serializing every row of every batch did.
 */
export function sameValues(columns: readonly string[], row: Row, before: Row): boolean {
  if (row === before) return true;
  for (const name of columns) if (!sameValue(row[name], before[name])) return false;
  return true;
}

function sameValue(a: Value | undefined, b: Value | undefined): boolean {
  if (a === b) return true;
  if (a === undefined || a === null) return b === undefined || b === null;
  if (b === undefined || b === null) return false;
  if (typeof a === 'bigint') return typeof b === 'number' && Number.isSafeInteger(Number(a)) && Number(a) === b;
  if (typeof b === 'bigint') return typeof a === 'number' && Number.isSafeInteger(Number(b)) && Number(b) === a;
  if (typeof a === 'number') return typeof b === 'number' && Number.isNaN(a) && Number.isNaN(b);
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((item, index) => item === b[index]);
  return false;
}

/** A row to remember: a frozen one as it is, another as a frozen copy, so a caller changing its row later cannot change what was remembered. */
export function remembered(row: Row): Row {
  return Object.isFrozen(row) ? row : Object.freeze({ ...row });
}

/** The identity of a row's entity within a host: its key values serialized ('' when the key is empty). */
export function entityKey(keyColumns: readonly string[], row: Row): string {
  if (keyColumns.length === 0) return '';
  if (!Object.isFrozen(row)) return serialize(keyColumns, row);
  // A frozen row keeps its key: remembered per key-column list (a schema's), so a re-emitted row costs a lookup.
  let keys = frozenKeys.get(keyColumns);
  if (keys === undefined) frozenKeys.set(keyColumns, (keys = new WeakMap()));
  let key = keys.get(row);
  if (key === undefined) keys.set(row, (key = serialize(keyColumns, row)));
  return key;
}

const frozenKeys = new WeakMap<readonly string[], WeakMap<Row, string>>();

/** The values of `columns` of a row, serialized so that equal values compare equal (5 and 5n, undefined and null). */
export function serialize(columns: readonly string[], row: Row): string {
  return JSON.stringify(columns.map((name) => normalize(row[name])));
}

/** Makes equal values serialize alike: 5 and 5n, undefined and null. */
function normalize(value: Value | undefined): unknown {
  if (value === undefined || value === null) return null;
  if (typeof value === 'bigint') return Number.isSafeInteger(Number(value)) ? Number(value) : `${value.toString()}n`;
  return value;
}

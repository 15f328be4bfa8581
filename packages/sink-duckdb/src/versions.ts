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
  /** The non-key values, serialized, to detect a change. */
  readonly fingerprint: string;
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

/** What one state batch does to the stored versions. */
export interface VersionChanges {
  /** Versions to close at the batch time. */
  readonly closes: readonly OpenVersion[];
  /** Rows to store as new versions valid from the batch time. */
  readonly inserts: readonly Row[];
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

/**
 * Compares a state batch with the open versions: new entities open a version, changed ones
 * close the old and open a new one, and with `snapshot` every entity missing from the batch is
 * closed. Later rows of a batch win over earlier rows with the same key. Updates `view`.
 */
export function diffStateBatch(schema: TableSchema, view: VersionView, batch: Batch): VersionChanges {
  const keyColumns = schema.key;
  const valueColumns = schema.columns.filter((column) => !keyColumns.includes(column.name)).map((column) => column.name);
  const latest = new Map<string, Row>();
  for (const row of batch.rows) latest.set(entityKey(keyColumns, row), row);

  const closes: OpenVersion[] = [];
  const inserts: Row[] = [];
  for (const [key, row] of latest) {
    const open = view.get(key);
    const fingerprint = fingerprintOf(valueColumns, row, open);
    if (open !== undefined && open.fingerprint === fingerprint) continue;
    if (open !== undefined) closes.push(open);
    inserts.push(row);
    view.set(key, { row, validFrom: batch.ts, fingerprint });
  }
  if (batch.snapshot) {
    const gone = [...view.keys()].filter((key) => !latest.has(key));
    for (const key of gone) {
      const open = view.get(key);
      if (open !== undefined) closes.push(open);
      view.set(key, undefined);
    }
  }
  return { closes, inserts };
}

/**
 * The non-key values of a row, serialized to detect a change: a frozen row that is the very
 * object remembered has the remembered values, so it is not serialized again.
 */
export function fingerprintOf(valueColumns: readonly string[], row: Row, remembered: { readonly row: Row; readonly fingerprint: string } | undefined): string {
  return remembered !== undefined && remembered.row === row && Object.isFrozen(row) ? remembered.fingerprint : serialize(valueColumns, row);
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

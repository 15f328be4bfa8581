/**
 * Change-only storage of metric tables, as a pure function over what the writer remembers of
 * each entity: which rows of a batch to store (new, changed, or due for a keyframe) and which
 * entities get a tombstone. An idle process costs nothing between keyframes (docs/storage.md).
 */
import type { Batch, Row, TableSchema } from '@virtualeyes/core';
import { entityKey, remembered, sameValues, type EntityView } from './versions.js';

/** The last stored row of one metric entity, as the writer remembers it. */
export interface StoredSample {
  /** The row as stored (its key columns name the entity of a tombstone). */
  readonly row: Row;
  /** Its `ts`, epoch milliseconds. */
  readonly ts: number;
}

/** What one metric batch stores. */
export interface SampleChanges {
  /** Rows to store at the batch time. */
  readonly rows: readonly Row[];
  /** Entities that disappeared from a snapshot: their key values, stored as tombstones at the batch time. */
  readonly gone: readonly Row[];
}

/**
 * Compares a metric batch with the last stored row of each entity. A row is stored when its
 * entity is new, any non-key value differs, its last stored row is `keyframeMs` old or more, or
 * the batch is older than that row; later rows of a batch win over earlier ones with the same key.
 * With `snapshot`, a remembered entity missing from the batch gets a tombstone and is forgotten;
 * without, it is forgotten (no row) once its last stored row is `keyframeMs` old, as readers
 * stop seeing it then. Updates `view`.
 */
export function diffMetricBatch(schema: TableSchema, view: EntityView<StoredSample>, batch: Batch, keyframeMs: number): SampleChanges {
  const keyColumns = schema.key;
  const valueColumns = schema.columns.filter((column) => !keyColumns.includes(column.name)).map((column) => column.name);
  const latest = new Map<string, Row>();
  for (const row of batch.rows) latest.set(entityKey(keyColumns, row), row);

  const rows: Row[] = [];
  for (const [key, row] of latest) {
    const stored = view.get(key);
    const age = stored === undefined ? Number.POSITIVE_INFINITY : batch.ts - stored.ts;
    if (stored !== undefined && age >= 0 && age < keyframeMs && sameValues(valueColumns, row, stored.row)) continue;
    rows.push(row);
    view.set(key, { row: remembered(row), ts: batch.ts });
  }
  const gone: Row[] = [];
  const missing = [...view.keys()].filter((key) => !latest.has(key));
  for (const key of missing) {
    const stored = view.get(key);
    if (stored === undefined) continue;
    if (batch.snapshot) gone.push(stored.row);
    else if (batch.ts - stored.ts < keyframeMs) continue;
    view.set(key, undefined);
  }
  return { rows, gone };
}

/**
 * The writer's maintenance, run after writes at most every `maintenanceIntervalMs`: it rolls the
 * complete buckets of every metric table into its tiers (tiers.ts) — by default only those within
 * {@link ROLLUP_LEAD_MS} of where retention wants the raw boundary, as until then the raw rows
 * answer every read — then deletes what retention
 * no longer keeps — raw rows older than each table's age cutoff or past its byte budget, and tier
 * rows past their `keep` — never a row an as-of read at a retained instant needs, and never a raw
 * or tier row not yet rolled into the next tier. Each step is its own transaction; a failure is
 * logged and counted, leaves its data as it was and is retried at the next run.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { fromPromise, type Logger, type Result, type Status } from '@virtualeyes/core';
import { parseDuration, parseSize, Rollup, type DuckDbConfig, type RetentionLimits } from './config.js';
import { classifyDuckDbError } from './errors.js';
import { inTransaction, readMetaTables, RETENTION_TABLE, selectRows, TIERS_TABLE, type MetaTable } from './layout.js';
import { historyTable, META_SCHEMA, physicalTables, quoteIdent, quoteText, SAMPLES_TABLE, StoreColumn, timeLiteral } from './sql.js';
import {
  bucketStart,
  rawRollupSql,
  readRawFrom,
  readTierColumns,
  readTierStates,
  tierName,
  tierRollupSql,
  tierShape,
  tierTable,
  tierTableStatements,
  type RawBounds,
  type TierShape,
  type TierState,
} from './tiers.js';

/** A tier as configured, in milliseconds. */
export interface TierPlan {
  /** Bucket width. */
  readonly stepMs: number;
  /** How long its rows are kept (Infinity: forever). */
  readonly keepMs: number;
}

/** One table's retention, in milliseconds and bytes (Infinity: no limit). */
export interface RetentionPolicy {
  readonly maxAgeMs: number;
  readonly maxBytes: number;
}

/** The configured tiers, finest first, in milliseconds ({@link checkConfig} has checked them). */
export function tierPlans(config: Pick<DuckDbConfig, 'tiers'>): TierPlan[] {
  return config.tiers.map((tier) => ({ stepMs: parseDuration(tier.step) ?? 0, keepMs: parseDuration(tier.keep) ?? Number.POSITIVE_INFINITY }));
}

/** The retention of `table`: its own limits, the defaults for what it leaves out. */
export function retentionOf(config: Pick<DuckDbConfig, 'retention'>, table: string): RetentionPolicy {
  const own: Partial<RetentionLimits> = config.retention.tables[table] ?? {};
  return {
    maxAgeMs: parseDuration(own.maxAge ?? config.retention.maxAge) ?? Number.POSITIVE_INFINITY,
    maxBytes: parseSize(own.maxBytes ?? config.retention.maxBytes) ?? Number.POSITIVE_INFINITY,
  };
}

/** A bucket counts as complete this long after its end: batches are written right after they are collected. */
export const ROLLUP_GRACE_MS = 10_000;

/** Most raw time one run rolls into the first tier (at least one bucket), so a backfill is spread over runs. */
export const FIRST_TIER_SPAN_MS = 3_600_000;

/**
 * The first tier waits until this much is complete (at least one bucket, at most ten): its SQL
 * reads the samples and rows of staleness + keyframe before what it rolls, so rolling ten minutes
 * at once costs about as much as one (docs/storage.md). Reads compute what is not rolled yet.
 */
export const FIRST_TIER_BATCH_MS = 600_000;

/**
 * With `rollup: "before-retention"`, the first tier rolls up to this far past the boundary
 * retention wants: twice {@link FIRST_TIER_BATCH_MS}, so its batches stay ahead of the deletes.
 */
export const ROLLUP_LEAD_MS = 2 * FIRST_TIER_BATCH_MS;

/** Most buckets one run rolls into a coarser tier. */
export const COARSE_TIER_BUCKETS = 24;

/** A table over its byte budget is trimmed to this share of it, so that it is not trimmed again at every run. */
export const BUDGET_TARGET = 0.9;

/** Bytes assumed per row before any row of a table was checkpointed (about a change row of process_stats). */
const UNCHECKPOINTED_ROW_BYTES = 48;

/** What the maintenance works on: the writer's connection and store file. */
export interface MaintenanceStore {
  /** The store file (its disk is checked before a checkpoint). */
  readonly path: string;
  /** The writer's connection. */
  readonly connection: DuckDBConnection;
  /** The writer's checkpoint (sink.ts: staged rows are moved first); rejects with DuckDB's error. */
  readonly checkpoint: () => Promise<void>;
}

/** What one run did, for logs and tests. */
export interface MaintenanceReport {
  /** Tier rows written, over every table and tier. */
  readonly tierRows: number;
  /** Raw and tier rows deleted. */
  readonly deletedRows: number;
  /** The failures, each already logged. */
  readonly failures: readonly Status[];
  /** Milliseconds the rollup took, and the retention. */
  readonly rollupMs: number;
  readonly retentionMs: number;
}

/** What the maintenance needs from its surroundings. */
export interface MaintenanceDeps {
  /** Status source (the instance name). */
  readonly source: string;
  readonly logger: Logger;
  /** Wall time and the monotonic time of the run's cost. */
  readonly now: () => number;
  readonly monotonic: () => number;
  /** Why a checkpoint would run out of disk, or undefined when it has room (sink.ts's `checkpointRoom`). */
  readonly checkpointRoom: (path: string) => Promise<string | undefined>;
}

/** The writer's rollup and retention. */
export interface Maintenance {
  /** True when a run is due at `now`: an interval after the last, or after the store opened (never when `maintenanceIntervalMs` is 0). */
  due(now: number): boolean;
  /** Rolls up, then applies retention. Never rejects: failures are logged, counted and in the report. */
  run(store: MaintenanceStore): Promise<MaintenanceReport>;
  /** Reads how far each table's first tier is rolled up, so {@link late} knows; at store open. */
  load(connection: DuckDBConnection): Promise<void>;
  /**
   * The statement a write transaction runs for a metric batch at `ts` that the first tier has
   * already rolled past (its buckets from `ts` on are rolled again at the next run), or
   * undefined when the batch is not late.
   */
  late(table: string, ts: number): string | undefined;
  /** Notes that a batch of `table` at `ts` was written (the newest data bounds what retention deletes). */
  wrote(table: string, ts: number): void;
  /** Failures since start, for logs and tests. */
  failures(): number;
}

/** Creates the maintenance of a store written with `config`. */
export function createMaintenance(config: DuckDbConfig, deps: MaintenanceDeps): Maintenance {
  const plans = tierPlans(config);
  const interval = config.maintenanceIntervalMs;
  // The first run comes an interval after the store opened, not with the first write: starting stays as quick as before.
  let lastRun = deps.now();
  let failed = 0;
  // Per metric table, how far its first tier is rolled up (undefined: nothing yet); absent until known.
  const watermarks = new Map<string, number | undefined>();
  let known = false;
  // Per table, an instant before which it holds nothing retention would delete (so an idle run reads no rows).
  const oldest = new Map<string, number>();
  // Per tier table, the first bucket and the number of the rows this session rolled up since its last sort.
  const unsorted = new Map<string, { readonly from: number; readonly rows: number }>();
  // Tier tables this session has created or widened, by name and shape.
  const prepared = new Set<string>();
  const warned = new Set<string>();
  // Per table, its newest data: retention counts back from it when it is older than the clock.
  const newest = new Map<string, number>();
  // Per step that failed at its last run, how many times in a row: warned once, then logged at debug.
  const failing = new Map<string, number>();

  const failure = (status: Status, what: string): Status => {
    failed += 1;
    const times = (failing.get(what) ?? 0) + 1;
    failing.set(what, times);
    const line = `${what} failed; the data stays as it was and the next run retries: ${status.message}`;
    if (times === 1) deps.logger.warn(line, { failures: failed, code: status.code });
    else deps.logger.debug(line, { failures: failed, times, code: status.code });
    return status;
  };
  const success = (what: string): void => {
    const times = failing.get(what);
    if (times === undefined) return;
    failing.delete(what);
    deps.logger.info(`${what} works again after ${times} failed runs`);
  };
  const warnOnce = (key: string, message: string): void => {
    if (warned.has(key)) return;
    warned.add(key);
    deps.logger.warn(message);
  };
  const remember = (states: readonly TierState[]): void => {
    const first = plans[0];
    watermarks.clear();
    if (first !== undefined) for (const state of states) if (state.stepMs === first.stepMs) watermarks.set(state.table, state.rolledTo);
    known = true;
  };

  return {
    due(now) {
      return interval > 0 && now - lastRun >= interval;
    },
    async load(connection) {
      const states = await fromPromise(readTierStates(connection), (error) => classifyDuckDbError(error, 'read tiers', deps.source));
      if (states.ok) remember(states.value);
      else deps.logger.debug(`Tiers not read at start: ${states.status.message}`);
    },
    late(table, ts) {
      const first = plans[0];
      if (first === undefined) return undefined;
      // Not read yet counts as late: marking a tier that has not rolled past ts changes nothing.
      const mark = watermarks.get(table);
      if (known && (mark === undefined || ts >= mark)) return undefined;
      const at = timeLiteral(ts);
      return `UPDATE ${TIERS_TABLE} SET dirty_from = least(coalesce(dirty_from, ${at}), ${at}) WHERE table_name = ${quoteText(table)} AND step_ms = ${first.stepMs} AND rolled_to > ${at}`;
    },
    wrote(table, ts) {
      if (ts > (newest.get(table) ?? Number.NEGATIVE_INFINITY)) newest.set(table, ts);
    },
    failures: () => failed,
    async run(store) {
      const now = deps.now();
      lastRun = now;
      const failures: Status[] = [];
      const started = deps.monotonic();
      const context = await fromPromise(readContext(store.connection, config), (error) => classifyDuckDbError(error, 'maintenance', deps.source));
      if (!context.ok) {
        failures.push(failure(context.status, 'Maintenance'));
        return { tierRows: 0, deletedRows: 0, failures, rollupMs: deps.monotonic() - started, retentionMs: 0 };
      }
      success('Maintenance');
      const { tables, states, rawFrom, bounds } = context.value;
      const newestOf = async (table: MetaTable): Promise<Result<number | undefined>> => {
        const known = newest.get(table.name);
        if (known !== undefined) return { ok: true, value: known };
        const found = await fromPromise(newestInstant(store.connection, table), (error) => classifyDuckDbError(error, `retain ${table.name}`, deps.source));
        if (found.ok && found.value !== undefined) newest.set(table.name, found.value);
        return found;
      };
      // Retention counts back from the clock, or from the table's newest data when that is older (an
      // imported or long-stopped recording keeps its last `maxAge`), never from a batch stamped in the future.
      const reference = new Map<string, number>();
      // Per table, where retention wants its raw boundary: the first tier rolls up to a lead past it.
      const wanted = new Map<string, Wanted>();
      for (const table of tables.values()) {
        const found = await newestOf(table);
        if (!found.ok) {
          failures.push(failure(found.status, `Retention of ${table.name}`));
          continue;
        }
        if (found.value === undefined) continue;
        const since = Math.min(now, found.value);
        reference.set(table.name, since);
        const want = await fromPromise(wantedBoundary(store.connection, table, retentionOf(config, table.name), since, bounds), (error) =>
          classifyDuckDbError(error, `retain ${table.name}`, deps.source),
        );
        if (!want.ok) {
          failures.push(failure(want.status, `Retention of ${table.name}`));
          continue;
        }
        wanted.set(table.name, want.value);
      }
      let tierRows = 0;
      for (const table of tables.values()) {
        if (table.kind !== 'metric' || plans.length === 0) continue;
        const shape = tierShape(table);
        if (!shape.ok) {
          warnOnce(`shape ${table.name}`, `${shape.message}; it is kept raw only`);
          continue;
        }
        // Rolled before retention: up to a lead past the boundary retention wants, so it never waits for the tier.
        const boundary = wanted.get(table.name)?.boundary ?? Number.NEGATIVE_INFINITY;
        const rollBefore = config.rollup === Rollup.IMMEDIATE ? Number.POSITIVE_INFINITY : boundary + ROLLUP_LEAD_MS;
        for (const [index, plan] of plans.entries()) {
          const rolled = await rollTier(store.connection, { table, shape: shape.value, plans, index, states, now, bounds, rawFrom: rawFrom.get(table.name), prepared, rollBefore });
          const what = `Rollup of ${table.name} into ${tierName(table.name, plan.stepMs)}`;
          if (!rolled.ok) {
            failures.push(failure(rolled.status, what));
            break; // The coarser tiers wait for this one.
          }
          success(what);
          tierRows += rolled.value.rows;
          if (rolled.value.rows === 0 || config.sortRows === 0) continue;
          // Sorted by entity, a tier's rows of idle processes become runs: about half the bytes (docs/storage.md).
          const name = tierName(table.name, plan.stepMs);
          const pending = unsorted.get(name) ?? { from: rolled.value.from, rows: 0 };
          unsorted.set(name, { from: Math.min(pending.from, rolled.value.from), rows: pending.rows + rolled.value.rows });
          if (pending.rows + rolled.value.rows < config.sortRows) continue;
          unsorted.delete(name);
          const sorted = await sortTier(store, shape.value, plan.stepMs, Math.min(pending.from, rolled.value.from), deps);
          if (!sorted.ok) failures.push(failure(sorted.status, `Sorting ${name}`));
        }
      }
      remember([...states.values()].flat());
      const rollupMs = deps.monotonic() - started;
      const retentionStarted = deps.monotonic();
      let deletedRows = 0;
      for (const table of tables.values()) {
        const since = reference.get(table.name);
        const want = wanted.get(table.name);
        if (since === undefined || want === undefined) continue;
        // A metric table with tiers keeps its raw rows until its first tier has rolled them up.
        const tiered = table.kind === 'metric' && plans.length > 0;
        const first = tiered ? (states.get(table.name)?.find((state) => state.stepMs === plans[0]?.stepMs) ?? null) : undefined;
        const retained = await retainTable(store, { table, wanted: want, now, bounds, rawFrom: rawFrom.get(table.name), firstTier: first, oldest }, deps);
        const what = `Retention of ${table.name}`;
        if (!retained.ok) {
          failures.push(failure(retained.status, what));
          continue;
        }
        success(what);
        deletedRows += retained.value;
      }
      for (const [name, tiers] of states) {
        const since = reference.get(name);
        if (since === undefined) continue;
        const trimmed = await trimTiers(store.connection, name, tiers, plans, { now, since }, deps.source);
        const what = `Retention of the tiers of ${name}`;
        if (!trimmed.ok) {
          failures.push(failure(trimmed.status, what));
          continue;
        }
        success(what);
        deletedRows += trimmed.value;
      }
      return { tierRows, deletedRows, failures, rollupMs, retentionMs: deps.monotonic() - retentionStarted };
    },
  };
}

/** What one run reads first: the tables, the tiers' states (by table, finest first), the raw boundaries and the read bounds. */
interface RunContext {
  readonly tables: ReadonlyMap<string, MetaTable>;
  readonly states: Map<string, TierState[]>;
  readonly rawFrom: ReadonlyMap<string, number>;
  readonly bounds: RawBounds;
}

async function readContext(connection: DuckDBConnection, config: DuckDbConfig): Promise<RunContext> {
  const tables = await readMetaTables(connection);
  const states = new Map<string, TierState[]>();
  for (const state of await readTierStates(connection)) states.set(state.table, [...(states.get(state.table) ?? []), state]);
  const rawFrom = await readRawFrom(connection);
  const keyframe = await selectRows(connection, `SELECT coalesce(max(keyframe_ms), 0) FROM ${META_SCHEMA}.sessions`);
  return { tables, states, rawFrom, bounds: { stalenessMs: config.stalenessMs, keyframeMs: Number(keyframe[0]?.[0] ?? 0) } };
}

/** What {@link rollTier} works on. */
interface RollupJob {
  /** The metric table, as the catalogue has it. */
  readonly table: MetaTable;
  readonly shape: TierShape;
  readonly plans: readonly TierPlan[];
  /** Which of `plans` to roll. */
  readonly index: number;
  /** Every table's tier states, updated in place as tiers move on. */
  readonly states: Map<string, TierState[]>;
  readonly now: number;
  readonly bounds: RawBounds;
  /** The table's raw boundary, if retention has trimmed it. */
  readonly rawFrom: number | undefined;
  /** Tier tables already created or widened this session. */
  readonly prepared: Set<string>;
  /** The first tier rolls only buckets before this instant (Infinity: every complete one; −Infinity: none yet). */
  readonly rollBefore: number;
}

/** What one rollup wrote: its rows and the first bucket they went to. */
interface Rolled {
  readonly rows: number;
  readonly from: number;
}

/** The first instant a tier's rows are complete from: before its rolled-up part, or before a late batch's buckets. */
function watermarkOf(state: TierState | undefined): number | undefined {
  if (state?.rolledTo === undefined) return undefined;
  return state.dirtyFrom === undefined ? state.rolledTo : Math.min(state.rolledTo, state.dirtyFrom);
}

/**
 * Rolls the complete buckets of one tier of one table that are not rolled up yet (and those a
 * late batch touched), at most one run's worth, in one transaction: the tier table is created
 * or widened, the buckets' rows replaced, `vw_meta.tiers` moved on, and the next tier told to
 * redo the buckets over what was redone. Resolves the tier rows written and the first bucket they went to.
 */
async function rollTier(connection: DuckDBConnection, job: RollupJob): Promise<Result<Rolled>> {
  const { shape, plans, index, now } = job;
  const plan = plans[index];
  const none = { ok: true, value: { rows: 0, from: Number.POSITIVE_INFINITY } } as const;
  if (plan === undefined) return none;
  const name = shape.table;
  const tiers = job.states.get(name) ?? [];
  const state = tiers.find((tier) => tier.stepMs === plan.stepMs);
  const finer = index === 0 ? undefined : tiers.find((tier) => tier.stepMs === plans[index - 1]?.stepMs);
  let target = bucketStart(now - ROLLUP_GRACE_MS, plan.stepMs);
  if (index === 0 && job.rollBefore < Number.POSITIVE_INFINITY) {
    // Nothing retention will delete soon: the raw rows answer, and the tier waits (a late batch's buckets too).
    if (!Number.isFinite(job.rollBefore)) return none;
    target = Math.min(target, bucketStart(job.rollBefore, plan.stepMs));
  }
  if (index > 0) {
    const mark = watermarkOf(finer);
    if (mark === undefined) return none;
    target = Math.min(target, bucketStart(mark, plan.stepMs));
  }
  return fromPromise(
    async () => {
      let from = state?.rolledTo ?? (await firstBucket(connection, job, finer, plan.stepMs)) ?? target;
      if (state?.dirtyFrom !== undefined) from = Math.min(from, bucketStart(state.dirtyFrom, plan.stepMs));
      const span = index === 0 ? Math.max(plan.stepMs, FIRST_TIER_SPAN_MS) : plan.stepMs * COARSE_TIER_BUCKETS;
      const to = Math.max(from, Math.min(target, from + span));
      if (state !== undefined && to === state.rolledTo && state.dirtyFrom === undefined) return none.value;
      // A tier that never rolled is not created before it has a bucket to hold.
      if (state === undefined && to <= from) return none.value;
      const batch = Math.max(plan.stepMs, Math.min(FIRST_TIER_BATCH_MS, 10 * plan.stepMs));
      if (index === 0 && state !== undefined && state.dirtyFrom === undefined && to - from < batch) return none.value;
      const key = `${tierName(name, plan.stepMs)} ${JSON.stringify(shape)}`;
      let keptFrom: number | undefined;
      const written = await inTransaction(connection, async () => {
        if (!job.prepared.has(key)) {
          const existing = (await readTierColumns(connection)).get(tierName(name, plan.stepMs));
          for (const statement of tierTableStatements(shape, plan.stepMs, existing)) await connection.run(statement);
        }
        let rows = 0;
        if (to > from) {
          const target = tierTable(name, plan.stepMs);
          const select = index === 0 ? rawRollupSql(job.table, plan.stepMs, from, to, job.bounds) : tierRollupSql(shape, plan.stepMs, tierTable(name, plans[index - 1]?.stepMs ?? 0), from, to);
          await connection.run(`DELETE FROM ${target} WHERE ts >= ${timeLiteral(from)} AND ts < ${timeLiteral(to)}`);
          // In entity order within the batch: an idle entity's buckets lie together and become runs (docs/storage.md).
          const order = [StoreColumn.HOST, ...shape.key.map((column) => column.name), StoreColumn.TS].map(quoteIdent).join(', ');
          rows = Number((await connection.run(`INSERT INTO ${target} BY NAME SELECT * FROM (${select}) ORDER BY ${order}`)).rowsChanged);
        }
        const keep = Number.isFinite(plan.keepMs) ? String(plan.keepMs) : 'NULL';
        if (state === undefined) await connection.run(`INSERT INTO ${TIERS_TABLE} VALUES ($1, ${plan.stepMs}, ${keep}, NULL, NULL, NULL, ${timeLiteral(now)})`, [name]);
        // kept_from: the first bucket holding rows (least ignores NULL, so no rows leave it as it was).
        const first = `(SELECT min(ts) FROM ${tierTable(name, plan.stepMs)} WHERE ts >= ${timeLiteral(from)} AND ts < ${timeLiteral(to)})`;
        const updated = await selectRows(
          connection,
          `UPDATE ${TIERS_TABLE} SET keep_ms = ${keep}, rolled_to = ${timeLiteral(to)}, dirty_from = NULL, kept_from = least(kept_from, ${first}), updated_at = ${timeLiteral(now)} ` +
            `WHERE table_name = $1 AND step_ms = ${plan.stepMs} RETURNING epoch_ms(kept_from)`,
          [name],
        );
        const kept = updated[0]?.[0];
        keptFrom = kept === null || kept === undefined ? undefined : Number(kept);
        // Buckets rolled again: the next tier rolls the buckets over them again too.
        const coarser = plans[index + 1];
        if (coarser !== undefined && state?.rolledTo !== undefined && from < state.rolledTo) {
          const at = timeLiteral(from);
          await connection.run(
            `UPDATE ${TIERS_TABLE} SET dirty_from = least(coalesce(dirty_from, ${at}), ${at}) WHERE table_name = ${quoteText(name)} AND step_ms = ${coarser.stepMs} AND rolled_to > ${at}`,
          );
        }
        return rows;
      });
      job.prepared.add(key);
      const next: TierState = {
        table: name,
        stepMs: plan.stepMs,
        keepMs: plan.keepMs,
        rolledTo: to,
        dirtyFrom: undefined,
        keptFrom,
      };
      const others = tiers.filter((tier) => tier.stepMs !== plan.stepMs).map((tier) => {
        const coarser = plans[index + 1];
        if (coarser === undefined || tier.stepMs !== coarser.stepMs || state?.rolledTo === undefined || from >= state.rolledTo || tier.rolledTo === undefined || tier.rolledTo <= from) return tier;
        return { ...tier, dirtyFrom: Math.min(tier.dirtyFrom ?? from, from) };
      });
      job.states.set(name, [...others, next].sort((a, b) => a.stepMs - b.stepMs));
      return { rows: written, from };
    },
    (error) => classifyDuckDbError(error, `roll up ${tierName(name, plan.stepMs)}`),
  );
}

/**
 * Rewrites a tier's rows from bucket `from` on ordered by host, key and time, in one transaction,
 * then checkpoints (when the disk has room) so DuckDB compresses them in that order, as sink.ts
 * sorts raw rows. Only the physical order changes; a failure leaves the rows as they were.
 */
async function sortTier(store: MaintenanceStore, shape: TierShape, stepMs: number, from: number, deps: MaintenanceDeps): Promise<Result<void>> {
  const target = tierTable(shape.table, stepMs);
  const order = [StoreColumn.HOST, ...shape.key.map((column) => column.name), StoreColumn.TS].map(quoteIdent).join(', ');
  const since = `ts >= ${timeLiteral(from)}`;
  const op = `sort ${tierName(shape.table, stepMs)}`;
  const sorted = await fromPromise(
    inTransaction(store.connection, async () => {
      // Rows this transaction inserts get row ids above every committed one, so the DELETE spares them.
      const last = (await selectRows(store.connection, `SELECT max(rowid) FROM ${target}`))[0]?.[0];
      if (last === null || last === undefined) return;
      await store.connection.run(`INSERT INTO ${target} SELECT * FROM ${target} WHERE ${since} ORDER BY ${order}`);
      await store.connection.run(`DELETE FROM ${target} WHERE ${since} AND rowid <= ${String(last)}`);
    }),
    (error) => classifyDuckDbError(error, op, deps.source),
  );
  if (!sorted.ok) return sorted;
  // Out of disk, a checkpoint would invalidate the database: the sorted rows then wait for a later one.
  const room = await deps.checkpointRoom(store.path);
  if (room !== undefined) {
    deps.logger.debug(`No checkpoint after sorting ${tierName(shape.table, stepMs)}: ${room}`);
    return { ok: true, value: undefined };
  }
  const checkpoint = await fromPromise(store.checkpoint(), (error) => classifyDuckDbError(error, op, deps.source));
  if (!checkpoint.ok) deps.logger.debug(`No checkpoint after sorting ${tierName(shape.table, stepMs)}: ${checkpoint.status.message}`);
  return { ok: true, value: undefined };
}

/**
 * Where a tier that never rolled starts: the first tier at the bucket of the table's first
 * sample still exact (at or after its raw boundary), a coarser one at the finer tier's first
 * bucket; undefined when there is nothing to roll yet.
 */
async function firstBucket(connection: DuckDBConnection, job: RollupJob, finer: TierState | undefined, stepMs: number): Promise<number | undefined> {
  if (job.index > 0) return finer?.keptFrom === undefined ? undefined : bucketStart(finer.keptFrom, stepMs);
  const rows = await selectRows(connection, `SELECT epoch_ms(min(ts)) FROM ${SAMPLES_TABLE} WHERE table_name = ${quoteText(job.shape.table)}`);
  const first = rows[0]?.[0];
  if (first === null || first === undefined) return undefined;
  // A bucket starting before the raw boundary would be partial: start at the first whole one.
  return job.rawFrom === undefined || Number(first) >= job.rawFrom ? bucketStart(Number(first), stepMs) : Math.ceil(job.rawFrom / stepMs) * stepMs;
}

/** Where retention wants a table's raw boundary ({@link wantedBoundary}). */
interface Wanted {
  /** The boundary (−Infinity: nothing to delete). */
  readonly boundary: number;
  /** True when the byte budget, not the age, put it there: the store is then checkpointed so the freed blocks count. */
  readonly trimmed: boolean;
}

/**
 * Where retention wants a table's raw boundary B: the later of `since − maxAge` and the instant
 * past which its rows fit 90 % of `maxBytes` (plus the table's {@link retentionMargins}), never
 * past `since`. Asked before the rollup, so the first tier can roll up to a lead past it.
 */
async function wantedBoundary(connection: DuckDBConnection, table: MetaTable, policy: RetentionPolicy, since: number, bounds: RawBounds): Promise<Wanted> {
  const margins = retentionMargins(table.kind, bounds);
  let boundary = Number.isFinite(policy.maxAgeMs) ? since - policy.maxAgeMs : Number.NEGATIVE_INFINITY;
  let trimmed = false;
  if (Number.isFinite(policy.maxBytes)) {
    const over = await sizeBoundary(connection, table, policy.maxBytes);
    if (over !== undefined && over + margins.rows > boundary) {
      boundary = Math.min(over + margins.rows, since);
      trimmed = true;
    }
  }
  return { boundary, trimmed };
}

/** What {@link retainTable} works on. */
interface RetentionJob {
  readonly table: MetaTable;
  /** Where retention wants the boundary. */
  readonly wanted: Wanted;
  /** The clock. */
  readonly now: number;
  readonly bounds: RawBounds;
  /** The table's raw boundary so far, if trimmed before. */
  readonly rawFrom: number | undefined;
  /** Metric tables with tiers: the first tier's state (null: it never rolled); undefined without tiers. */
  readonly firstTier: TierState | null | undefined;
  /** Per table, an instant before which nothing deletable is left, as far as known; updated. */
  readonly oldest: Map<string, number>;
}

/**
 * How much older than a table's raw boundary B its rows are kept, so that every read at an
 * instant at or after B (with the configured staleness) answers what it answered before: a
 * metric sample there lies after B − staleness and its `samples()` pair after B − 2·staleness,
 * and their rows at most a keyframe before that; an event counts from B − staleness; a state
 * version valid at B ends after it.
 */
export function retentionMargins(kind: MetaTable['kind'], bounds: RawBounds): { readonly rows: number; readonly samples: number } {
  if (kind === 'metric') return { rows: 2 * bounds.stalenessMs + bounds.keyframeMs, samples: 2 * bounds.stalenessMs };
  if (kind === 'event') return { rows: bounds.stalenessMs, samples: 0 };
  return { rows: 0, samples: 0 };
}

/**
 * Applies one table's retention: its raw boundary B moves to where retention wants it
 * ({@link wantedBoundary}), but never past what its first tier has rolled up (a rollup that
 * fails keeps the raw rows), and never back. Rows older than B by more than
 * {@link retentionMargins} are deleted with the sample log's instants, and `vw_meta.retention`
 * records B, in one transaction; after trimming for size the store is checkpointed (when the
 * disk has room) so the freed blocks count. Resolves the rows deleted.
 */
async function retainTable(store: MaintenanceStore, job: RetentionJob, deps: MaintenanceDeps): Promise<Result<number>> {
  const { table, now } = job;
  const op = `retain ${table.name}`;
  const classify = (error: unknown): Status => classifyDuckDbError(error, op, deps.source);
  const margins = retentionMargins(table.kind, job.bounds);
  let boundary = job.wanted.boundary;
  const trimmed = job.wanted.trimmed;
  if (!Number.isFinite(boundary)) return { ok: true, value: 0 };
  if (job.firstTier !== undefined) {
    const mark = watermarkOf(job.firstTier ?? undefined);
    if (mark === undefined || mark < boundary) {
      deps.logger.debug(`Raw rows of ${table.name} kept past retention until its first tier has rolled them up`, { boundary, rolledTo: mark });
      boundary = mark ?? Number.NEGATIVE_INFINITY;
    }
  }
  if (!Number.isFinite(boundary) || (job.rawFrom !== undefined && boundary <= job.rawFrom)) return { ok: true, value: 0 };
  // The oldest deletable instant (the sample log's for a metric table, whose rows all have a logged sample).
  const edge = boundary - (table.kind === 'metric' ? margins.samples : margins.rows);
  let oldest = job.oldest.get(table.name);
  if (oldest === undefined) {
    const found = await fromPromise(oldestInstant(store.connection, table), classify);
    if (!found.ok) return found;
    // Nothing at all: asked again at the next run.
    if (found.value === undefined) return { ok: true, value: 0 };
    oldest = found.value;
    job.oldest.set(table.name, oldest);
  }
  if (edge <= oldest) return { ok: true, value: 0 };
  const deleted = await fromPromise(
    inTransaction(store.connection, async () => {
      let rows = 0;
      for (const statement of retentionDeletes(table, boundary, margins)) rows += Number((await store.connection.run(statement)).rowsChanged);
      await store.connection.run(`DELETE FROM ${RETENTION_TABLE} WHERE table_name = $1`, [table.name]);
      await store.connection.run(`INSERT INTO ${RETENTION_TABLE} VALUES ($1, ${timeLiteral(boundary)}, ${timeLiteral(now)})`, [table.name]);
      return rows;
    }),
    classify,
  );
  if (!deleted.ok) return deleted;
  job.oldest.set(table.name, edge);
  if (!trimmed) return deleted;
  // Out of disk, a checkpoint would invalidate the database: the deleted rows' blocks are freed at a later one.
  const room = await deps.checkpointRoom(store.path);
  if (room !== undefined) {
    deps.logger.debug(`No checkpoint after trimming ${table.name}: ${room}`);
    return deleted;
  }
  const checkpoint = await fromPromise(store.checkpoint(), classify);
  if (!checkpoint.ok) deps.logger.debug(`No checkpoint after trimming ${table.name}: ${checkpoint.status.message}`);
  return deleted;
}

/** The newest instant of a table's data (its last sample for a metric table), undefined when it has none. */
async function newestInstant(connection: DuckDBConnection, table: MetaTable): Promise<number | undefined> {
  const sql =
    table.kind === 'metric'
      ? `SELECT epoch_ms(max(ts)) FROM ${SAMPLES_TABLE} WHERE table_name = ${quoteText(table.name)}`
      : table.kind === 'event'
        ? `SELECT epoch_ms(max(ts)) FROM ${historyTable(table.name)}`
        : `SELECT epoch_ms(greatest(max(valid_from), max(valid_to))) FROM ${historyTable(table.name)}`;
  const value = (await selectRows(connection, sql))[0]?.[0];
  return value === null || value === undefined ? undefined : Number(value);
}

/** The earliest instant of a table that retention could delete (a closed version's end for a state table), undefined when none. */
async function oldestInstant(connection: DuckDBConnection, table: MetaTable): Promise<number | undefined> {
  const sql =
    table.kind === 'metric'
      ? `SELECT epoch_ms(min(ts)) FROM ${SAMPLES_TABLE} WHERE table_name = ${quoteText(table.name)}`
      : table.kind === 'event'
        ? `SELECT epoch_ms(min(ts)) FROM ${historyTable(table.name)}`
        : `SELECT epoch_ms(min(valid_to)) FROM ${historyTable(table.name)}`;
  const value = (await selectRows(connection, sql))[0]?.[0];
  return value === null || value === undefined ? undefined : Number(value);
}

/** The DELETE statements moving a table's raw boundary to `boundary` ({@link retentionMargins}); a staged table's from both its physical tables. */
export function retentionDeletes(table: Pick<MetaTable, 'name' | 'kind' | 'staged'>, boundary: number, margins: { readonly rows: number; readonly samples: number }): string[] {
  const source = historyTable(table.name);
  if (table.kind === 'state') return [`DELETE FROM ${source} WHERE valid_to IS NOT NULL AND valid_to < ${timeLiteral(boundary)}`];
  const rows = physicalTables(table.name, table.staged === true).map((target) => `DELETE FROM ${target} WHERE ts < ${timeLiteral(boundary - margins.rows)}`);
  if (table.kind === 'event') return rows;
  return [...rows, `DELETE FROM ${SAMPLES_TABLE} WHERE table_name = ${quoteText(table.name)} AND ts < ${timeLiteral(boundary - margins.samples)}`];
}

/**
 * When a table's raw rows take more than `maxBytes` ({@link tableBytes}), the instant before
 * which its oldest rows must go for the rest to fit {@link BUDGET_TARGET} of it (by row count,
 * rows weighing alike); undefined when it fits.
 */
async function sizeBoundary(connection: DuckDBConnection, table: MetaTable, maxBytes: number): Promise<number | undefined> {
  const measured = await physicalBytes(connection, physicalTables(table.name, table.staged === true));
  if (measured.bytes <= maxBytes || measured.rows === 0) return undefined;
  const share = Math.min(1, 1 - (maxBytes * BUDGET_TARGET) / measured.bytes);
  // State tables: only closed versions can go, oldest end first.
  const time = table.kind === 'state' ? 'valid_to' : 'ts';
  const filter = table.kind === 'state' ? ' WHERE valid_to IS NOT NULL' : '';
  const rows = await selectRows(connection, `SELECT epoch_ms(quantile_disc(${time}, ${share})) FROM ${historyTable(table.name)}${filter}`);
  const value = rows[0]?.[0];
  return value === null || value === undefined ? undefined : Number(value) + 1;
}

/** A table's size as {@link tableBytes} measures it. */
export interface TableBytes {
  /** Bytes its live rows take: its blocks' bytes in the share of its stored rows that are live. */
  readonly bytes: number;
  /** Bytes of its blocks (and an estimate for rows not yet checkpointed), deleted rows not yet reclaimed included. */
  readonly storedBytes: number;
  /** Its live rows. */
  readonly rows: number;
}

/** The {@link tableBytes} of physical tables together (a staged metric table's two). */
export async function physicalBytes(connection: DuckDBConnection, tables: readonly string[]): Promise<TableBytes> {
  let sum: TableBytes = { bytes: 0, storedBytes: 0, rows: 0 };
  for (const table of tables) {
    const one = await tableBytes(connection, table);
    sum = { bytes: sum.bytes + one.bytes, storedBytes: sum.storedBytes + one.storedBytes, rows: sum.rows + one.rows };
  }
  return sum;
}

/**
 * The bytes a table takes. `storage_info` lists its segments: the distinct blocks of the
 * checkpointed ones times the block size, plus its rows not yet checkpointed at the checkpointed
 * rows' average (or {@link UNCHECKPOINTED_ROW_BYTES}), are its stored bytes; a block shared with
 * another table counts whole. Deleted rows keep their blocks until a checkpoint rewrites their
 * row group, so the live rows' share of that (`count(*)` over the rows the segments hold) is what
 * the table will take once reclaimed, and what retention compares with its budget. It reads the
 * table's segment list and counts its rows (5-6 ms for 263 000 rows, docs/storage.md).
 */
export async function tableBytes(connection: DuckDBConnection, qualified: string): Promise<TableBytes> {
  const info = `pragma_storage_info(${quoteText(qualified)})`;
  const rows = await selectRows(
    connection,
    `SELECT (SELECT count(DISTINCT b) FROM (SELECT unnest(list_prepend(block_id, coalesce(additional_block_ids, []))) AS b FROM ${info} WHERE persistent) WHERE b >= 0), ` +
      `coalesce(sum(count) FILTER (WHERE persistent AND column_id = 0 AND segment_type <> 'VALIDITY'), 0), ` +
      `coalesce(sum(count) FILTER (WHERE NOT persistent AND column_id = 0 AND segment_type <> 'VALIDITY'), 0), ` +
      `(SELECT block_size FROM pragma_database_size() WHERE database_name = current_database()), ` +
      `(SELECT count(*) FROM ${qualified}) FROM ${info}`,
  );
  const [blocks = 0, persistentRows = 0, transientRows = 0, blockSize = 0, live = 0] = (rows[0] ?? []).map((value) => Number(value ?? 0));
  const checkpointed = blocks * blockSize;
  const perRow = persistentRows > 0 ? checkpointed / persistentRows : UNCHECKPOINTED_ROW_BYTES;
  const storedBytes = checkpointed + transientRows * perRow;
  const segmentRows = persistentRows + transientRows;
  return { bytes: segmentRows === 0 ? 0 : (storedBytes * Math.min(live, segmentRows)) / segmentRows, storedBytes, rows: live };
}

/**
 * Deletes each tier's buckets older than its `keep` (a retired tier's, no longer configured, by
 * the keep it was last rolled with), never a bucket the next configured tier has not rolled up;
 * `kept_from` moves on in the same transaction. Resolves the rows deleted.
 */
async function trimTiers(
  connection: DuckDBConnection,
  table: string,
  tiers: readonly TierState[],
  plans: readonly TierPlan[],
  time: { readonly now: number; readonly since: number },
  source: string,
): Promise<Result<number>> {
  const { now, since } = time;
  let deleted = 0;
  for (const tier of tiers) {
    const index = plans.findIndex((plan) => plan.stepMs === tier.stepMs);
    const keepMs = index >= 0 ? (plans[index]?.keepMs ?? tier.keepMs) : tier.keepMs;
    if (!Number.isFinite(keepMs) || tier.keptFrom === undefined) continue;
    let cutoff = bucketStart(since - keepMs, tier.stepMs);
    const coarser = index >= 0 ? plans[index + 1] : undefined;
    if (coarser !== undefined) {
      const mark = watermarkOf(tiers.find((other) => other.stepMs === coarser.stepMs));
      cutoff = Math.min(cutoff, mark === undefined ? Number.NEGATIVE_INFINITY : bucketStart(mark, tier.stepMs));
    }
    if (!Number.isFinite(cutoff) || cutoff <= tier.keptFrom) continue;
    const done = await fromPromise(
      inTransaction(connection, async () => {
        const rows = Number((await connection.run(`DELETE FROM ${tierTable(table, tier.stepMs)} WHERE ts < ${timeLiteral(cutoff)}`)).rowsChanged);
        await connection.run(`UPDATE ${TIERS_TABLE} SET kept_from = ${timeLiteral(cutoff)}, updated_at = ${timeLiteral(now)} WHERE table_name = $1 AND step_ms = ${tier.stepMs}`, [table]);
        return rows;
      }),
      (error) => classifyDuckDbError(error, `retain ${tierName(table, tier.stepMs)}`, source),
    );
    if (!done.ok) return done;
    deleted += done.value;
  }
  return { ok: true, value: deleted };
}

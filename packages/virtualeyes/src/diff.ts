/**
 * `virtualeyes diff`: what appeared, disappeared, came and went, or changed in the state tables
 * between two instants. It asks the store for each state table's versions over the range (a
 * question every store answers, so no SQL dialect is known here) and classifies them per entity
 * (host and the catalogue's key columns); nothing is specific to a table but a nicer label for
 * processes. Recorded text is untrusted: the rendering escapes every value it shows.
 */
import { err, fail, ok, RESERVED_COLUMNS, StatusCode, type Cell, type QueryResult, type Result, type StoreReader, type StoredTable } from '@virtualeyes/core';
import { escapeText, jsonText, truncateText } from './escape.js';
import { cellText, clockText, Format, formatResult, rowObjects, zoneText, type TimeDisplay } from './format.js';

type Rec = Record<string, Cell>;

/** An entity of a state table: the host and the values of the table's key columns. */
export interface DiffEntity {
  /** The host the rows came from. */
  readonly host: Cell;
  /** Key column name to value; empty for a keyless table (one entity per host). */
  readonly key: Readonly<Record<string, Cell>>;
}

/** An entity present for part of the range, with the values it had. */
export interface PresentEntity extends DiffEntity {
  /** When its first version in the range began (ISO), absent for one already valid at `from`. */
  readonly since?: string;
  /** When its last version ended (ISO), absent for one still valid at `to`. */
  readonly until?: string;
  /** Its non-key values: at `to` for an appeared entity, at `from` for a disappeared one, the last ones for one that came and went. */
  readonly row: Readonly<Record<string, Cell>>;
}

/** One column's change between two consecutive versions of an entity. */
export interface ColumnChange {
  /** The column. */
  readonly column: string;
  /** Its value before. */
  readonly from: Cell;
  /** Its value after. */
  readonly to: Cell;
  /** When the new value began (ISO). */
  readonly at: string;
}

/** An entity valid at both instants whose values changed in between. */
export interface ChangedEntity extends DiffEntity {
  /** Every change, in time order. */
  readonly changes: readonly ColumnChange[];
}

/** The diff of one state table. */
export interface TableDiff {
  /** Table name. */
  readonly table: string;
  /** Its key columns, from the catalogue. */
  readonly keyColumns: readonly string[];
  /** Versions the store returned for the range. */
  readonly versions: number;
  /** True when the store cut the versions at its row cap: the diff is incomplete. */
  readonly truncated: boolean;
  /** Entities valid at `from`. */
  readonly atFrom: number;
  /** Entities valid at `to`. */
  readonly atTo: number;
  /** Valid at `to` but not at `from`. */
  readonly appeared: readonly PresentEntity[];
  /** Valid at `from` but not at `to`. */
  readonly disappeared: readonly PresentEntity[];
  /** Valid at neither instant, but some time in between. */
  readonly cameAndWent: readonly PresentEntity[];
  /** Valid at both, with different values or several versions in between. */
  readonly changed: readonly ChangedEntity[];
}

/** The diff of every state table asked about, between `from` and `to` (ISO). */
export interface DiffResult {
  /** Start instant (ISO). */
  readonly from: string;
  /** End instant (ISO). */
  readonly to: string;
  /** One entry per state table, in catalogue order. */
  readonly tables: readonly TableDiff[];
}

/** What {@link diffTables} asks. */
export interface DiffRequest {
  /** Start instant, epoch milliseconds. */
  readonly from: number;
  /** End instant, epoch milliseconds (not before `from`). */
  readonly to: number;
  /** Only these state tables; default: every one. */
  readonly tables?: readonly string[];
  /** Only this host's rows. */
  readonly host?: string;
  /** Time limit of each question to the store. */
  readonly timeoutMs?: number;
}

/** Store columns that are not an entity's values: the host is part of its identity, validity is what the diff is about. */
const NOT_VALUES = new Set(RESERVED_COLUMNS);

interface Version {
  readonly row: Rec;
  readonly validFrom: number;
  /** Infinity while still valid. */
  readonly validTo: number;
  /** The store's own text of the two, as the output repeats them. */
  readonly since: string;
  readonly until: string | undefined;
}

/** Milliseconds of a time cell (an ISO string); a missing end is open, and an unreadable time NaN (which no comparison holds for). */
const msOf = (cell: Cell | undefined, open: number): number => (typeof cell === 'string' ? Date.parse(cell.replace(' ', 'T')) : cell === null || cell === undefined ? open : Number.NaN);

const iso = (ms: number): string => new Date(ms).toISOString();

/** Valid at `t`: `valid_from <= t < valid_to`. */
const validAt = (version: Version, t: number): boolean => version.validFrom <= t && t < version.validTo;

/** Cells compare as their JSON text: lists and structs by value, and a big integer (a string) never equals a number. */
const same = (a: Cell | undefined, b: Cell | undefined): boolean => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

/**
 * Classifies a state table's versions over [from, to] (as {@link StoreReader.versions} returns
 * them) per entity: appeared, disappeared, came and went, or changed; unchanged entities are
 * left out. "Valid at T" means `valid_from <= T < valid_to`, an empty `valid_to` being open.
 */
export function diffVersions(table: Pick<StoredTable, 'name' | 'key'>, versions: QueryResult, from: number, to: number): TableDiff {
  const groups = new Map<string, Version[]>();
  for (const row of rowObjects(versions)) {
    const id = JSON.stringify([row['host'] ?? null, ...table.key.map((name) => row[name] ?? null)]);
    const [since, until] = [row['valid_from'], row['valid_to']];
    const version: Version = {
      row,
      validFrom: msOf(since, Number.NEGATIVE_INFINITY),
      validTo: msOf(until, Number.POSITIVE_INFINITY),
      since: cellText(since ?? null),
      until: until === null || until === undefined ? undefined : cellText(until),
    };
    // A version outside [from, to] (one that ended at `from`, say) would count as having come and gone.
    if (!(version.validFrom <= to && version.validTo > from)) continue;
    const group = groups.get(id);
    if (group === undefined) groups.set(id, [version]);
    else group.push(version);
  }
  const keyColumns = new Set(table.key);
  const valueColumns = versions.columns.map((column) => column.name).filter((name) => !NOT_VALUES.has(name) && !keyColumns.has(name));
  const valuesOf = (row: Rec): Rec => Object.fromEntries(valueColumns.map((name) => [name, row[name] ?? null]));
  const appeared: PresentEntity[] = [];
  const disappeared: PresentEntity[] = [];
  const cameAndWent: PresentEntity[] = [];
  const changed: ChangedEntity[] = [];
  let atFrom = 0;
  let atTo = 0;
  for (const group of groups.values()) {
    // The store orders by validity already; sorting again costs little and makes any store's answer safe.
    group.sort((a, b) => a.validFrom - b.validFrom);
    const first = group[0]!;
    const last = group[group.length - 1]!;
    const entity: DiffEntity = { host: first.row['host'] ?? null, key: Object.fromEntries(table.key.map((name) => [name, first.row[name] ?? null])) };
    const atStart = group.find((version) => validAt(version, from));
    const atEnd = group.find((version) => validAt(version, to));
    if (atStart !== undefined) atFrom += 1;
    if (atEnd !== undefined) atTo += 1;
    if (atStart === undefined && atEnd !== undefined) {
      appeared.push({ ...entity, since: first.since, row: valuesOf(atEnd.row) });
    } else if (atStart !== undefined && atEnd === undefined) {
      disappeared.push({ ...entity, ...(last.until === undefined ? {} : { until: last.until }), row: valuesOf(atStart.row) });
    } else if (atStart === undefined && atEnd === undefined) {
      // Every version kept overlaps [from, to], so this one lived inside it.
      cameAndWent.push({ ...entity, since: first.since, ...(last.until === undefined ? {} : { until: last.until }), row: valuesOf(last.row) });
    } else {
      const changes: ColumnChange[] = [];
      for (let index = 1; index < group.length; index += 1) {
        const [before, after] = [group[index - 1]!, group[index]!];
        for (const column of valueColumns) {
          if (!same(before.row[column], after.row[column])) {
            changes.push({ column, from: before.row[column] ?? null, to: after.row[column] ?? null, at: after.since });
          }
        }
      }
      // Versions split by a stop of the recorder, with the same values on both sides, are no change.
      if (changes.length > 0) changed.push({ ...entity, changes });
    }
  }
  return { table: table.name, keyColumns: table.key, versions: versions.rows.length, truncated: versions.truncated, atFrom, atTo, appeared, disappeared, cameAndWent, changed };
}

/**
 * Asks `reader` for the versions of every state table (or those named) over
 * [request.from, request.to] and diffs each. INVALID_ARGUMENT for a name that is not a stored
 * state table.
 */
export async function diffTables(reader: StoreReader, request: DiffRequest): Promise<Result<DiffResult>> {
  // new Date() takes what a Date can hold; toISOString would throw on anything else.
  if (!(!Number.isNaN(new Date(request.from).getTime()) && !Number.isNaN(new Date(request.to).getTime()) && request.from <= request.to)) {
    return err(fail(StatusCode.INVALID_ARGUMENT, 'from and to must be instants, from not after to', { op: 'diff' }));
  }
  const catalogue = await reader.tables();
  if (!catalogue.ok) return catalogue;
  const states = catalogue.value.filter((table) => table.kind === 'state');
  let chosen = states;
  if (request.tables !== undefined && request.tables.length > 0) {
    const wanted = new Set(request.tables);
    for (const name of wanted) {
      const stored = catalogue.value.find((table) => table.name === name);
      if (stored === undefined || stored.kind !== 'state') {
        const why = stored === undefined ? 'is not a recorded table' : `is a ${stored.kind} table`;
        const names = states.map((table) => table.name).join(', ');
        return err(fail(StatusCode.INVALID_ARGUMENT, `table '${name}' ${why}; diff compares state tables (${names === '' ? 'none recorded' : names})`, { op: 'diff' }));
      }
    }
    chosen = states.filter((table) => wanted.has(table.name));
  }
  const tables: TableDiff[] = [];
  for (const table of chosen) {
    const versions = await reader.versions({
      table: table.name,
      from: request.from,
      to: request.to,
      ...(request.host === undefined ? {} : { host: request.host }),
      ...(request.timeoutMs === undefined ? {} : { timeoutMs: request.timeoutMs }),
    });
    if (!versions.ok) return versions;
    tables.push(diffVersions(table, versions.value, request.from, request.to));
  }
  return ok({ from: iso(request.from), to: iso(request.to), tables });
}

/** The diff as the `--json` output: `{ from, to, tables: [{ table, appeared, disappeared, cameAndWent, changed, … }] }`, escaped by jsonText. */
export function diffJson(diff: DiffResult): string {
  return jsonText(diff);
}

/**
 * The diff as CSV, one row per change: `table, change, host, key` (the entity's key as JSON),
 * then for `changed` rows the `column`, its `from_value` and `to_value` (as JSON) and `at`; for the
 * others when the entity came (`at`) and went (`until`). Instants are ISO-8601 UTC.
 */
export function diffCsv(diff: DiffResult): string {
  const header = ['table', 'change', 'host', 'key', 'column', 'from_value', 'to_value', 'at', 'until'];
  const rows: Cell[][] = [];
  const json = (cell: Cell): string => JSON.stringify(cell);
  for (const table of diff.tables) {
    const present = (change: string, entity: PresentEntity): Cell[] => [table.table, change, entity.host, json(entity.key), null, null, null, entity.since ?? null, entity.until ?? null];
    for (const entity of table.appeared) rows.push(present('appeared', entity));
    for (const entity of table.disappeared) rows.push(present('disappeared', entity));
    for (const entity of table.cameAndWent) rows.push(present('came_and_went', entity));
    for (const entity of table.changed) {
      for (const change of entity.changes) rows.push([table.table, 'changed', entity.host, json(entity.key), change.column, json(change.from), json(change.to), change.at, null]);
    }
  }
  return formatResult({ columns: header.map((name) => ({ name, type: 'VARCHAR' })), rows, truncated: false, elapsedMs: 0 }, Format.CSV);
}

/** How a table's entities read in the table output; processes get a nicer one than the generic key list. */
interface Presentation {
  /** The entity's name from its key, raw (escaped by the caller). */
  readonly name: (key: Readonly<Record<string, Cell>>) => string;
  /** A short raw summary of its values, or '' for none. */
  readonly summary: (row: Readonly<Record<string, Cell>>) => string;
  /** The verb for appearing. */
  readonly appeared: string;
  /** The verb for disappearing. */
  readonly disappeared: string;
  /** When the entity itself began (ISO), if the table records it apart from its versions: a process's start_time. */
  readonly began?: (entity: DiffEntity) => string | undefined;
}

/** An entity is shown as first recorded rather than as begun when it began this much before its first version. */
const BEGAN_BEFORE_MS = 2000;

/** Longest summary or value shown, in escaped characters (as `ps` cuts its COMMAND). */
const SUMMARY_WIDTH = 120;
const VALUE_WIDTH = 80;

/** A column changing more often than this shows its first and last changes only. */
const CHANGES_SHOWN = 3;

const GENERIC: Presentation = {
  name: (key) =>
    Object.entries(key)
      .map(([name, value]) => `${name} ${cellText(value)}`)
      .join(' '),
  summary: (row) =>
    Object.entries(row)
      .filter(([, value]) => value !== null && value !== '')
      .map(([name, value]) => `${name}=${cellText(value)}`)
      .join(' '),
  appeared: 'appeared',
  disappeared: 'disappeared',
};

const PRESENTATIONS: Readonly<Record<string, Presentation>> = {
  processes: {
    // start_time is the rest of a process's key; the line shows when it came and went instead.
    name: (key) => (key['pid'] === undefined ? GENERIC.name(key) : `pid ${cellText(key['pid'])}`),
    summary: (row) => {
      const cmdline = cellText(row['cmdline'] ?? null);
      return cmdline === '' ? `[${cellText(row['comm'] ?? null)}]` : cmdline;
    },
    appeared: 'started',
    disappeared: 'ended',
    began: (entity) => (typeof entity.key['start_time'] === 'string' ? entity.key['start_time'] : undefined),
  },
};

/**
 * Renders the diff for people: a section per table with recorded versions, its entity counts at
 * both instants and what changed, then a line per entity: `+` appeared, `-` disappeared,
 * `±` came and went, `~` changed (each column as old → new, with when). Every recorded value is
 * escaped; times are local (UTC with `display.utc`), the zone named in the first line, as time of
 * day when the whole range lies within one day.
 */
export function renderDiff(diff: DiffResult, display: TimeDisplay = { utc: false }): string {
  const day = (at: string): string => clockText(Date.parse(at), display, 'date');
  const sameDay = day(diff.from) === day(diff.to);
  const clock = (at: string, withDay: boolean): string => clockText(Date.parse(at), display, withDay ? 'datetime' : 'time');
  const when = (at: string): string => clock(at, !sameDay);
  const [from, to, zone] = [clockText(Date.parse(diff.from), display, 'datetime', true), clockText(Date.parse(diff.to), display, 'datetime', true), zoneText(display, Date.parse(diff.to))];
  const recorded = diff.tables.filter((table) => table.versions > 0);
  if (recorded.length === 0) return `nothing recorded between ${from} and ${to} ${zone}`;
  const hosts = new Set(recorded.flatMap((table) => [...table.appeared, ...table.disappeared, ...table.cameAndWent, ...table.changed].map((entity) => JSON.stringify(entity.host))));
  const sections = recorded.map((table) => {
    const look = PRESENTATIONS[table.table] ?? GENERIC;
    const label = (entity: DiffEntity): string => {
      const name = look.name(entity.key);
      // A keyless table has one entity per host, which the host alone names.
      const host = hosts.size > 1 || name === '' ? `host ${cellText(entity.host)}` : '';
      return escapeText([host, name].filter((part) => part !== '').join(' '));
    };
    const summary = (entity: PresentEntity): string => {
      const text = look.summary(entity.row);
      return text === '' ? '' : ` ${escapeText(truncateText(text, SUMMARY_WIDTH))}`;
    };
    const counts = [
      [table.appeared.length, look.appeared],
      [table.disappeared.length, look.disappeared],
      [table.cameAndWent.length, 'came and went'],
      [table.changed.length, 'changed'],
    ] as const;
    const shown = counts.filter(([count]) => count > 0).map(([count, what]) => `${count} ${what}`);
    const lines = [`${escapeText(table.table)}: ${table.atFrom} → ${table.atTo}${shown.length === 0 ? ', unchanged' : ` (${shown.join(', ')})`}`];
    // A process already running when the recording began was first recorded then, not started then.
    const appearedText = (entity: PresentEntity): string => {
      const since = entity.since ?? diff.from;
      const began = look.began?.(entity);
      if (began === undefined || !(Date.parse(began) < Date.parse(since) - BEGAN_BEFORE_MS)) return `${look.appeared} ${when(since)}`;
      const beganText = clock(began, !(day(began) === day(since) && sameDay));
      return `first recorded ${when(since)}, ${look.appeared} ${escapeText(beganText)}`;
    };
    for (const entity of table.appeared) lines.push(`+ ${label(entity)} (${appearedText(entity)})${summary(entity)}`);
    for (const entity of table.disappeared) lines.push(`- ${label(entity)} (${look.disappeared} ${when(entity.until ?? diff.to)})${summary(entity)}`);
    for (const entity of table.cameAndWent) {
      const until = entity.until === undefined ? '' : `, ${look.disappeared} ${when(entity.until)}`;
      lines.push(`± ${label(entity)} ${appearedText(entity)}${until}${summary(entity)}`);
    }
    for (const entity of table.changed) lines.push(`~ ${label(entity)} ${changesText(entity.changes, when)}`);
    return lines.join('\n');
  });
  return [`changes from ${from} to ${to} ${zone}`, '', sections.join('\n\n')].join('\n');
}

/**
 * What a reader of the diff should know about it: tables the store cut at its row cap (the diff
 * is incomplete), and an instant at which nothing was recorded (everything then shows as having
 * appeared or disappeared, because vwatchd was not recording, not because the host changed).
 */
export function diffNotes(diff: DiffResult): string[] {
  const notes: string[] = [];
  const cut = diff.tables.filter((table) => table.truncated).map((table) => table.table);
  if (cut.length > 0) notes.push(`the store cut the versions of ${cut.join(', ')} at its row cap (maxRows); the diff is incomplete`);
  const recorded = diff.tables.filter((table) => table.versions > 0);
  if (recorded.length === 0) return notes;
  if (recorded.every((table) => table.atFrom === 0)) notes.push(`nothing was recorded at ${diff.from} (vwatchd was not recording then): what was recorded later shows as appeared`);
  if (recorded.every((table) => table.atTo === 0)) notes.push(`nothing was recorded at ${diff.to} (vwatchd was not recording then): what was recorded earlier shows as disappeared`);
  return notes;
}

/** Each changed column once, in the order it first changed: `col: 'a' → 'b' (05:00:05) → 'c' (05:00:09)`. */
function changesText(changes: readonly ColumnChange[], when: (at: string) => string): string {
  const byColumn = new Map<string, ColumnChange[]>();
  for (const change of changes) {
    const list = byColumn.get(change.column);
    if (list === undefined) byColumn.set(change.column, [change]);
    else list.push(change);
  }
  return [...byColumn]
    .map(([column, list]) => {
      const step = (change: ColumnChange): string => `→ ${valueText(change.to)} (${when(change.at)})`;
      const steps =
        list.length <= CHANGES_SHOWN ? list.map(step) : [step(list[0]!), `→ … ${list.length - 2} more changes …`, step(list[list.length - 1]!)];
      return `${escapeText(column)}: ${valueText(list[0]!.from)} ${steps.join(' ')}`;
    })
    .join('; ');
}

/** A value for people: text quoted, escaped and cut; numbers and booleans as they are; lists and structs as escaped JSON. */
function valueText(cell: Cell): string {
  if (typeof cell === 'string') return `'${escapeText(truncateText(cell, VALUE_WIDTH)).replace(/'/g, "\\'")}'`;
  if (cell !== null && typeof cell === 'object') return jsonText(cell, 0);
  return cellText(cell) || 'null';
}

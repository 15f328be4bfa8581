/**
 * Parsing of the times users type: `now`, ISO-8601 (`2026-11-22T05:00:00Z`, local time when
 * no zone is given), epoch seconds (`1763787600`, `@1763787600.5`), epoch milliseconds (13
 * digits), relative forms (`20s ago`, `5m ago`, `1h30m ago`, `2 days ago`, `-10m`), `today` and
 * `yesterday` (local midnight), and a local time of day as atop's `-b` takes it (`03:10`,
 * `03:10:30`: today, or yesterday when that is still to come; `yesterday 23:50`). Durations are
 * `90s`, `1h30m`, `2 days`… or `0`.
 * Times outside the years 1 to 9999 are refused here, so no absurd number reaches a store.
 */
import { err, fail, ok, StatusCode, type Result } from '@virtualeyes/core';

const UNIT_MS: Readonly<Record<string, number>> = {
  ms: 1,
  msec: 1,
  s: 1000,
  sec: 1000,
  secs: 1000,
  second: 1000,
  seconds: 1000,
  m: 60_000,
  min: 60_000,
  mins: 60_000,
  minute: 60_000,
  minutes: 60_000,
  h: 3_600_000,
  hr: 3_600_000,
  hrs: 3_600_000,
  hour: 3_600_000,
  hours: 3_600_000,
  d: 86_400_000,
  day: 86_400_000,
  days: 86_400_000,
  w: 604_800_000,
  week: 604_800_000,
  weeks: 604_800_000,
};

const DURATION_PART = /(\d+(?:\.\d+)?)\s*([a-z]+)/g;

/** 0001-01-01T00:00:00.000Z and 9999-12-31T23:59:59.999Z: the instants a time may name. */
const EARLIEST = -62_135_596_800_000;
const LATEST = 253_402_300_799_999;

/** The longest duration worth naming: from the earliest to the latest instant. */
const LONGEST = LATEST - EARLIEST;

/** Parses a duration such as `90s`, `1h30m` or `2 days`, in milliseconds. */
export function parseDuration(text: string): Result<number> {
  const total = durationMs(text);
  if (typeof total === 'string') return err(invalidDuration(text, total));
  // Also refuses Infinity, which 400 digits of seconds add up to.
  if (!(total <= LONGEST)) return err(invalidDuration(text, 'longer than 9999 years'));
  return ok(total);
}

/** The duration in milliseconds, or why it is not one. */
function durationMs(text: string): number | string {
  const trimmed = text.trim().toLowerCase();
  if (trimmed === '0') return 0;
  let total = 0;
  let consumed = '';
  for (const match of trimmed.matchAll(DURATION_PART)) {
    const unit = UNIT_MS[match[2]!];
    if (unit === undefined) return `unknown unit '${match[2]!}'`;
    total += Number(match[1]) * unit;
    consumed += match[0];
  }
  if (consumed === '' || consumed.replace(/\s+/g, '') !== trimmed.replace(/\s+/g, '')) return DURATION_HINT;
  return total;
}

/** Parses a point in time relative to `now` (epoch milliseconds), within the years 1 to 9999. */
export function parseTime(text: string, now: number): Result<number> {
  const parsed = parseInstant(text, now);
  if (parsed.ok && !(parsed.value >= EARLIEST && parsed.value <= LATEST)) {
    return err(invalid(text, 'it falls outside the years 1 to 9999'));
  }
  return parsed;
}

function parseInstant(text: string, now: number): Result<number> {
  const trimmed = text.trim();
  const lower = trimmed.toLowerCase();
  if (lower === 'now') return ok(now);
  const day = /^(today|yesterday)(?:\s+(\S+))?$/.exec(lower);
  if (day !== null) {
    const midnight = localDay(now, day[1] === 'yesterday' ? -1 : 0);
    if (day[2] === undefined) return ok(midnight);
    const clock = clockOf(day[2]);
    return typeof clock === 'string' ? err(invalid(text, clock)) : ok(atClock(midnight, clock));
  }
  if (/^\d{1,2}:/.test(trimmed)) {
    const clock = clockOf(trimmed);
    if (typeof clock === 'string') return err(invalid(text, clock));
    // A time of day not yet reached today is yesterday's, as atop's -b reads it.
    const today = atClock(localDay(now, 0), clock);
    return ok(today <= now ? today : atClock(localDay(now, -1), clock));
  }
  const relative = /^(?:-\s*(.+)|(.+?)\s+ago)$/.exec(lower);
  if (relative !== null) {
    const duration = durationMs(relative[1] ?? relative[2] ?? '');
    return typeof duration === 'number' ? ok(now - duration) : err(invalid(text, duration));
  }
  const epoch = /^@?(\d+)(\.\d+)?$/.exec(trimmed);
  if (epoch !== null) {
    const digits = epoch[1]!;
    if (digits.length === 13 && epoch[2] === undefined) return ok(Number(digits));
    if (digits.length <= 11) return ok(Math.round(Number(`${digits}${epoch[2] ?? ''}`) * 1000));
    return err(invalid(text, 'epoch times are seconds (10 digits) or milliseconds (13 digits)'));
  }
  if (/^\d{4}-\d{2}-\d{2}/.test(trimmed)) {
    const parsed = Date.parse(trimmed.replace(' ', 'T'));
    if (!Number.isNaN(parsed)) return ok(parsed);
  }
  return err(invalid(text, TIME_HINT));
}

/** What a time may be, for errors and help. */
export const TIME_HINT = "expected ISO-8601 ('2026-11-22T05:00:00Z'), epoch seconds, 'now', 'today', 'yesterday', a time of day ('03:10') or a relative time ('5m ago')";

/** What a duration may be. */
export const DURATION_HINT = "expected a duration like 90s, 5m or 1h30m, or 0";

/** A local time of day. */
interface Clock {
  readonly hours: number;
  readonly minutes: number;
  readonly seconds: number;
  readonly ms: number;
}

/** HH:MM[:SS[.fff]] as a local time of day, or why it is not one. */
function clockOf(text: string): Clock | string {
  const match = /^(\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?$/.exec(text);
  if (match === null) return "expected a time of day as HH:MM or HH:MM:SS ('03:10')";
  const [hours, minutes, seconds] = [Number(match[1]), Number(match[2]), Number(match[3] ?? 0)];
  if (hours > 23 || minutes > 59 || seconds > 59) return 'hours run 0-23, minutes and seconds 0-59';
  return { hours, minutes, seconds, ms: Number((match[4] ?? '').padEnd(3, '0')) };
}

/** Local midnight of the day `now` falls on, moved by `days`. */
function localDay(now: number, days: number): number {
  const date = new Date(now);
  date.setHours(0, 0, 0, 0);
  date.setDate(date.getDate() + days);
  return date.getTime();
}

/** The instant at `clock` on the local day beginning at `midnight`. */
function atClock(midnight: number, clock: Clock): number {
  const date = new Date(midnight);
  date.setHours(clock.hours, clock.minutes, clock.seconds, clock.ms);
  return date.getTime();
}

function invalid(text: string, why: string) {
  return fail(StatusCode.INVALID_ARGUMENT, `cannot read time '${text}': ${why}`, { op: 'parse time' });
}

function invalidDuration(text: string, why: string) {
  return fail(StatusCode.INVALID_ARGUMENT, `cannot read duration '${text}': ${why}`, { op: 'parse duration' });
}

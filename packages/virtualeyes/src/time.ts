/**
 * Parsing of the times users type: `now`, ISO-8601 (`2026-11-22T05:00:00Z`, local time when
 * no zone is given), epoch seconds (`1763787600`, `@1763787600.5`), epoch milliseconds (13
 * digits) and relative forms (`20s ago`, `5m ago`, `1h30m ago`, `2 days ago`, `-10m`).
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
  if (!(total <= LONGEST)) return err(invalidDuration(text, 'longer than the 9999 years a time can span'));
  return ok(total);
}

/** The duration in milliseconds, or why it is not one. */
function durationMs(text: string): number | string {
  const trimmed = text.trim().toLowerCase();
  let total = 0;
  let consumed = '';
  for (const match of trimmed.matchAll(DURATION_PART)) {
    const unit = UNIT_MS[match[2]!];
    if (unit === undefined) return `unknown unit '${match[2]!}'`;
    total += Number(match[1]) * unit;
    consumed += match[0];
  }
  if (consumed === '' || consumed.replace(/\s+/g, '') !== trimmed.replace(/\s+/g, '')) return 'expected a duration like 90s, 5m or 1h30m';
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
  return err(invalid(text, "use ISO-8601 ('2026-11-22T05:00:00Z'), epoch seconds, 'now' or a relative time ('5m ago')"));
}

function invalid(text: string, why: string) {
  return fail(StatusCode.INVALID_ARGUMENT, `cannot read time '${text}': ${why}`, { op: 'parse time' });
}

function invalidDuration(text: string, why: string) {
  return fail(StatusCode.INVALID_ARGUMENT, `cannot read duration '${text}': ${why}`, { op: 'parse duration' });
}

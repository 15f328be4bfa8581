/**
 * What the recordings cover, to say so when a question asks about a time none of them does
 * ("no recording at 05:00; recordings cover 18:39:02Z–19:02:10Z and 19:05:00Z–now") instead of
 * answering with empty tables and no word. The spans come from the store's info (one per run
 * of the recorder, any host), merged where they overlap.
 */
import type { StoreInfo } from '@virtualeyes/core';

/** A span of recorded time, epoch milliseconds; `open` when it runs on to now. */
interface Span {
  readonly from: number;
  readonly to: number;
  readonly open: boolean;
}

/** At most this many spans are listed; older ones are counted. */
const SHOWN_SPANS = 5;

/**
 * The recorded spans, merged and oldest first. A run without a stop is still recording when a
 * daemon answers (`live`), else it ended at its last write (a crash).
 */
export function recordedSpans(info: StoreInfo, live: boolean, now: number): Span[] {
  const spans = (info.recordings ?? [])
    .map((run) => (run.to !== null ? { from: run.from, to: run.to, open: false } : live ? { from: run.from, to: now, open: true } : { from: run.from, to: run.lastWrite ?? run.from, open: false }))
    .sort((a, b) => a.from - b.from);
  const merged: Span[] = [];
  for (const span of spans) {
    const last = merged[merged.length - 1];
    if (last !== undefined && span.from <= last.to) merged[merged.length - 1] = { from: last.from, to: Math.max(last.to, span.to), open: last.open || span.open };
    else merged.push(span);
  }
  return merged;
}

/** The sentence for a question about `from`..`to` (an instant when equal) that no recording covers; undefined when one does, or the store cannot tell. */
export function notRecorded(info: StoreInfo, from: number, to: number, live: boolean, now: number): string | undefined {
  if (info.recordings === undefined) return undefined;
  const spans = recordedSpans(info, live, now);
  if (spans.some((span) => span.from <= to && span.to >= from)) return undefined;
  const asked = from === to ? `at ${iso(from)}` : `between ${iso(from)} and ${iso(to)}`;
  if (spans.length === 0) return `no recording ${asked}; the store holds no recording yet`;
  const shown = spans.slice(-SHOWN_SPANS).map((span) => `${iso(span.from)}–${span.open ? 'now' : end(span.from, span.to)}`);
  const earlier = spans.length - shown.length;
  const list = shown.length === 1 ? shown[0] : `${shown.slice(0, -1).join(', ')} and ${shown[shown.length - 1]}`;
  return `no recording ${asked}; recordings cover ${list}${earlier > 0 ? ` (and ${earlier} earlier)` : ''}`;
}

/** An instant in UTC to the second. */
function iso(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19)}Z`;
}

/** The end of a span: only the time of day when it is on the day the span began. */
function end(from: number, to: number): string {
  const text = iso(to);
  return text.slice(0, 10) === iso(from).slice(0, 10) ? text.slice(11) : text;
}

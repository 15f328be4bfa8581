// What the CLI says when asked about a time no recording covers: the spans from the store's
// info (runs of the recorder on any host, merged where they overlap), the running one as
// "now" only when a daemon answers, a crashed one ending at its last write.
import { describe, expect, it } from 'vitest';
import type { StoreInfo } from '@virtualeyes/core';
import { notRecorded, recordedSpans } from '../src/index.js';

const at = (time: string): number => Date.parse(time);
const info = (recordings: StoreInfo['recordings']): StoreInfo => ({ first: null, last: null, hosts: ['a', 'b'], ...(recordings === undefined ? {} : { recordings }) });
const NOW = at('2026-11-22T19:30:00Z');

describe('notRecorded', () => {
  const store = info([
    { host: 'a', from: at('2026-11-22T18:39:02Z'), to: at('2026-11-22T19:02:10Z'), lastWrite: at('2026-11-22T19:02:10Z') },
    { host: 'b', from: at('2026-11-22T18:50:00Z'), to: at('2026-11-22T18:55:00Z'), lastWrite: at('2026-11-22T18:55:00Z') },
    { host: 'a', from: at('2026-11-22T19:05:00Z'), to: null, lastWrite: at('2026-11-22T19:20:00Z') },
  ]);

  it('names the instant and every span, the running one as now when a daemon answers', () => {
    expect(notRecorded(store, at('2026-11-22T05:00:00Z'), at('2026-11-22T05:00:00Z'), true, NOW)).toBe(
      'no recording at 2026-11-22T05:00:00Z; recordings cover 2026-11-22T18:39:02Z–19:02:10Z and 2026-11-22T19:05:00Z–now',
    );
  });

  it('ends a run without a stop at its last write when no daemon answers (it crashed)', () => {
    expect(notRecorded(store, at('2026-11-22T19:25:00Z'), at('2026-11-22T19:25:00Z'), false, NOW)).toBe(
      'no recording at 2026-11-22T19:25:00Z; recordings cover 2026-11-22T18:39:02Z–19:02:10Z and 2026-11-22T19:05:00Z–19:20:00Z',
    );
    expect(notRecorded(store, at('2026-11-22T19:25:00Z'), at('2026-11-22T19:25:00Z'), true, NOW)).toBeUndefined();
  });

  it('says nothing for an instant or a range some recording covers, or a store that cannot tell', () => {
    expect(notRecorded(store, at('2026-11-22T18:40:00Z'), at('2026-11-22T18:40:00Z'), false, NOW)).toBeUndefined();
    expect(notRecorded(store, at('2026-11-22T19:03:00Z'), at('2026-11-22T19:06:00Z'), false, NOW)).toBeUndefined();
    expect(notRecorded(info(undefined), 0, 0, false, NOW)).toBeUndefined();
  });

  it('names a range between two recordings, and an empty store', () => {
    expect(notRecorded(store, at('2026-11-22T19:03:00Z'), at('2026-11-22T19:04:00Z'), false, NOW)).toMatch(/^no recording between 2026-11-22T19:03:00Z and 2026-11-22T19:04:00Z; recordings cover /);
    expect(notRecorded(info([]), 0, 0, false, NOW)).toBe('no recording at 1970-01-01T00:00:00Z; the store holds no recording yet');
  });

  it('merges overlapping runs of several hosts, lists the last five and counts the rest', () => {
    expect(recordedSpans(store, false, NOW).map((span) => [new Date(span.from).toISOString(), new Date(span.to).toISOString()])).toEqual([
      ['2026-11-22T18:39:02.000Z', '2026-11-22T19:02:10.000Z'],
      ['2026-11-22T19:05:00.000Z', '2026-11-22T19:20:00.000Z'],
    ]);
    const many = info(Array.from({ length: 8 }, (_, i) => ({ host: 'a', from: at('2026-11-22T10:00:00Z') + i * 3_600_000, to: at('2026-11-22T10:30:00Z') + i * 3_600_000, lastWrite: null })));
    const said = notRecorded(many, at('2026-11-22T09:00:00Z'), at('2026-11-22T09:00:00Z'), false, NOW)!;
    expect(said).toContain('(and 3 earlier)');
    expect(said.match(/–/g)).toHaveLength(5);
    // A run ending on another day shows its whole end.
    const overnight = info([{ host: 'a', from: at('2026-11-22T23:00:00Z'), to: at('2026-11-23T01:00:00Z'), lastWrite: null }]);
    expect(notRecorded(overnight, 0, 0, false, NOW)).toContain('2026-11-22T23:00:00Z–2026-11-23T01:00:00Z');
  });
});

/**
 * Fuzz tests (fast-check): the parsers, given arbitrary text or a real capture mutated at
 * random, return OK or PARSE_ERROR and never throw; and whatever parsePidStat accepts holds
 * only exact, in-range values (no rounded number past 2^53, no counter past int64).
 */
import { StatusCode, type Result } from '@virtualeyes/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { INT64_MAX, MAX_TICKS, parseBtime, parsePidStat } from '../src/index.js';
import { mutatedCapture } from '../src/testing.js';
import { fixtureText } from './helpers.js';

const parsers: [string, (text: string) => Result<unknown>, string][] = [
  ['pid stat (host-a 9802)', parsePidStat, fixtureText('host-a', 'proc/9802/stat')],
  ['pid stat (crafted)', parsePidStat, '4242 (python3 (x)) S 1 4242 4242 0 -1 4194560 1016 0 0 0 2 1 0 0 20 0 1 0 178233 17256448 2372 18446744073709551615 1 1 0 0\n'],
  ['btime (host-a)', parseBtime, fixtureText('host-a', 'proc/stat')],
  ['btime (crafted)', parseBtime, 'cpu  1 2 3 4 5 6 7 0 0 0\nintr 5\nctxt 9\nbtime 1795323126\nprocesses 12\n'],
];

/** What random edits insert: the characters these files are made of, and some that break them. */
const ALPHABET = ' \t\n\0():-/.,_0123456789abcxyzf\u00e9';

function expectOkOrParseError(result: Result<unknown>): void {
  if (!result.ok) expect(result.status.code).toBe(StatusCode.PARSE_ERROR);
}

describe.each(parsers)('fuzz %s', (_name, parse, capture) => {
  it('returns OK or PARSE_ERROR for arbitrary text', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 400 }), (text) => expectOkOrParseError(parse(text))));
  });

  it('returns OK or PARSE_ERROR for a mutated real capture', () => {
    fc.assert(fc.property(mutatedCapture(capture, ALPHABET), (text) => expectOkOrParseError(parse(text))));
  });

  it('parses the capture itself', () => {
    expect(parse(capture).ok).toBe(true);
  });
});

describe('fuzz pid stat numbers', () => {
  const around = (edge: bigint): fc.Arbitrary<bigint> => fc.bigInt({ min: edge - 3n, max: edge + 3n });
  /** Counters: anywhere up to 2^64, often right at 2^53, 2^63 and 2^64. */
  const counter = fc.oneof(fc.bigInt({ min: 0n, max: 2n ** 64n }), around(2n ** 53n), around(2n ** 63n), around(2n ** 64n - 1n), fc.bigInt({ min: 0n, max: 10n ** 6n }));
  /** Other fields: mostly small (signed) integers, sometimes past int32 or 2^53. */
  const other = fc.oneof(
    { arbitrary: fc.bigInt({ min: -100n, max: 10n ** 6n }), weight: 40 },
    { arbitrary: fc.oneof(around(2n ** 31n), around(BigInt(MAX_TICKS)), around(2n ** 53n), around(-(2n ** 31n))), weight: 1 },
  );
  const COUNTERS: ReadonlySet<number> = new Set([10, 12, 23]);
  const line = fc.tuple(...Array.from({ length: 20 }, (_, i) => (COUNTERS.has(i + 4) ? counter : other)));

  it('accepts a line only with exact numbers: ids within int32, times within MAX_TICKS, counters within int64', () => {
    let accepted = 0;
    fc.assert(
      fc.property(line, (values) => {
        const parsed = parsePidStat(`7 (a) S ${values.join(' ')}\n`);
        if (!parsed.ok) return expectOkOrParseError(parsed);
        accepted += 1;
        const field = (n: number): bigint => values[n - 4]!;
        const s = parsed.value;
        for (const [n, value] of [[4, s.ppid], [5, s.pgid], [6, s.sid], [7, s.ttyNr], [9, s.flags], [14, s.utime], [15, s.stime], [19, s.nice], [20, s.threads], [22, s.starttime]] as const) {
          expect(BigInt(value)).toBe(field(n));
          expect(Number.isSafeInteger(value)).toBe(true);
        }
        for (const [n, value] of [[10, s.minflt], [12, s.majflt], [23, s.vsize]] as const) {
          expect(BigInt(value)).toBe(field(n));
          expect(BigInt(value) <= INT64_MAX).toBe(true);
          expect(typeof value === 'number' ? Number.isSafeInteger(value) : value > BigInt(Number.MAX_SAFE_INTEGER)).toBe(true);
        }
        expect(s.starttime).toBeLessThanOrEqual(MAX_TICKS);
      }),
      { numRuns: 500 },
    );
    // The property above must have been exercised, not vacuously true.
    expect(accepted).toBeGreaterThan(25);
  });
});

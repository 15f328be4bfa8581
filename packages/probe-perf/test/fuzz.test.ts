/**
 * Fuzz tests (fast-check): the parsers, given arbitrary text or bytes, or a real capture
 * mutated at random, return OK or PARSE_ERROR and never throw; decoded group reads respect
 * the layout; and configs of random event names are accepted or refused with INVALID_CONFIG.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { StatusCode, type Result } from '@virtualeyes/core';
import { parseBtime, parsePidStat } from '@virtualeyes/linux';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EVENTS, parseConfig } from '../src/index.js';
import { parseCpuList } from '../src/parse/cpulist.js';
import { decodeGroupRead } from '../src/parse/group-read.js';
import { parseNumastat } from '../src/parse/numastat.js';
import { parseCapEff, parseIntFile, parsePidList } from '../src/parse/values.js';
import { FIXTURES } from './helpers.js';

const CASE = join(FIXTURES, 'vm-2cpu');
const text = (path: string): string => readFileSync(join(CASE, path), 'utf8');

const parsers: [string, (text: string) => Result<unknown>, string][] = [
  ['numastat', parseNumastat, text('sys/devices/system/node/node0/numastat')],
  ['cpu list', parseCpuList, text('sys/devices/system/cpu/online')],
  ['int file', (t) => parseIntFile(t, 'x'), text('proc/sys/kernel/perf_event_paranoid')],
  ['pid stat', parsePidStat, '4242 (python3 (x)) S 1 4242 4242 0 -1 4194560 1016 0 0 0 2 1 0 0 20 0 1 0 178233 17256448 2372 18446744073709551615 1 1 0 0\n'],
  ['btime', parseBtime, 'cpu  1 2 3 4 5 6 7 0 0 0\nintr 5\nctxt 9\nbtime 1795323126\nprocesses 12\n'],
  ['CapEff', parseCapEff, 'Name:\tnode\nCapInh:\t0000000000000000\nCapEff:\t000001ffffffffff\n'],
  ['pid list', (t) => parsePidList(t, 'cgroup.procs'), '1\n42\n4242\n'],
];

/** One edit of a text: delete, insert, replace a character, truncate, or duplicate a line. */
const edit = fc.record({
  kind: fc.constantFrom('delete', 'insert', 'replace', 'truncate', 'duplicate'),
  at: fc.nat(),
  length: fc.nat({ max: 20 }),
  text: fc.string({ unit: fc.constantFrom(...' \t\n\0()-,_0123456789abcxyzf'.split('')), maxLength: 12 }),
});

/** A real capture with one to five random edits applied. */
const mutated = (original: string): fc.Arbitrary<string> =>
  fc.array(edit, { minLength: 1, maxLength: 5 }).map((edits) => {
    let out = original;
    for (const e of edits) {
      const at = out.length === 0 ? 0 : e.at % (out.length + 1);
      if (e.kind === 'delete') out = out.slice(0, at) + out.slice(at + e.length);
      else if (e.kind === 'insert') out = out.slice(0, at) + e.text + out.slice(at);
      else if (e.kind === 'replace') out = out.slice(0, at) + (e.text.charAt(0) || 'x') + out.slice(at + 1);
      else if (e.kind === 'truncate') out = out.slice(0, at);
      else {
        const start = out.lastIndexOf('\n', at) + 1;
        const end = out.indexOf('\n', at);
        out = out.slice(0, start) + out.slice(start, end < 0 ? out.length : end + 1) + out.slice(start);
      }
    }
    return out;
  });

function expectOkOrParseError(result: Result<unknown>): void {
  if (!result.ok) expect(result.status.code).toBe(StatusCode.PARSE_ERROR);
}

describe.each(parsers)('fuzz %s', (_name, parse, capture) => {
  it('returns OK or PARSE_ERROR for arbitrary text', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (input) => expectOkOrParseError(parse(input))));
  });

  it('returns OK or PARSE_ERROR for a mutated real capture', () => {
    fc.assert(fc.property(mutated(capture), (input) => expectOkOrParseError(parse(input))));
  });

  it('parses the capture itself', () => {
    expect(parse(capture).ok).toBe(true);
  });
});

describe('fuzz group reads', () => {
  const captured = Buffer.from((JSON.parse(text('group-read.json')) as { bytes: string }).bytes, 'hex');

  it('returns OK or PARSE_ERROR for random bytes and lengths', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.integer({ min: -8, max: 320 }), (bytes, length) => {
        const decoded = decodeGroupRead(bytes, length);
        if (!decoded.ok) expect(decoded.status.code).toBe(StatusCode.PARSE_ERROR);
        else expect(24 + 16 * decoded.value.values.length).toBe(length);
      }),
    );
  });

  it('returns OK or PARSE_ERROR for the capture with random bytes overwritten and a random length', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat({ max: captured.length - 1 }), fc.integer({ min: 0, max: 255 })), { maxLength: 8 }), fc.nat({ max: captured.length }), (writes, length) => {
        const bytes = Buffer.from(captured);
        for (const [at, byte] of writes) bytes[at] = byte;
        const decoded = decodeGroupRead(bytes, length);
        if (!decoded.ok) expect(decoded.status.code).toBe(StatusCode.PARSE_ERROR);
        else {
          expect(decoded.value.values.length).toBeGreaterThan(0);
          for (const { value } of decoded.value.values) expect(value).toBeLessThan(2n ** 63n);
        }
      }),
    );
  });

  it('decodes well-formed readings of any size back to what was written', () => {
    const member = fc.tuple(fc.bigInt({ min: 0n, max: 2n ** 63n - 1n }), fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }));
    fc.assert(
      fc.property(fc.uniqueArray(member, { minLength: 1, maxLength: 64, selector: ([, id]) => id }), fc.bigInt({ min: 0n, max: 2n ** 63n - 1n }), (members, time) => {
        const bytes = Buffer.alloc(24 + 16 * members.length);
        bytes.writeBigUInt64LE(BigInt(members.length), 0);
        bytes.writeBigUInt64LE(time, 8);
        bytes.writeBigUInt64LE(time, 16);
        members.forEach(([value, id], index) => {
          bytes.writeBigUInt64LE(value, 24 + 16 * index);
          bytes.writeBigUInt64LE(id, 32 + 16 * index);
        });
        expect(decodeGroupRead(bytes, bytes.length)).toEqual({
          ok: true,
          value: { timeEnabled: time, timeRunning: time, values: members.map(([value, id]) => ({ id, value })) },
        });
      }),
    );
  });
});

describe('fuzz config', () => {
  const spellings = EVENTS.flatMap((event) => [event.name, ...event.aliases]);

  it('accepts known event names and refuses others with INVALID_CONFIG naming them', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.constantFrom(...spellings), fc.string({ minLength: 1, maxLength: 12 })), { minLength: 1, maxLength: 6 }), (events) => {
        const parsed = parseConfig({ events });
        if (parsed.ok) return;
        expect(parsed.status.code).toBe(StatusCode.INVALID_CONFIG);
        expect(parsed.status.message).toMatch(/^\$\.events\[\d+\]: /);
      }),
    );
  });
});

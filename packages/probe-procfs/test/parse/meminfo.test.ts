/**
 * Tests of the /proc/meminfo parser: kB lines in bytes, unitless HugePages counts, exact
 * values past 2^53, and malformed files.
 */
import { describe, expect, it } from 'vitest';
import { parseMeminfo } from '../../src/parse/meminfo.js';
import { fixtureText } from '../helpers.js';

describe('parseMeminfo', () => {
  it('reads every line of a real capture, kB as bytes and counts as counts', () => {
    const text = fixtureText('host-a', 'step0', 'proc/meminfo');
    const parsed = parseMeminfo(text);
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    const lines = text.trim().split('\n');
    expect(parsed.value.size).toBe(lines.length);
    for (const line of lines) {
      const [key, number, unit] = line.split(/:?\s+/);
      const expected = unit === 'kB' ? BigInt(number!) * 1024n : BigInt(number!);
      expect(BigInt(parsed.value.get(key!)!), key).toBe(expected);
    }
    expect(parsed.value.get('HugePages_Total')).toBe(0);
  });

  it('keeps a value past 2^53 bytes exact as a bigint, and one below as a number', () => {
    const parsed = parseMeminfo('MemTotal: 9007199254740 kB\nMemFree: 1 kB\nVmallocTotal:   34359738367 kB\n');
    expect(parsed.ok && parsed.value.get('MemTotal')).toBe(9007199254740n * 1024n);
    expect(parsed.ok && parsed.value.get('VmallocTotal')).toBe(34359738367 * 1024);
  });

  it('refuses a kB value whose bytes pass the int64 range (the column type)', () => {
    const parsed = parseMeminfo('MemTotal: 9223372036854775807 kB\nMemFree: 1 kB\n');
    expect(!parsed.ok && parsed.status).toMatchObject({ code: 'PARSE_ERROR' });
  });

  it.each([
    ['a line without a colon', 'MemTotal: 1 kB\nMemFree 1 kB\n'],
    ['an unknown unit', 'MemTotal: 1 MB\nMemFree: 1 kB\n'],
    ['a negative value', 'MemTotal: -1 kB\nMemFree: 1 kB\n'],
    ['no MemTotal', 'MemFree: 1 kB\n'],
    ['an empty file', ''],
  ])('returns PARSE_ERROR for %s', (_what, text) => {
    const parsed = parseMeminfo(text);
    expect(!parsed.ok && parsed.status.code).toBe('PARSE_ERROR');
  });
});

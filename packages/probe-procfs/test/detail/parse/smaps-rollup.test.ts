/**
 * Tests of the /proc/PID/smaps_rollup parser on a real capture and on malformed files.
 */
import { describe, expect, it } from 'vitest';
import { parseSmapsRollup } from '../../../src/detail/parse/smaps-rollup.js';
import { CHILD, hostBText } from '../fixture.js';

describe('parseSmapsRollup', () => {
  it('reads every line of a captured rollup in bytes', () => {
    const text = hostBText('step0', `proc/${CHILD.pid}/smaps_rollup`);
    const parsed = parseSmapsRollup(text);
    expect(parsed.ok).toBe(true);
    if (!parsed.ok || parsed.value === null) return;
    const lines = text.trim().split('\n').slice(1);
    expect(parsed.value.size).toBe(lines.length);
    for (const line of lines) {
      const [, key, kib] = /^(\w+):\s+(\d+) kB$/.exec(line)!;
      expect(parsed.value.get(key!), key).toBe(Number(kib) * 1024);
    }
    expect(parsed.value.get('Rss')).toBe(45556 * 1024);
  });

  it('reads an empty file (a process without memory) as null', () => {
    expect(parseSmapsRollup('')).toEqual({ ok: true, value: null });
  });

  it.each([
    ['no header', 'Rss: 1 kB'],
    ['no Pss line', 'x [rollup]\nRss: 1 kB\n'],
    ['a value without kB', 'x [rollup]\nRss: 1\nPss: 1 kB\n'],
    ['a word for a value', 'x [rollup]\nRss: many kB\nPss: 1 kB\n'],
    ['a line without a colon', 'x [rollup]\nRss 1 kB\nPss: 1 kB\n'],
    ['a value past int64 once in bytes', 'x [rollup]\nRss: 9223372036854775807 kB\nPss: 1 kB\n'],
  ])('returns PARSE_ERROR for %s', (_what, text) => {
    const parsed = parseSmapsRollup(text);
    expect(!parsed.ok && parsed.status.code).toBe('PARSE_ERROR');
  });
});

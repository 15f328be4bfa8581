/**
 * Tests of the /proc/PID/io parser on real captures of a busy and an idle process, and on
 * malformed files.
 */
import { describe, expect, it } from 'vitest';
import { parsePidIo } from '../../src/parse/pid-io.js';
import { fixtureText } from '../helpers.js';

describe('parsePidIo', () => {
  it.each([
    ['step0', '9806'],
    ['step1', '9806'],
    ['step0', '2'],
  ])('reads %s /proc/%s/io of host-a', (step, pid) => {
    const text = fixtureText('host-a', step, `proc/${pid}/io`);
    const value = (key: string): number => Number(/^(\w+): (\d+)$/m.exec(text.split('\n').find((l) => l.startsWith(`${key}:`))!)![2]);
    expect(parsePidIo(text)).toEqual({
      ok: true,
      value: { rchar: value('rchar'), wchar: value('wchar'), readBytes: value('read_bytes'), writeBytes: value('write_bytes') },
    });
  });

  it('keeps a counter past 2^53 exact, up to int64 (the column type)', () => {
    expect(parsePidIo('rchar: 9223372036854775807\nwchar: 0\nread_bytes: 0\nwrite_bytes: 0\n')).toMatchObject({
      ok: true,
      value: { rchar: 9223372036854775807n },
    });
    const beyond = parsePidIo('rchar: 18446744073709551615\nwchar: 0\nread_bytes: 0\nwrite_bytes: 0\n');
    expect(!beyond.ok && beyond.status.code).toBe('PARSE_ERROR');
  });

  it.each([
    ['a missing line', 'rchar: 1\nwchar: 0\nread_bytes: 0\n'],
    ['a word for a value', 'rchar: x\nwchar: 0\nread_bytes: 0\nwrite_bytes: 0\n'],
    ['a line without a value', 'rchar: 1\nwchar\nread_bytes: 0\nwrite_bytes: 0\n'],
    ['an empty file', ''],
  ])('returns PARSE_ERROR for %s', (_what, text) => {
    const parsed = parsePidIo(text);
    expect(!parsed.ok && parsed.status.code).toBe('PARSE_ERROR');
  });
});

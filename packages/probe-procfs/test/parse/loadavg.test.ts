/**
 * Tests of the /proc/loadavg parser on real captures and malformed lines.
 */
import { describe, expect, it } from 'vitest';
import { parseLoadavg } from '../../src/parse/loadavg.js';
import { fixtureText } from '../helpers.js';

describe('parseLoadavg', () => {
  it('reads a real capture', () => {
    const text = fixtureText('host-a', 'step1', 'proc/loadavg');
    const [a, b, c, tasks, last] = text.trim().split(' ');
    expect(parseLoadavg(text)).toEqual({
      ok: true,
      value: {
        load1: Number(a),
        load5: Number(b),
        load15: Number(c),
        running: Number(tasks!.split('/')[0]),
        total: Number(tasks!.split('/')[1]),
        lastPid: Number(last),
      },
    });
  });

  it('reads large loads', () => {
    expect(parseLoadavg('123.45 0.00 1024.99 100/20000 4194304\n')).toMatchObject({ ok: true, value: { load1: 123.45, load15: 1024.99, total: 20000 } });
  });

  it.each([
    ['four fields', '0.1 0.2 0.3 1/2\n'],
    ['a task count without slash', '0.1 0.2 0.3 12 55\n'],
    ['a signed load', '-0.1 0.2 0.3 1/2 55\n'],
    ['exponent notation', '1e3 0.2 0.3 1/2 55\n'],
    ['an empty file', ''],
  ])('returns PARSE_ERROR for %s', (_what, text) => {
    const parsed = parseLoadavg(text);
    expect(!parsed.ok && parsed.status.code).toBe('PARSE_ERROR');
  });
});

/**
 * The /proc/PID/stat parser: pid, comm (with spaces and parentheses), state and starttime,
 * on this process's live stat line and on crafted ones.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parsePidStat } from '../../src/parse/pid-stat.js';

const tail = 'S 1 1 1 0 -1 4194560 100 0 0 0 5 3 0 0 20 0 1 0 4242 12345678 300 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0\n';

describe('parsePidStat', () => {
  it.skipIf(process.platform !== 'linux')("parses this process's own stat", () => {
    const parsed = parsePidStat(readFileSync('/proc/self/stat', 'utf8'));
    expect(parsed.ok && parsed.value.pid).toBe(process.pid);
    expect(parsed.ok && parsed.value.state).toBe('R');
  });

  it.each([
    ['42 (nginx) ', { pid: 42, comm: 'nginx', state: 'S', starttime: 4242 }],
    ['7 (a (b) c) ', { pid: 7, comm: 'a (b) c', state: 'S', starttime: 4242 }],
    ['8 () ', { pid: 8, comm: '', state: 'S', starttime: 4242 }],
    ['9 (x)) ', { pid: 9, comm: 'x)', state: 'S', starttime: 4242 }],
  ])('parses %j…', (head, expected) => {
    expect(parsePidStat(head + tail)).toEqual({ ok: true, value: expected });
  });

  it.each([
    ['no comm', `42 nginx ${tail}`],
    ['a bad pid', `x (a) ${tail}`],
    ['pid 0', `0 (a) ${tail}`],
    ['too few fields', '42 (a) S 1 1 1'],
    ['a bad starttime', `42 (a) ${tail.replace(' 4242 ', ' -3 ')}`],
    ['nothing after comm', '42 (a)'],
  ])('rejects %s with PARSE_ERROR', (_what, text) => {
    const parsed = parsePidStat(text);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.status.code).toBe('PARSE_ERROR');
  });
});

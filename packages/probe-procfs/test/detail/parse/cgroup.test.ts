/**
 * Tests of the /proc/PID/cgroup parser on a real capture (cgroup v1 and v2 lines) and garbage.
 */
import { describe, expect, it } from 'vitest';
import { parseCgroupPaths } from '../../../src/detail/parse/cgroup.js';
import { CHILD, hostBText } from '../fixture.js';

describe('parseCgroupPaths', () => {
  it('reads the path of every line of a captured process', () => {
    const text = hostBText('step0', `proc/${CHILD.pid}/cgroup`);
    const parsed = parseCgroupPaths(text);
    expect(parsed.ok && parsed.value).toEqual(text.trim().split('\n').map((line) => line.split(':').slice(2).join(':')));
    expect(parsed.ok && parsed.value).toContain('/');
  });

  it('keeps colons inside a path', () => {
    expect(parseCgroupPaths('0::/a:b\n')).toEqual({ ok: true, value: ['/a:b'] });
  });

  it('returns PARSE_ERROR for a line without two colons', () => {
    const parsed = parseCgroupPaths('0:/x\n');
    expect(!parsed.ok && parsed.status.code).toBe('PARSE_ERROR');
  });
});

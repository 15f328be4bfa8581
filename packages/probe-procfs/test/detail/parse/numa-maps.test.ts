/**
 * Tests of the /proc/PID/numa_maps parser: a real capture summed independently, policies with
 * spaces, several nodes, huge pages, and malformed lines.
 */
import { describe, expect, it } from 'vitest';
import { parseNumaMaps } from '../../../src/detail/parse/numa-maps.js';
import { CHILD, hostBText } from '../fixture.js';

describe('parseNumaMaps', () => {
  it('sums a captured process: one row for node 0, default policy, kinds adding up to the total', () => {
    const text = hostBText('step0', `proc/${CHILD.pid}/numa_maps`);
    const parsed = parseNumaMaps(text);
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    // Independently: every N0=pages times the line's page size.
    let total = 0;
    let heap = 0;
    for (const line of text.trim().split('\n')) {
      const pages = Number(/ N0=(\d+)/.exec(line)?.[1] ?? 0);
      const bytes = pages * Number(/kernelpagesize_kB=(\d+)/.exec(line)?.[1] ?? 0) * 1024;
      total += bytes;
      if (/ heap( |$)/.test(line)) heap += bytes;
    }
    expect(parsed.value).toHaveLength(1);
    const [row] = parsed.value;
    expect(row).toMatchObject({ node: 0, policy: 'default', total, heap });
    expect(Number(row!.anon) + Number(row!.file) + Number(row!.heap) + Number(row!.stack) + Number(row!.huge)).toBe(total);
    expect(row!.file).toBeGreaterThan(0);
    expect(row!.stack).toBeGreaterThan(0);
  });

  it('splits by node and policy, reads policies with spaces, and counts hugetlb pages by their size', () => {
    const parsed = parseNumaMaps(
      [
        '7f0000000000 weighted interleave:0-1 anon=4 dirty=4 N0=2 N1=2 kernelpagesize_kB=4',
        '7f0000100000 prefer (many):0,1 file=/usr/lib/x\\040y mapped=3 N1=3 kernelpagesize_kB=4',
        '7f0000200000 bind=static:1 file=/dev/hugepages/a huge dirty=1 N1=1 kernelpagesize_kB=2048',
        '7f0000400000 default stack anon=1 dirty=1 N0=1 kernelpagesize_kB=4',
        '7f0000500000 default',
        '',
      ].join('\n'),
    );
    expect(parsed.ok && parsed.value).toEqual([
      { node: 0, policy: 'weighted interleave:0-1', total: 8192, anon: 8192, file: 0, heap: 0, stack: 0, huge: 0 },
      { node: 1, policy: 'weighted interleave:0-1', total: 8192, anon: 8192, file: 0, heap: 0, stack: 0, huge: 0 },
      { node: 1, policy: 'prefer (many):0,1', total: 12288, anon: 0, file: 12288, heap: 0, stack: 0, huge: 0 },
      { node: 1, policy: 'bind=static:1', total: 2097152, anon: 0, file: 0, heap: 0, stack: 0, huge: 2097152 },
      { node: 0, policy: 'default', total: 4096, anon: 0, file: 0, heap: 0, stack: 4096, huge: 0 },
    ]);
  });

  it.each([
    ['a non-hex address', 'zz default N0=1 kernelpagesize_kB=4\n'],
    ['no policy', '7f0000000000\n'],
    ['pages without a page size', '7f0000000000 default N0=1\n'],
    ['a word for pages', '7f0000000000 default N0=x kernelpagesize_kB=4\n'],
    ['a word for a count', '7f0000000000 default anon=x N0=1 kernelpagesize_kB=4\n'],
    ['a node past 65535', '7f0000000000 default N70000=1 kernelpagesize_kB=4\n'],
  ])('returns PARSE_ERROR for %s', (_what, text) => {
    const parsed = parseNumaMaps(text);
    expect(!parsed.ok && parsed.status.code).toBe('PARSE_ERROR');
  });
});

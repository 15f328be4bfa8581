/**
 * Tests of the /proc/PID/maps parser on a real capture (checked against pmap -X of the same
 * process at the same instant), on the address above 2^63 and paths with spaces, and on garbage.
 */
import { describe, expect, it } from 'vitest';
import { parseMaps } from '../../../src/detail/parse/maps.js';
import { CHILD, hostBText, pmapMappings } from '../fixture.js';

describe('parseMaps', () => {
  const text = hostBText('step0', `proc/${CHILD.pid}/maps`);

  it('reads every mapping of a captured node process, as pmap -X lists them', () => {
    const parsed = parseMaps(text);
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    const pmap = pmapMappings(hostBText('step0', `pmap-${CHILD.pid}.txt`));
    expect(parsed.value).toHaveLength(text.trim().split('\n').length);
    expect(parsed.value.map((entry) => BigInt(entry.start))).toEqual(pmap.map((mapping) => BigInt(`0x${mapping.start}`)));
    expect(parsed.value.map((entry) => Number(entry.size) / 1024)).toEqual(pmap.map((mapping) => mapping.kib));
    expect(parsed.value[0]).toMatchObject({ start: '0x0000000000400000', permissions: 'r--p', offset: 0, device: 'fe:00', inode: 260689, pseudo: false });
    expect(parsed.value[0]!.path).toMatch(/\/node$/);
  });

  it('keeps [vsyscall] above 2^63 exact, as text, with its size', () => {
    const parsed = parseMaps('ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]\n');
    expect(parsed).toEqual({
      ok: true,
      value: [{ start: '0xffffffffff600000', end: '0xffffffffff601000', size: 4096, permissions: '--xp', offset: 0, device: '00:00', inode: 0, path: '[vsyscall]', pseudo: true }],
    });
  });

  it('keeps anonymous mappings, paths with spaces and the (deleted) suffix, and large offsets', () => {
    const parsed = parseMaps(
      [
        '7f0000000000-7f0000021000 rw-p 00000000 00:00 0 ',
        '7f0000021000-7f0000022000 r--s 7ffffffffffff000 00:01 1234   /dev/shm/a b (deleted)',
        '',
      ].join('\n'),
    );
    expect(parsed.ok && parsed.value).toEqual([
      { start: '0x00007f0000000000', end: '0x00007f0000021000', size: 0x21000, permissions: 'rw-p', offset: 0, device: '00:00', inode: 0, path: '', pseudo: false },
      { start: '0x00007f0000021000', end: '0x00007f0000022000', size: 4096, permissions: 'r--s', offset: 0x7ffffffffffff000n, device: '00:01', inode: 1234, path: '/dev/shm/a b (deleted)', pseudo: false },
    ]);
  });

  it.each([
    ['a word', 'hello\n'],
    ['non-hex addresses', '55zz-56 r--p 00000000 00:00 0\n'],
    ['an end before the start', '2000-1000 r--p 00000000 00:00 0\n'],
    ['short permissions', '1000-2000 r-p 00000000 00:00 0\n'],
    ['a missing inode', '1000-2000 r--p 00000000 00:00\n'],
    ['a word for an inode', '1000-2000 r--p 00000000 00:00 x /a\n'],
    ['an address past 64 bits', '10000000000000000-10000000000000001 r--p 00000000 00:00 0\n'],
    ['an offset past int64', '1000-2000 r--p ffffffffffffffff 00:00 0\n'],
  ])('returns PARSE_ERROR for %s', (_what, input) => {
    const parsed = parseMaps(input);
    expect(!parsed.ok && parsed.status.code).toBe('PARSE_ERROR');
    expect(!parsed.ok && parsed.status.message).toMatch(/^\/proc\/\[pid\]\/maps: malformed line/);
  });

  it('reads an empty file (a kernel thread) as no mappings', () => {
    expect(parseMaps('')).toEqual({ ok: true, value: [] });
  });
});

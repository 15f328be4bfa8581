/**
 * Tests of the system group's parsers: each on a real capture of this host (fixtures/system/
 * host-b), on hand-written variants standing for other kernels and hosts, and on garbage, where
 * they return PARSE_ERROR; fast-check checks none of them throws on arbitrary or mutated input.
 */
import type { Result } from '@virtualeyes/core';
import { mutatedCapture } from '@virtualeyes/linux/testing';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseBlkio, parseIoStat, parseLimit } from '../../src/system/parse/cgroup.js';
import { parseCacheSize, parseCpuEntries, parseCpuList } from '../../src/system/parse/cpus.js';
import { parseDiskstats } from '../../src/system/parse/diskstats.js';
import { parseKeyed, parseNodeMeminfo } from '../../src/system/parse/keyed.js';
import { parseMountinfo, unescapeOctal } from '../../src/system/parse/mountinfo.js';
import { ipv4Number, ipv6Text, parseDirectRoutes, parseFibTrieLocal, parseIfInet6, parseNetDev } from '../../src/system/parse/net.js';
import { parsePressure } from '../../src/system/parse/pressure.js';
import { fixtureText } from '../helpers.js';

const host = (path: string): string => fixtureText('system', 'host-b', path);
const code = (result: Result<unknown>): string => (result.ok ? 'OK' : result.status.code);

describe('parseCpuEntries', () => {
  it('reads one entry per processor of a real x86 capture', () => {
    const parsed = parseCpuEntries(host('proc/cpuinfo'));
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(parsed.value.map((entry) => entry.cpu)).toEqual([0, 1]);
    expect(parsed.value[0]).toMatchObject({ model: 'AMD EPYC', vendor: 'AuthenticAMD', physicalId: 0, coreId: 0, microcode: null });
    expect(parsed.value[0]!.flags).toContain('avx2');
    expect(parsed.value[0]!.flags!.length).toBe(93);
  });

  it('reads arm64 blocks (Features, no model name or topology) as flags with null model', () => {
    // Stands for a Graviton /proc/cpuinfo: no model name, Features instead of flags.
    const parsed = parseCpuEntries('processor\t: 0\nBogoMIPS\t: 243.75\nFeatures\t: fp asimd aes sha2 atomics\nCPU implementer\t: 0x41\n\nprocessor\t: 1\nFeatures\t: fp asimd\n');
    expect(parsed.ok && parsed.value).toEqual([
      { cpu: 0, model: null, vendor: '0x41', microcode: null, flags: ['fp', 'asimd', 'aes', 'sha2', 'atomics'], physicalId: null, coreId: null },
      { cpu: 1, model: null, vendor: null, microcode: null, flags: ['fp', 'asimd'], physicalId: null, coreId: null },
    ]);
  });

  it.each([
    ['no processor line', 'model name : x\n'],
    ['a line without a colon', 'processor : 0\ngarbage\n'],
    ['a non-numeric processor', 'processor : zero\n'],
    ['a processor listed twice', 'processor : 0\nprocessor : 0\n'],
    ['an empty file', ''],
  ])('returns PARSE_ERROR for %s', (_what, text) => {
    expect(code(parseCpuEntries(text))).toBe('PARSE_ERROR');
  });
});

describe('parseCpuList and parseCacheSize', () => {
  it.each([
    ['0-1\n', [0, 1]],
    ['0-3,8,10-11', [0, 1, 2, 3, 8, 10, 11]],
    ['\n', []],
  ])('reads the CPU list %j', (text, cpus) => {
    expect(parseCpuList(text, 'cpulist')).toEqual({ ok: true, value: cpus });
  });

  it.each(['3-1', '0-', 'a', '1,,2'])('refuses the CPU list %j', (text) => {
    expect(code(parseCpuList(text, 'cpulist'))).toBe('PARSE_ERROR');
  });

  it.each([
    ['32K\n', 32768],
    ['1024K', 1048576],
    ['32M', 33554432],
    ['512', 512],
  ])('reads the cache size %j', (text, bytes) => {
    expect(parseCacheSize(text, 'size')).toEqual({ ok: true, value: bytes });
  });

  it.each(['', 'K', '32 K', '-1K', '32T'])('refuses the cache size %j', (text) => {
    expect(code(parseCacheSize(text, 'size'))).toBe('PARSE_ERROR');
  });
});

describe('parseKeyed and parseNodeMeminfo', () => {
  it('reads every line of a real /proc/vmstat and numastat', () => {
    const text = host('proc/vmstat');
    const parsed = parseKeyed(text, '/proc/vmstat');
    expect(parsed.ok && parsed.value.size).toBe(text.trim().split('\n').length);
    const numastat = parseKeyed(host('sys/devices/system/node/node0/numastat'), 'numastat');
    expect(numastat.ok && [...numastat.value.keys()]).toEqual(['numa_hit', 'numa_miss', 'numa_foreign', 'interleave_hit', 'local_node', 'other_node']);
  });

  it('keeps a counter past 2^53 exact', () => {
    expect(parseKeyed('pgfault 18446744073709551\n', 'x')).toEqual({ ok: true, value: new Map([['pgfault', 18446744073709551n]]) });
  });

  it.each([
    ['no value', 'pgfault\n'],
    ['a negative value', 'pgfault -1\n'],
    ['two values', 'pgfault 1 2\n'],
    ['a value past int64', 'pgfault 18446744073709551615\n'],
  ])('returns PARSE_ERROR for %s', (_what, text) => {
    expect(code(parseKeyed(text, 'x'))).toBe('PARSE_ERROR');
  });

  it('reads a real node meminfo, kB as bytes and HugePages as counts', () => {
    const text = host('sys/devices/system/node/node0/meminfo');
    const parsed = parseNodeMeminfo(text, 'node0/meminfo');
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    const total = /MemTotal:\s+(\d+) kB/.exec(text)![1]!;
    expect(parsed.value.get('MemTotal')).toBe(Number(total) * 1024);
    expect(parsed.value.get('HugePages_Total')).toBe(0);
  });

  it.each([
    ['a line without Node', 'MemTotal: 1 kB\n'],
    ['no MemTotal', 'Node 0 MemFree: 1 kB\n'],
    ['an unknown unit', 'Node 0 MemTotal: 1 MB\n'],
  ])('refuses a node meminfo with %s', (_what, text) => {
    expect(code(parseNodeMeminfo(text, 'x'))).toBe('PARSE_ERROR');
  });
});

describe('network parsers', () => {
  it('reads every interface of a real /proc/net/dev with its 16 counters', () => {
    const parsed = parseNetDev(host('proc/net/dev'));
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(parsed.value.map((line) => line.name).sort()).toEqual(['eth0', 'ifb0', 'ifb1', 'lo']);
    const eth0Line = host('proc/net/dev').split('\n').find((line) => line.trim().startsWith('eth0:'))!;
    expect(parsed.value.find((line) => line.name === 'eth0')!.counters).toEqual(eth0Line.split(':')[1]!.trim().split(/\s+/).map(Number));
  });

  it.each([
    ['no header', 'eth0: 1 2 3\n'],
    ['15 counters', 'a|b\nc|d\neth0: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15\n'],
    ['no colon', 'a|b\nc|d\neth0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n'],
    ['a letter', 'a|b\nc|d\neth0: x 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n'],
    ['an interface twice', 'a|b\nc|d\nlo: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\nlo: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n'],
  ])('refuses /proc/net/dev with %s', (_what, text) => {
    expect(code(parseNetDev(text))).toBe('PARSE_ERROR');
  });

  it('reads a real /proc/net/if_inet6 in RFC 5952 form', () => {
    const parsed = parseIfInet6(host('proc/net/if_inet6'));
    expect(parsed.ok && parsed.value).toEqual(
      expect.arrayContaining([
        { name: 'lo', address: '::1/128' },
        { name: 'eth0', address: 'fd00::2/64' },
        { name: 'eth0', address: 'fe80::fc:ff:fe00:1/64' },
      ]),
    );
  });

  it.each([
    ['00000000000000000000000000000000', '::'],
    ['20010db8000000000001000000000001', '2001:db8::1:0:0:1'],
    ['20010db8000100000000000000000000', '2001:db8:1::'],
    ['20010db80001000100010001000100010', '2001:db8:1:1:1:1:1:1'],
  ])('writes %s as %s', (hex, text) => {
    expect(ipv6Text(hex.slice(0, 32))).toBe(text);
  });

  it('refuses a malformed if_inet6 line', () => {
    expect(code(parseIfInet6('fe80 04 40 20 80 eth0\n'))).toBe('PARSE_ERROR');
  });

  it('finds the local addresses of a real fib_trie, each once', () => {
    expect(parseFibTrieLocal(host('proc/net/fib_trie'))).toEqual({ ok: true, value: ['127.0.0.1', '192.0.2.2'] });
  });

  it('refuses a fib_trie line of another shape', () => {
    expect(code(parseFibTrieLocal('Main:\n  +-- 0.0.0.0/0 3 0 5\n     garbage\n'))).toBe('PARSE_ERROR');
  });

  it('reads the gateway-less routes of a real /proc/net/route', () => {
    expect(parseDirectRoutes(host('proc/net/route'))).toEqual({ ok: true, value: [{ name: 'eth0', network: ipv4Number('192.0.2.0'), prefix: 24 }] });
  });

  it.each([
    ['no header', 'eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\n'],
    ['a short hex field', 'Iface\tDestination\nEth0\t0000\t010200C0\t0003\t0\t0\t0\t00000000\n'],
  ])('refuses /proc/net/route with %s', (_what, text) => {
    expect(code(parseDirectRoutes(text))).toBe('PARSE_ERROR');
  });
});

describe('parseDiskstats', () => {
  it('reads every device of a real capture with all 17 fields (5.5+)', () => {
    const text = host('proc/diskstats');
    const parsed = parseDiskstats(text);
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(parsed.value.length).toBe(text.trim().split('\n').length);
    const vda = parsed.value.find((line) => line.name === 'vda')!;
    const fields = text.split('\n').find((line) => / vda /.test(line))!.trim().split(/\s+/);
    expect(vda.major).toBe(Number(fields[0]));
    expect(vda.values.get('sectors_read')).toBe(Number(fields[5]));
    expect(vda.values.get('flush_time')).toBe(Number(fields[19]));
  });

  it.each([
    ['11 fields (before 4.18)', 11, false],
    ['15 fields (4.18 to 5.4)', 15, true],
  ])('reads %s', (_what, count, discards) => {
    const line = `   8       0 sda ${Array.from({ length: count }, (_, i) => i + 1).join(' ')}\n`;
    const parsed = parseDiskstats(line);
    expect(parsed.ok && parsed.value[0]!.values.has('discards_completed')).toBe(discards);
    expect(parsed.ok && parsed.value[0]!.values.has('flushes_completed')).toBe(false);
  });

  it.each([
    ['12 fields', '8 0 sda 1 2 3 4 5 6 7 8 9 10 11 12\n'],
    ['a name only', '8 0 sda\n'],
    ['a letter', '8 0 sda 1 2 3 4 5 6 7 8 9 10 x\n'],
    ['a non-numeric major', 'x 0 sda 1 2 3 4 5 6 7 8 9 10 11\n'],
  ])('returns PARSE_ERROR for %s', (_what, text) => {
    expect(code(parseDiskstats(text))).toBe('PARSE_ERROR');
  });
});

describe('parseMountinfo', () => {
  it('reads every mount of a real capture', () => {
    const text = host('proc/self/mountinfo');
    const parsed = parseMountinfo(text);
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(parsed.value.length).toBe(text.trim().split('\n').length);
    expect(parsed.value.find((mount) => mount.path === '/')).toMatchObject({ type: 'ext4', source: '/dev/vda', device: '254:0', parent: 1, root: '/', propagation: '' });
  });

  it('reads optional fields and octal escapes (a kernel example, with a space in the path)', () => {
    // The example of proc_pid_mountinfo(5), with the mount point renamed to hold a space.
    const parsed = parseMountinfo('36 35 98:0 /mnt1 /mnt\\0402 rw,noatime master:1 shared:3 - ext3 /dev/root rw,errors=continue\n');
    expect(parsed.ok && parsed.value[0]).toEqual({
      id: 36,
      parent: 35,
      device: '98:0',
      root: '/mnt1',
      path: '/mnt 2',
      options: 'rw,noatime',
      propagation: 'master:1 shared:3',
      type: 'ext3',
      source: '/dev/root',
      superOptions: 'rw,errors=continue',
    });
    expect(unescapeOctal('a\\134b\\011c')).toBe('a\\b\tc');
  });

  it.each([
    ['no separator', '36 35 98:0 / / rw master:1 ext3 /dev/root rw\n'],
    ['a non-numeric id', 'x 35 98:0 / / rw - ext3 /dev/root rw\n'],
    ['a bad device', '36 35 98 / / rw - ext3 /dev/root rw\n'],
    ['nothing after the separator', '36 35 98:0 / / rw a b c -\n'],
  ])('returns PARSE_ERROR for %s', (_what, text) => {
    expect(code(parseMountinfo(text))).toBe('PARSE_ERROR');
  });
});

describe('parsePressure', () => {
  it.each(['cpu', 'io', 'memory'])('reads the real /proc/pressure/%s', (resource) => {
    const parsed = parsePressure(host(`proc/pressure/${resource}`), resource);
    expect(parsed.ok && parsed.value.map((line) => line.kind)).toEqual(['some', 'full']);
  });

  it('reads an irq file (full only, CONFIG_IRQ_TIME_ACCOUNTING)', () => {
    expect(parsePressure('full avg10=0.12 avg60=0.05 avg300=0.01 total=123456789\n', 'irq')).toEqual({
      ok: true,
      value: [{ kind: 'full', avg10: 0.12, avg60: 0.05, avg300: 0.01, total: 123456789 }],
    });
  });

  it.each([
    ['an empty file', ''],
    ['a missing total', 'some avg10=0.00 avg60=0.00 avg300=0.00\n'],
    ['two some lines', 'some avg10=0.00 avg60=0.00 avg300=0.00 total=1\nsome avg10=0.00 avg60=0.00 avg300=0.00 total=1\n'],
    ['another kind', 'most avg10=0.00 avg60=0.00 avg300=0.00 total=1\n'],
  ])('returns PARSE_ERROR for %s', (_what, text) => {
    expect(code(parsePressure(text, 'cpu'))).toBe('PARSE_ERROR');
  });
});

describe('cgroup parsers', () => {
  it('sums v2 io.stat over devices, skipping other keys', () => {
    // The shape of Documentation/admin-guide/cgroup-v2.rst's io.stat example.
    const text = '8:16 rbytes=1459200 wbytes=314773504 rios=192 wios=353 dbytes=0 dios=0\n8:0 rbytes=90430464 wbytes=299008000 rios=8950 wios=1252 dbytes=50331648 dios=3021\n';
    expect(parseIoStat(text, 'io.stat')).toEqual({ ok: true, value: { rbytes: 91889664n, wbytes: 613781504n, rios: 9142n, wios: 1605n } });
    expect(parseIoStat('', 'io.stat')).toEqual({ ok: true, value: { rbytes: 0n, wbytes: 0n, rios: 0n, wios: 0n } });
    expect(code(parseIoStat('sda rbytes=1\n', 'io.stat'))).toBe('PARSE_ERROR');
    expect(code(parseIoStat('8:0 rbytes=x\n', 'io.stat'))).toBe('PARSE_ERROR');
  });

  it('sums v1 blkio Read and Write over devices, ignoring the Total lines', () => {
    const text = '8:0 Read 4096\n8:0 Write 8192\n8:0 Sync 12288\n8:0 Async 0\n8:0 Discard 0\n8:0 Total 12288\n8:16 Read 1\n8:16 Write 2\nTotal 12291\n';
    expect(parseBlkio(text, 'blkio')).toEqual({ ok: true, value: { read: 4097n, write: 8194n } });
    expect(code(parseBlkio('8:0 Read\n', 'blkio'))).toBe('PARSE_ERROR');
  });

  it.each([
    ['max\n', undefined, null],
    ['1073741824\n', undefined, 1073741824],
    ['9223372036854771712\n', 2n ** 62n, null],
    ['18446744073709551615\n', 2n ** 62n, null],
    ['536870912\n', 2n ** 62n, 536870912],
  ])('reads the limit %j', (text, unlimited, value) => {
    expect(parseLimit(text, 'memory.max', unlimited)).toEqual({ ok: true, value });
  });

  it.each(['', '-1', 'unlimited', '18446744073709551615'])('refuses the v2 limit %j', (text) => {
    expect(code(parseLimit(text, 'memory.max'))).toBe('PARSE_ERROR');
  });
});

const parsers: [string, (text: string) => Result<unknown>, string][] = [
  ['cpuinfo', parseCpuEntries, 'proc/cpuinfo'],
  ['vmstat', (text) => parseKeyed(text, 'vmstat'), 'proc/vmstat'],
  ['node meminfo', (text) => parseNodeMeminfo(text, 'meminfo'), 'sys/devices/system/node/node0/meminfo'],
  ['net/dev', parseNetDev, 'proc/net/dev'],
  ['if_inet6', parseIfInet6, 'proc/net/if_inet6'],
  ['fib_trie', parseFibTrieLocal, 'proc/net/fib_trie'],
  ['route', parseDirectRoutes, 'proc/net/route'],
  ['diskstats', parseDiskstats, 'proc/diskstats'],
  ['mountinfo', parseMountinfo, 'proc/self/mountinfo'],
  ['pressure', (text) => parsePressure(text, 'cpu'), 'proc/pressure/io'],
  ['cpulist', (text) => parseCpuList(text, 'cpulist'), 'sys/devices/system/node/node0/cpulist'],
];

describe.each(parsers)('fuzz %s', (_name, parse, capture) => {
  const expectOkOrParseError = (result: Result<unknown>): void => {
    if (!result.ok) expect(result.status.code).toBe('PARSE_ERROR');
  };

  it('returns OK or PARSE_ERROR for arbitrary text', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (text) => expectOkOrParseError(parse(text))), { numRuns: 300 });
  });

  it('returns OK or PARSE_ERROR for a mutated real capture', () => {
    fc.assert(fc.property(mutatedCapture(host(capture), ' \t\n:-/.=0123456789abcxyz|'), (text) => expectOkOrParseError(parse(text))), { numRuns: 200 });
  });
});

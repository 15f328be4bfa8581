/**
 * Tests of the network namespace table parsers on real captures, checked against ss at the same
 * instant (ss.txt), of address decoding on both byte orders and RFC 5952 formatting, and on
 * malformed lines.
 */
import { describe, expect, it } from 'vitest';
import { addressBytes, formatIpv6, parseInetSockets, parseUnixSockets } from '../../../src/detail/parse/net.js';
import { CHILD, hostBText, NS_CHILD } from '../fixture.js';

const inet = (file: string, pid: number = CHILD.pid) => {
  const parsed = parseInetSockets(hostBText('step0', `proc/${pid}/net/${file}`), file, true);
  if (!parsed.ok) throw new Error(parsed.status.message);
  return parsed.value;
};

describe('parseInetSockets', () => {
  it('reads the captured tcp table as ss printed it, leaving out sockets without an inode', () => {
    const ss = hostBText('step0', 'ss.txt')
      .split('\n')
      .filter((line) => line.startsWith('tcp ') && !line.includes('TIME-WAIT') && !line.includes('['))
      .map((line) => line.trim().split(/\s+/))
      .map((f) => `${f[1] === 'ESTAB' ? 'ESTABLISHED' : f[1]} ${f[4]} ${f[5]!.replace(':*', ':0')}`)
      .sort();
    const ours = inet('tcp')
      .filter((socket) => !socket.localAddress.includes(':'))
      .map((s) => `${s.state} ${s.localAddress}:${s.localPort} ${s.remoteAddress}:${s.remotePort}`)
      .sort();
    expect(ours).toEqual(ss);
    expect(inet('tcp').find((socket) => socket.localPort === CHILD.tcp && socket.state === 'LISTEN')).toMatchObject({ localAddress: '127.0.0.1', remoteAddress: '0.0.0.0', remotePort: 0 });
  });

  it('reads tcp6 and udp: [::1] listener, unconnected UDP in state CLOSE', () => {
    expect(inet('tcp6').find((socket) => socket.localPort === CHILD.tcp6)).toMatchObject({ localAddress: '::1', remoteAddress: '::', state: 'LISTEN' });
    expect(inet('udp').find((socket) => socket.localPort === CHILD.udp)).toMatchObject({ localAddress: '127.0.0.1', state: 'CLOSE' });
  });

  it("gives each namespace's own sockets: the other child's listener is only in its namespace's table", () => {
    expect(inet('tcp', NS_CHILD.pid).map((socket) => socket.localPort)).toContain(NS_CHILD.tcp);
    expect(inet('tcp').map((socket) => socket.localPort)).not.toContain(NS_CHILD.tcp);
  });

  it('decodes words on a big-endian host too', () => {
    const le = parseInetSockets(`header\n   0: 0100007F:1F90 00000000:0000 0A 0:0 0:0 0 0 0 77 1\n`, 'tcp', true);
    const be = parseInetSockets(`header\n   0: 7F000001:1F90 00000000:0000 0A 0:0 0:0 0 0 0 77 1\n`, 'tcp', false);
    expect(le).toEqual(be);
    expect(le.ok && le.value[0]).toEqual({ inode: 77, localAddress: '127.0.0.1', localPort: 8080, remoteAddress: '0.0.0.0', remotePort: 0, state: 'LISTEN' });
  });

  it.each([
    ['a short line', 'header\n   0: 0100007F:1F90 00000000:0000 0A\n'],
    ['a 6-digit address', 'header\n   0: 01007F:1F90 00000000:0000 0A 0:0 0:0 0 0 0 77 1\n'],
    ['an unknown state', 'header\n   0: 0100007F:1F90 00000000:0000 FF 0:0 0:0 0 0 0 77 1\n'],
    ['a word for an inode', 'header\n   0: 0100007F:1F90 00000000:0000 0A 0:0 0:0 0 0 0 x 1\n'],
    ['a port of 3 digits', 'header\n   0: 0100007F:F90 00000000:0000 0A 0:0 0:0 0 0 0 77 1\n'],
  ])('returns PARSE_ERROR for %s', (_what, text) => {
    const parsed = parseInetSockets(text, '/proc/[pid]/net/tcp', true);
    expect(!parsed.ok && parsed.status.code).toBe('PARSE_ERROR');
  });
});

describe('addressBytes and formatIpv6', () => {
  it.each([
    ['00000000000000000000000001000000', '::1'],
    ['00000000000000000000000000000000', '::'],
    ['0000000000000000FFFF00000100007F', '::ffff:127.0.0.1'],
    ['B80D0120000000000000000001000000', '2001:db8::1'],
    ['B80D012000000100000001000000FFFF', '2001:db8:1:0:1:0:ffff:0'],
    ['000080FE00000000FF0000020300FE00', 'fe80::200:ff:fe:3'],
    ['B80D0120000000000100000000000000', '2001:db8::1:0:0'],
  ])('%s is %s on a little-endian host', (hex, text) => {
    expect(formatIpv6(addressBytes(hex, true)!)).toBe(text);
  });

  it('refuses lengths other than 8 and 32 and non-hex digits', () => {
    expect(addressBytes('0100007', true)).toBeUndefined();
    expect(addressBytes('0100007G', true)).toBeUndefined();
  });
});

describe('parseUnixSockets', () => {
  it('reads the captured table: the listener with its path, connected pairs without one', () => {
    const parsed = parseUnixSockets(hostBText('step0', `proc/${CHILD.pid}/net/unix`));
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(parsed.value.find((socket) => socket.path === CHILD.unix)).toMatchObject({ inode: 69111, state: 'LISTEN', protocol: 0 });
    expect(parsed.value.find((socket) => socket.inode === 1451)).toEqual({ inode: 1451, state: 'CONNECTED', path: null, protocol: 0 });
  });

  it('keeps abstract names and paths with spaces', () => {
    const parsed = parseUnixSockets('Num       RefCount Protocol Flags    Type St Inode Path\n0000000000000000: 00000002 00000000 00000000 0002 01 12 @abstract name\n');
    expect(parsed.ok && parsed.value).toEqual([{ inode: 12, state: 'UNCONNECTED', path: '@abstract name', protocol: 0 }]);
  });

  it.each([
    ['a short line', 'header\n0000000000000000: 00000002 00000000\n'],
    ['an unknown state', 'header\n0000000000000000: 00000002 00000000 00000000 0001 09 12\n'],
  ])('returns PARSE_ERROR for %s', (_what, text) => {
    const parsed = parseUnixSockets(text);
    expect(!parsed.ok && parsed.status.code).toBe('PARSE_ERROR');
  });
});

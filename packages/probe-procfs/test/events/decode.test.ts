/**
 * The connector decoder over real captures (fixtures/linux-6.18, one datagram per line): every
 * datagram decodes to what expected.json holds, the facts each command must produce are there,
 * wait statuses split as waitpid's macros do, and arbitrary bytes give a Status, never a throw.
 */
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeDatagram, decodeWaitStatus, encodeMcastOp, Layout, McastOp, type KernelMessage } from '../../src/events/decode.js';

const DIR = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'linux-6.18');
const CASES = readdirSync(DIR).filter((name) => name.endsWith('.hex')).map((name) => name.slice(0, -4)).sort();
const EXPECTED = join(DIR, 'expected.json');

/** Decodes every datagram of a capture; bigints as strings for JSON. */
function decodeCase(name: string): unknown[] {
  const lines = readFileSync(join(DIR, `${name}.hex`), 'utf8').split('\n').filter((line) => line !== '');
  return lines.map((line) => {
    const bytes = Buffer.from(line, 'hex');
    const decoded = decodeDatagram(bytes, bytes.length);
    return decoded.ok ? decoded.value.map((message) => JSON.parse(JSON.stringify(message, (_key, value: unknown) => (typeof value === 'bigint' ? value.toString() : value)))) : decoded.status.message;
  });
}

if (process.env.UPDATE_FIXTURES === '1') writeFileSync(EXPECTED, `${JSON.stringify(Object.fromEntries(CASES.map((name) => [name, decodeCase(name)])), null, 1)}\n`);
const expected = JSON.parse(readFileSync(EXPECTED, 'utf8')) as Record<string, unknown[]>;
const all = (name: string): KernelMessage[] => (decodeCase(name) as KernelMessage[][]).flat();

describe.each(CASES)('capture %s', (name) => {
  it('decodes every datagram to expected.json', () => {
    expect(decodeCase(name)).toEqual(expected[name]);
  });

  it('holds the ack to our LISTEN (ack 41 + 1, no error)', () => {
    expect(all(name)).toContainEqual(expect.objectContaining({ kind: 'ack', ack: 42, err: 0 }));
  });
});

describe('what each command produced', () => {
  const exits = (name: string) => all(name).filter((message) => message.kind === 'exit').map((message) => decodeWaitStatus((message as { status: number }).status));

  it.each([
    ['exit7', { exitCode: 7, signal: null, coreDumped: null }],
    ['killed', { exitCode: null, signal: 15, coreDumped: false }],
    ['coredump', { exitCode: null, signal: 11, coreDumped: true }],
  ])('%s: an exit with %j', (name, wait) => {
    expect(exits(name)).toContainEqual(wait);
  });

  it('uid and gid: the new real and effective ids of nobody', () => {
    expect(all('uid')).toContainEqual(expect.objectContaining({ kind: 'uid', real: 65534, effective: 65534 }));
    expect(all('uid')).toContainEqual(expect.objectContaining({ kind: 'gid', real: 65534, effective: 65534 }));
  });

  it.each([
    ['comm', { kind: 'comm', comm: 'renamed' }],
    ['sid', { kind: 'sid' }],
    ['ptrace', { kind: 'ptrace' }],
    ['coredump', { kind: 'coredump' }],
  ])('%s: a %j event', (name, fields) => {
    expect(all(name)).toContainEqual(expect.objectContaining(fields));
  });

  it('every fork names its parent, and every event carries a CPU and a monotonic time', () => {
    for (const message of CASES.flatMap(all)) {
      if (message.kind === 'fork') expect(message.parentTgid).toBeGreaterThan(0);
      if (message.kind !== 'ack' && message.kind !== 'other' && message.kind !== 'unknown') {
        expect(message.cpu).toBeLessThan(1024);
        expect(BigInt(message.ns)).toBeGreaterThan(0n);
      }
    }
  });
});

describe('decodeWaitStatus', () => {
  it.each([
    [0, { exitCode: 0, signal: null, coreDumped: null }],
    [7 << 8, { exitCode: 7, signal: null, coreDumped: null }],
    [255 << 8, { exitCode: 255, signal: null, coreDumped: null }],
    [9, { exitCode: null, signal: 9, coreDumped: false }],
    [11 | 0x80, { exitCode: null, signal: 11, coreDumped: true }],
    [(19 << 8) | 0x7f, { exitCode: null, signal: null, coreDumped: null }],
  ])('splits %i into %j', (status, wait) => {
    expect(decodeWaitStatus(status)).toEqual(wait);
  });
});

describe('encodeMcastOp', () => {
  it('builds the 40-byte LISTEN request the kernel expects', () => {
    const message = encodeMcastOp(McastOp.LISTEN, 1234, 7, 41);
    expect(message.length).toBe(Layout.PROC_EVENT + 4);
    expect(message.readUInt32LE(0)).toBe(40);
    expect(message.readUInt32LE(12)).toBe(1234);
    expect([message.readUInt32LE(16), message.readUInt32LE(20), message.readUInt32LE(24), message.readUInt32LE(28), message.readUInt16LE(32)]).toEqual([1, 1, 7, 41, 4]);
    expect(message.readUInt32LE(36)).toBe(McastOp.LISTEN);
  });
});

describe('malformed input', () => {
  it('yields a Status or messages for any bytes, never a throw', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        const result = decodeDatagram(Buffer.from(bytes), bytes.length);
        if (!result.ok) expect(result.status.code).toBe('PARSE_ERROR');
      }),
      { numRuns: 2000 },
    );
  });

  it('yields a Status for a real datagram cut or with its lengths mutated', () => {
    const real = Buffer.from(readFileSync(join(DIR, 'exit7.hex'), 'utf8').split('\n')[0]!, 'hex');
    fc.assert(
      fc.property(fc.nat({ max: real.length }), fc.nat({ max: real.length - 1 }), fc.nat({ max: 255 }), (cut, at, byte) => {
        const bytes = Buffer.from(real);
        bytes[at] = byte;
        const result = decodeDatagram(bytes, cut);
        if (!result.ok) expect(result.status.code).toBe('PARSE_ERROR');
      }),
      { numRuns: 2000 },
    );
  });
});

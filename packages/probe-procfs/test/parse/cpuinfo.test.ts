/**
 * Tests of the /proc/cpuinfo parser: x86 captures with topology, an arm64 layout without a
 * model name or topology, and malformed text.
 */
import { describe, expect, it } from 'vitest';
import { parseCpuinfo } from '../../src/parse/cpuinfo.js';
import { fixtureText } from '../helpers.js';

describe('parseCpuinfo', () => {
  it.each([
    ['step0', 2],
    ['step1', 1],
  ])('reads the x86 capture of cpu-hotplug %s', (step, processors) => {
    const text = fixtureText('cpu-hotplug', step, 'proc/cpuinfo');
    const model = /^model name\s*: (.*)$/m.exec(text)![1];
    const vendor = /^vendor_id\s*: (.*)$/m.exec(text)![1];
    expect(parseCpuinfo(text)).toEqual({ ok: true, value: { processors, model, vendor, cores: processors, sockets: 1 } });
  });

  it('leaves model and topology null on an arm64 layout', () => {
    const block = (n: number): string =>
      `processor\t: ${n}\nBogoMIPS\t: 50.00\nFeatures\t: fp asimd evtstrm aes pmull sha1 sha2 crc32 cpuid\nCPU implementer\t: 0x41\nCPU architecture: 8\nCPU variant\t: 0x3\nCPU part\t: 0xd0c\nCPU revision\t: 1\n`;
    expect(parseCpuinfo(`${block(0)}\n${block(1)}\n`)).toEqual({
      ok: true,
      value: { processors: 2, model: null, vendor: null, cores: null, sockets: null },
    });
  });

  it('counts s390 "processor N:" lines', () => {
    const text = 'vendor_id       : IBM/S390\n# processors    : 2\nprocessor 0: version = FF,  identification = 0133E8,  machine = 2964\nprocessor 1: version = FF,  identification = 0133E8,  machine = 2964\n';
    expect(parseCpuinfo(text)).toMatchObject({ ok: true, value: { processors: 2, vendor: 'IBM/S390' } });
  });

  it.each([
    ['no processor entry', 'model name\t: x\n'],
    ['a line without a colon', 'processor\t: 0\ngarbage\n'],
    ['an empty file', ''],
  ])('returns PARSE_ERROR for %s', (_what, text) => {
    const parsed = parseCpuinfo(text);
    expect(!parsed.ok && parsed.status.code).toBe('PARSE_ERROR');
  });
});

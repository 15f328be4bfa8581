/**
 * Fuzz tests (fast-check): every parser, given arbitrary text or a real capture mutated at
 * random, returns OK or PARSE_ERROR and never throws; and a whole collection over a fixture
 * with one file mutated still yields only schema-valid rows and non-INTERNAL statuses.
 */
import { StatusCode, validateRow, type FileReader, type Result } from '@virtualeyes/core';
import { parsePidStat } from '@virtualeyes/linux';
import { mutatedCapture } from '@virtualeyes/linux/testing';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { manifest } from '../src/index.js';
import { parseCmdline } from '../src/parse/cmdline.js';
import { parseCpuinfo } from '../src/parse/cpuinfo.js';
import { parseLoadavg } from '../src/parse/loadavg.js';
import { parseMeminfo } from '../src/parse/meminfo.js';
import { parseOsRelease } from '../src/parse/os-release.js';
import { parsePasswd } from '../src/parse/passwd.js';
import { parsePidIo } from '../src/parse/pid-io.js';
import { parsePidStatus } from '../src/parse/pid-status.js';
import { parseProcStat } from '../src/parse/proc-stat.js';
import { parseValue } from '../src/parse/value.js';
import { collect, createSteppingReader, fixtureText, probeOver, stepDir } from './helpers.js';

const parsers: [string, (text: string) => Result<unknown>, string][] = [
  ['proc-stat', parseProcStat, 'proc/stat'],
  ['meminfo', parseMeminfo, 'proc/meminfo'],
  ['loadavg', parseLoadavg, 'proc/loadavg'],
  ['cpuinfo', parseCpuinfo, 'proc/cpuinfo'],
  ['pid-stat', parsePidStat, 'proc/9802/stat'],
  ['pid-status', parsePidStatus, 'proc/9806/status'],
  ['pid-io', parsePidIo, 'proc/9806/io'],
  ['cmdline', (text) => parseCmdline(text, 64), 'proc/9808/cmdline'],
  ['passwd', parsePasswd, 'etc/passwd'],
  ['os-release', parseOsRelease, 'etc/os-release'],
  ['value', (text) => parseValue(text, '/proc/sys/kernel/hostname'), 'proc/sys/kernel/version'],
];

/** What random edits insert: the characters these files are made of, and some that break them. */
const ALPHABET = ' \t\n\0():-/.0123456789abcxyzkB\u00e9';

function expectOkOrParseError(result: Result<unknown>): void {
  if (!result.ok) expect(result.status.code).toBe(StatusCode.PARSE_ERROR);
}

describe.each(parsers)('fuzz %s', (_name, parse, capture) => {
  it('returns OK or PARSE_ERROR for arbitrary text', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 400 }), (text) => expectOkOrParseError(parse(text))));
  });

  it('returns OK or PARSE_ERROR for a mutated real capture', () => {
    fc.assert(fc.property(mutatedCapture(fixtureText('host-a', 'step0', capture), ALPHABET), (text) => expectOkOrParseError(parse(text))));
  });

  it('parses the real capture itself', () => {
    expect(parse(fixtureText('host-a', 'step0', capture)).ok).toBe(true);
  });
});

describe('fuzz a whole collection', () => {
  const files = parsers.map(([, , capture]) => `/${capture}`);

  it('keeps every row schema-valid and reports malformed files as PARSE_ERROR only', async () => {
    const base = createSteppingReader(stepDir('host-a', 'step0'));
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...files).chain((path) => mutatedCapture(originalText(base, path), ALPHABET).map((text) => [path, text] as const)),
        async ([path, text]) => {
          const reader: FileReader = { ...base, readText: (p) => (p === path ? { ok: true, value: text } : base.readText(p)) };
          const result = await collect(probeOver(reader));
          for (const status of result.errors) expect([StatusCode.PARSE_ERROR], `${status.code}: ${status.message}`).toContain(status.code);
          for (const batch of result.batches) {
            const schema = manifest.tables.find((table) => table.name === batch.table)!;
            for (const row of batch.rows) expect(validateRow(schema, row).message).toBe('');
          }
          // A broken file takes out the tables built from it (/proc/stat: all but memory); the others still come.
          expect(result.batches.length).toBeGreaterThanOrEqual(path === '/proc/stat' ? 1 : 4);
        },
      ),
      { numRuns: 200 },
    );
  });
});

function originalText(reader: FileReader, path: string): string {
  const text = reader.readText(path);
  if (!text.ok) throw new Error(text.status.message);
  return text.value;
}

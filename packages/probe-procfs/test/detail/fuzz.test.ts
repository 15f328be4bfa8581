/**
 * Fuzz tests (fast-check) of the detail parsers and collector: arbitrary text or a real capture
 * mutated at random gives OK or PARSE_ERROR, never a throw; a whole detail collection over host-b
 * with one file mutated still gives only schema-valid rows and PARSE_ERROR statuses.
 */
import { StatusCode, validateRow, type FileReader, type Result } from '@virtualeyes/core';
import { mutatedCapture } from '@virtualeyes/linux/testing';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseCgroupPaths } from '../../src/detail/parse/cgroup.js';
import { parseFdInfo } from '../../src/detail/parse/fd.js';
import { parseMaps } from '../../src/detail/parse/maps.js';
import { parseInetSockets, parseUnixSockets } from '../../src/detail/parse/net.js';
import { parseNumaMaps } from '../../src/detail/parse/numa-maps.js';
import { parseSmapsRollup } from '../../src/detail/parse/smaps-rollup.js';
import { manifest } from '../../src/index.js';
import { collect, createSteppingReader, probeOver } from '../helpers.js';
import { CHILD, hostB, hostBText } from './fixture.js';

const pid = CHILD.pid;
const parsers: [string, (text: string) => Result<unknown>, string][] = [
  ['maps', parseMaps, `proc/${pid}/maps`],
  ['smaps_rollup', parseSmapsRollup, `proc/${pid}/smaps_rollup`],
  ['numa_maps', parseNumaMaps, `proc/${pid}/numa_maps`],
  ['fdinfo', parseFdInfo, `proc/${pid}/fdinfo/3`],
  ['cgroup', parseCgroupPaths, `proc/${pid}/cgroup`],
  ['tcp', (text) => parseInetSockets(text, 'tcp', true), `proc/${pid}/net/tcp`],
  ['tcp6', (text) => parseInetSockets(text, 'tcp6', true), `proc/${pid}/net/tcp6`],
  ['unix', parseUnixSockets, `proc/${pid}/net/unix`],
];

/** What random edits insert: the characters these files are made of, and some that break them. */
const ALPHABET = ' \t\n\0:-=[]/.0123456789abcdefABCDEFxkBN@()';

const expectOkOrParseError = (result: Result<unknown>): void => {
  if (!result.ok) expect(result.status.code).toBe(StatusCode.PARSE_ERROR);
};

describe.each(parsers)('fuzz %s', (_name, parse, capture) => {
  it('returns OK or PARSE_ERROR for arbitrary text', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 400 }), (text) => expectOkOrParseError(parse(text))));
  });

  it('returns OK or PARSE_ERROR for a mutated real capture', () => {
    fc.assert(fc.property(mutatedCapture(hostBText('step0', capture), ALPHABET), (text) => expectOkOrParseError(parse(text))), { numRuns: 300 });
  });

  it('parses the real capture itself', () => {
    expect(parse(hostBText('step0', capture)).ok).toBe(true);
  });
});

describe('fuzz a whole detail collection', () => {
  const tables = ['process_maps', 'process_memory', 'process_numa', 'process_fds', 'process_sockets'];

  it('keeps every row schema-valid and reports malformed files as PARSE_ERROR only', async () => {
    const base = createSteppingReader(hostB('step0'));
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...parsers.map(([, , capture]) => capture)).chain((path) => mutatedCapture(hostBText('step0', path), ALPHABET).map((text) => [`/${path}`, text] as const)),
        async ([path, text]) => {
          const reader: FileReader = { ...base, readText: (p) => (p === path ? { ok: true, value: text } : base.readText(p)) };
          const result = await collect(probeOver(reader), tables);
          for (const status of result.errors) expect([StatusCode.PARSE_ERROR], `${status.code}: ${status.message}`).toContain(status.code);
          expect(result.batches.map((batch) => batch.table)).toEqual(tables);
          for (const batch of result.batches) {
            const schema = manifest.tables.find((table) => table.name === batch.table)!;
            for (const row of batch.rows) expect(validateRow(schema, row).message).toBe('');
          }
        },
      ),
      { numRuns: 30 },
    );
  });
});

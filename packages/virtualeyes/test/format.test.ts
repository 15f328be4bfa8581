import { describe, expect, it } from 'vitest';
import { createOptionsValidator, type QueryResult } from '@virtualeyes/core';
import { QUERY_REQUEST_SCHEMA } from '@virtualeyes/protocol';
import { buildRequest, csvField, Format, formatBytes, formatDuration, formatResult, LONGEST_QUERY_MS } from '../src/index.js';

const result = {
  columns: [
    { name: 'pid', type: 'INTEGER' },
    { name: 'cmd', type: 'VARCHAR' },
    { name: 'tags', type: 'VARCHAR[]' },
  ],
  rows: [
    [1, 'init, "the first"', ['a']],
    [200, null, []],
  ],
  truncated: false,
  elapsedMs: 1,
};

describe('output formats', () => {
  it('prints JSON as an array of row objects', () => {
    expect(JSON.parse(formatResult(result, Format.JSON))).toEqual([
      { pid: 1, cmd: 'init, "the first"', tags: ['a'] },
      { pid: 200, cmd: null, tags: [] },
    ]);
  });

  it('prints RFC 4180 CSV', () => {
    expect(formatResult(result, Format.CSV)).toBe('pid,cmd,tags\r\n1,"init, ""the first""","[""a""]"\r\n200,,[]');
    expect(csvField('a\nb')).toBe('"a\nb"');
  });

  it('prints an aligned table with numbers right-aligned', () => {
    expect(formatResult(result, Format.TABLE).split('\n')).toEqual([
      'pid  cmd                tags',
      '  1  init, "the first"  ["a"]',
      '200                     []',
    ]);
  });

  it('escapes column names and cells in tables, nested values as escaped JSON, and measures the escaped text', () => {
    const hostile = {
      columns: [
        { name: 'a\x1b[2Jb', type: 'VARCHAR' },
        { name: 'list', type: 'VARCHAR[]' },
      ],
      rows: [['\x9b1m\u202e', ['\x1b', '\x9b\u2066']]],
      truncated: false,
      elapsedMs: 1,
    };
    expect(formatResult(hostile, Format.TABLE).split('\n')).toEqual([
      'a\\e[2Jb         list',
      '\\u009b1m\\u202e  ["\\u001b","\\u009b\\u2066"]',
    ]);
    expect(JSON.parse(formatResult(hostile, Format.JSON))).toEqual([{ 'a\x1b[2Jb': '\x9b1m\u202e', list: ['\x1b', '\x9b\u2066'] }]);
    expect(formatResult(hostile, Format.CSV)).toBe('"a\x1b[2Jb",list\r\n"\x9b1m\u202e","[""\\u001b"",""\x9b\u2066""]"');
  });

  it('rounds fractions for people in tables, and keeps them exact in JSON and CSV', () => {
    const rates: QueryResult = { columns: [{ name: 'rate', type: 'DOUBLE' }], rows: [[2682.634730538922], [0.000123456], [-1.005], [42], [1e21], [0.5]], truncated: false, elapsedMs: 0 };
    expect(formatResult(rates, Format.TABLE).split('\n')).toEqual(['    rate', ' 2682.63', '0.000123', '      -1', '      42', '   1e+21', '     0.5']);
    expect(formatResult(rates, Format.CSV)).toContain('2682.634730538922');
    expect(JSON.parse(formatResult(rates, Format.JSON))[0]).toEqual({ rate: 2682.634730538922 });
  });

  it('formats bytes and durations for people', () => {
    expect([formatBytes(512), formatBytes(1536), formatBytes(5 * 1024 ** 3)]).toEqual(['512 B', '1.5 KiB', '5.0 GiB']);
    expect([formatDuration(800), formatDuration(65_000), formatDuration(90_061_000)]).toEqual(['800 ms', '1m 5s', '1d 1h']);
  });
});

describe('buildRequest', () => {
  const now = Date.parse('2026-11-22T05:00:00Z');
  const base = { staleness: '5m', timeout: '30s', maxRows: '100' };
  it('builds an at-request and a range request', () => {
    expect(buildRequest('select 1', { ...base, at: '10s ago' }, now)).toEqual({
      ok: true,
      value: { sql: 'select 1', at: now - 10_000, stalenessMs: 300_000, timeoutMs: 30_000, maxRows: 100 },
    });
    const range = buildRequest('select 1', { ...base, from: '1h ago' }, now);
    expect(range.ok && [range.value.from, range.value.to]).toEqual([now - 3_600_000, now]);
  });
  it.each([
    [{ at: 'now', from: '1h ago' }, 'use either --at or --from/--to, not both'],
    [{ to: 'now' }, '--to needs --from'],
    [{ from: 'now', to: '1h ago' }, '--to is before --from'],
    [{ maxRows: '0' }, "--max-rows must be a positive integer, got '0'"],
    [{ at: '-99999999999999d' }, "cannot read time '-99999999999999d': it falls outside the years 1 to 9999"],
  ])('refuses %j', (options, message) => {
    const built = buildRequest('select 1', { ...base, ...options }, now);
    expect(built.ok ? '' : built.status.message).toBe(message);
  });

  it('caps --timeout at the longest query a request may ask for, so the daemon accepts it', () => {
    const timeoutSchema = (QUERY_REQUEST_SCHEMA['properties'] as Record<string, { maximum?: number }>)['timeoutMs'];
    expect(LONGEST_QUERY_MS).toBe(timeoutSchema?.maximum);
    for (const [timeout, timeoutMs] of [['1h', LONGEST_QUERY_MS], ['10m', 600_000], ['2 weeks', LONGEST_QUERY_MS], ['1ms', 1], ['0s', 1]] as const) {
      const built = buildRequest('select 1', { ...base, timeout }, now);
      expect(built.ok && built.value.timeoutMs).toBe(timeoutMs);
      // What vwatchd's API does with the body before the store sees it.
      expect(createOptionsValidator().validate(QUERY_REQUEST_SCHEMA, built.ok ? built.value : null).ok).toBe(true);
    }
  });
});

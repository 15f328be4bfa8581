import { describe, expect, it } from 'vitest';
import { buildRequest, csvField, Format, formatBytes, formatDuration, formatResult } from '../src/index.js';

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
  ])('refuses %j', (options, message) => {
    const built = buildRequest('select 1', { ...base, ...options }, now);
    expect(built.ok ? '' : built.status.message).toBe(message);
  });
});


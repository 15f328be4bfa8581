// One output convention for every command (issue: `--format table|json|csv`, `--json` its short
// form, times ISO-8601 UTC in JSON and CSV): each command runs over the worked questions' real
// recording (fixtures/questions) with `--format json`, `--json` and `--format csv`. Each output
// must parse (JSON.parse; csv-parse, RFC 4180), `--json` must print what `--format json` does,
// and every time field must be an ISO-8601 UTC string.
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../src/index.js';

const ISO_UTC = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
/** Field names that hold an instant, in any command's output. */
const TIME_FIELD = /^(ts|at|sampledAt|start_time|valid_from|valid_to|since|until|from|to|first|last|lastWrite|last_write|sampled_at|startedAt|[a-z]+At)$/;
const NOW = Date.parse('2026-12-02T05:00:00Z');
const RANGE = ['--from', '2026-12-02T04:15:00Z', '--to', '2026-12-02T04:16:00Z'];

/** Every command that prints records, with the arguments that make it answer over the fixture. */
const COMMANDS: readonly (readonly string[])[] = [
  ['query', '--at', '2026-12-02T04:15:40Z', 'select pid, start_time, valid_from, comm from processes order by pid'],
  ['query', ...RANGE, '--step', '10s', 'select ts, load1 from load order by ts'],
  ['tables'],
  ['tables', 'processes'],
  ['ps', '--at', '2026-12-02T04:15:40Z'],
  ['ps', '--at', '2026-12-02T04:15:40Z', '--tree', '--user', 'nobody'],
  ['top', '--at', '2026-12-02T04:15:40Z', '-n', '2'],
  ['history', '37', ...RANGE],
  ['diff', ...RANGE],
  ['status'],
];

describe('every command in JSON and CSV', () => {
  const dir = mkdtempSync(join(tmpdir(), 've-formats-'));
  copyFileSync(new URL('./fixtures/questions/vwatchd.db', import.meta.url), join(dir, 'vwatchd.db'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const cli = async (args: readonly string[]): Promise<{ code: number; out: string; err: string }> => {
    let [out, err] = ['', ''];
    const code = await runCli(['node', 'virtualeyes', '--data-dir', dir, ...args], { out: (text) => (out += text), err: (text) => (err += text), now: () => NOW });
    return { code, out, err };
  };

  /** Every (path, value) of a parsed JSON value whose key names an instant. */
  const times = (value: unknown, path = '$'): [string, unknown][] => {
    if (Array.isArray(value)) return value.flatMap((item, index) => times(item, `${path}[${index}]`));
    if (value === null || typeof value !== 'object') return [];
    return Object.entries(value as Record<string, unknown>).flatMap(([key, field]) => [
      ...(TIME_FIELD.test(key) && (typeof field !== 'object' || field === null) ? [[`${path}.${key}`, field] as [string, unknown]] : []),
      ...times(field, `${path}.${key}`),
    ]);
  };

  it.each(COMMANDS.map((args) => [args.join(' '), args] as const))('%s', async (_name, args) => {
    // `status` without a daemon exits 3 (not running) and still prints what the store holds.
    const expected = args[0] === 'status' ? 3 : 0;
    const json = await cli([...args, '--format', 'json']);
    expect(json.code, json.err).toBe(expected);
    const parsed: unknown = JSON.parse(json.out);
    const found = times(parsed);
    expect(found.length, 'a time field in the JSON').toBeGreaterThan(0);
    for (const [path, value] of found) if (value !== null) expect(value, path).toMatch(ISO_UTC);

    const short = await cli([...args, '--json']);
    expect(short.code).toBe(expected);
    expect(short.out).toBe(json.out);

    const csv = await cli([...args, '--format', 'csv']);
    expect(csv.code, csv.err).toBe(expected);
    const rows = parse(csv.out, { columns: true, skip_empty_lines: true, relax_column_count: false }) as Record<string, string>[];
    expect(rows.length, 'CSV rows').toBeGreaterThan(0);
    const columns = Object.keys(rows[0]!).filter((name) => TIME_FIELD.test(name));
    for (const row of rows) for (const column of columns) if (row[column] !== '') expect(row[column], column).toMatch(ISO_UTC);
  });

  it('refuses --json together with --format', async () => {
    const both = await cli(['ps', '--json', '--format', 'csv']);
    expect(both.code).toBe(2);
    expect(both.err).toMatch(/cannot be used with/);
  });
});

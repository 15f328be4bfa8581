// Tables for people show local time, the zone named once (issue: `--utc` to switch), while
// JSON and CSV stay ISO-8601 UTC. This file runs in India's zone (UTC+5:30 all year, so the
// check holds on any date): each command's table output over the worked questions' recording
// must show 04:15:40Z as 09:45:40 and name the zone (ICU calls it Asia/Calcutta); with --utc, UTC.
process.env.TZ = 'Asia/Kolkata';

import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../src/index.js';

describe('local time in the table format', () => {
  const dir = mkdtempSync(join(tmpdir(), 've-local-time-'));
  copyFileSync(new URL('./fixtures/questions/vwatchd.db', import.meta.url), join(dir, 'vwatchd.db'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const cli = async (...args: string[]): Promise<string> => {
    let text = '';
    const code = await runCli(['node', 'virtualeyes', '--data-dir', dir, ...args], { out: (t) => (text += t), err: (t) => (text += t), now: () => Date.parse('2026-12-02T05:00:00Z') });
    expect(code, text).toBe(0);
    return text;
  };

  it('runs in the zone this file set', () => {
    expect(new Date(Date.parse('2026-12-02T04:15:40Z')).getHours()).toBe(9);
  });

  it.each([
    ['query', ['query', '--at', '2026-12-02T04:15:40Z', 'select ts, load1 from load'], /^ts \(GMT\+5:30\) +load1$/m, /2026-12-02 09:45:\d\d\.\d{3}/],
    ['ps', ['ps', '--at', '2026-12-02T04:15:40Z', '-n', '3'], /^as of 2026-12-02 09:45:40\.000 Asia\/(?:Kolkata|Calcutta) \(GMT\+5:30\): sample taken 2026-12-02 09:45:39\.065/m, /  09:44:\d\d  /],
    ['top', ['top', '--at', '2026-12-02T04:15:40Z', '-b', '-n', '1'], /^vm 2026-12-02 09:45:39\.065 GMT\+5:30 · replay/m, /python3/],
    ['diff', ['diff', '--from', '2026-12-02T04:15:08Z', '--to', '2026-12-02T04:15:32Z'], /^changes from 2026-12-02 09:45:08\.000 to 2026-12-02 09:45:32\.000 Asia\/(?:Kolkata|Calcutta) \(GMT\+5:30\)$/m, /\+ pid 36 \(started 09:45:21\)/],
    ['tables', ['tables'], /FIRST \(GMT\+5:30\)/, /2026-12-02 09:44:41\.\d{3}/],
    ['history', ['history', '37', '--from', '2026-12-02T04:15:00Z', '--to', '2026-12-02T04:16:00Z'], /started 2026-12-02 09:45:34\.520 Asia\/(?:Kolkata|Calcutta)/, /gone by 2026-12-02 09:45:52\.053/],
    ['status', ['status'], /2026-12-02 09:44:41 → 2026-12-02 09:47:30 Asia\/(?:Kolkata|Calcutta) \(GMT\+5:30\)/, /hosts: vm/],
  ] as const)('%s', async (name, args, zone, time) => {
    const local = name === 'status' ? await statusText(args) : await cli(...args);
    expect(local).toMatch(zone);
    expect(local).toMatch(time);
    expect(local).not.toMatch(/04:15:40/);
    const utc = name === 'status' ? await statusText([...args, '--utc']) : await cli(...args, '--utc');
    expect(utc).toMatch(/UTC/);
    expect(utc).not.toMatch(/GMT\+5:30|Kolkata|Calcutta/);
  });

  it('keeps JSON in ISO-8601 UTC', async () => {
    const json = JSON.parse(await cli('query', '--at', '2026-12-02T04:15:40Z', 'select ts from load', '--json')) as { ts: string }[];
    expect(json[0]!.ts).toMatch(/^2026-12-02T04:15:\d\d\.\d{3}Z$/);
  });

  /** `status` exits 3 without a daemon; what it prints is what is checked. */
  async function statusText(args: readonly string[]): Promise<string> {
    let text = '';
    const code = await runCli(['node', 'virtualeyes', '--data-dir', dir, ...args], { out: (t) => (text += t), err: (t) => (text += t), now: () => Date.parse('2026-12-02T05:00:00Z') });
    expect(code).toBe(3);
    return text;
  }
});

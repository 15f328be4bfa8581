// `virtualeyes top` without a terminal: its frames loaded from the worked questions' real
// DuckDB recording (facts in fixtures/questions), drawn as lines, stepped with the replay keys,
// and printed by the CLI in batch mode as text, JSON and CSV. The full-screen view under tmux
// is the daemon's test (packages/vwatchd/test/top.test.ts).
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StoreReader } from '@virtualeyes/core';
import { loadHostConfig } from '@virtualeyes/protocol';
import { openOfflineReader, runCli } from '../src/index.js';
import { loadFrame, wholeDisks, type TopFrame } from '../src/top/frame.js';
import { applyKey } from '../src/top/keys.js';
import { initialView, renderFrame, visibleProcesses } from '../src/top/render.js';
import { frameProblem, neighbourSample } from '../src/top/session.js';

const FIXTURE = new URL('./fixtures/questions/vwatchd.db', import.meta.url);
/** While ve-q-spin (pid 34) burned a CPU and ve-q-writer (pid 37) wrote its 64 MiB. */
const AT = Date.parse('2026-12-02T04:15:40Z');
const FIRST_SAMPLE = Date.parse('2026-12-02T04:14:41.569Z');
const WINDOW = 5 * 60_000;
// Raw controls and bidi characters; the lines may only hold printable text.
const RAW = /[\p{Cc}\p{Cf}]/u;

describe('top', () => {
  const dir = mkdtempSync(join(tmpdir(), 've-top-'));
  let reader: StoreReader;

  beforeAll(async () => {
    copyFileSync(FIXTURE, join(dir, 'vwatchd.db'));
    const config = loadHostConfig({ dataDir: dir });
    if (!config.ok) throw new Error(config.status.message);
    const opened = await openOfflineReader(config.value);
    if (!opened.ok) throw new Error(opened.status.message);
    reader = opened.value;
  });

  afterAll(async () => {
    await reader.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const frameAt = async (at: number): Promise<TopFrame> => {
    const frame = await loadFrame(reader, { at, stalenessMs: WINDOW });
    if (!frame.ok) throw new Error(frame.status.message);
    return frame.value;
  };

  it('loads the processes and the header of the sample at an instant from the recorded tables', async () => {
    const frame = await frameAt(AT);
    expect(frame.host).toBe('vm');
    expect(frame.sampledAt).toBeLessThanOrEqual(AT);
    expect(AT - frame.sampledAt).toBeLessThan(1500);
    // The store sampled every second.
    expect(frame.intervalMs).toBeGreaterThan(500);
    expect(frame.intervalMs).toBeLessThan(1500);
    expect(frame.processes.map((row) => row['pid']).sort((a, b) => Number(a) - Number(b))).toEqual([1, 13, 30, 31, 32, 33, 34, 36, 37]);
    // 2 vCPUs: 'all' first, then each; busy within 0..100.
    expect(frame.cpus.map((cpu) => cpu.cpu)).toEqual(['all', '0', '1']);
    for (const cpu of frame.cpus) {
      expect(cpu.busy).toBeGreaterThanOrEqual(0);
      expect(cpu.busy).toBeLessThanOrEqual(100.0001);
      expect(cpu.user + cpu.system + cpu.iowait).toBeLessThanOrEqual(100.0001);
    }
    expect(frame.memory!.total).toBeGreaterThan(frame.memory!.available);
    expect(frame.load!.load1).toBeGreaterThan(0);
    // The fixture holds no pressure, disk or network table: those parts are left out.
    expect(frame.pressure).toBeUndefined();
    expect(frame.disk).toBeUndefined();
  });

  it('says NOT_FOUND before the recording began', async () => {
    const frame = await loadFrame(reader, { at: FIRST_SAMPLE - 10 * WINDOW, stalenessMs: WINDOW });
    expect(frame.ok ? 'OK' : frame.status.code).toBe('NOT_FOUND');
    const other = await loadFrame(reader, { at: AT, stalenessMs: WINDOW, host: 'elsewhere' });
    expect(other.ok ? 'OK' : other.status.message).toMatch(/no process sample of host elsewhere/);
  });

  it('draws an 80x24 screen: title, CPU and memory lines, column header, processes, none wider than 80', async () => {
    const frame = await frameAt(AT);
    const lines = renderFrame(frame, initialView({ mode: 'replay' }), 80, 24);
    expect(lines).toHaveLength(24);
    for (const line of lines) expect([...line].length).toBeLessThanOrEqual(80);
    expect(lines[0]).toMatch(/^vm 2026-12-02 04:15:39\.\d{3} UTC · replay/);
    expect(lines[0]).toContain('sort cpu');
    expect(lines[1]).toMatch(/^CPU \d+\.\d% us \d+ sy \d+ wa \d+ st \d+ │ LOAD \d+\.\d\d/);
    expect(lines[2]).toMatch(/^MEM [\d.]+[KMGT] used .* │ SWAP /);
    expect(lines[3]).toMatch(/PID USER +%CPU +RSS READ\/s WRIT\/s S COMMAND/);
    // The busy loop first, by CPU.
    expect(lines[4]).toMatch(/^ +34 root +\d+\.\d .* R python3 -c while True/);
    expect(lines.slice(4).filter((line) => /^ +\d+ /.test(line))).toHaveLength(9);
  });

  it('sorts by memory and io, filters by text and user, and shows the tree', async () => {
    const frame = await frameAt(AT);
    const pids = (view: ReturnType<typeof initialView>): unknown[] => visibleProcesses(frame, view).map((row) => row['pid']);
    expect(pids(initialView({ mode: 'live', sort: 'rss' }))[0]).toBe(30); // the 1 GiB memhog
    expect(pids(initialView({ mode: 'live', sort: 'io' }))[0]).toBe(37); // the writer
    expect(pids(initialView({ mode: 'live', filter: 'WORKER' })).sort()).toEqual([31, 32, 33]);
    expect(pids(initialView({ mode: 'live', user: 'nobody' })).sort()).toEqual([31, 32, 33]);
    const tree = visibleProcesses(frame, initialView({ mode: 'live', tree: true }));
    expect(tree[0]!['pid']).toBe(1);
    expect(tree.slice(1).every((row) => row['depth'] === 1)).toBe(true);
    const lines = renderFrame(frame, initialView({ mode: 'live', tree: true }), 80, 24);
    expect(lines.find((line) => /^ +34 /.test(line))).toContain('└─ python3');
  });

  it('fills a screen with as many processes as fit, scrolls, and cuts every line to the width', () => {
    const processes = Array.from({ length: 60 }, (_, index) => ({
      host: 'h', pid: index + 1, user: 'u', cpu_pct: 60 - index, rss: 1 << 20, state: 'S', ppid: 0, comm: 'x', cmdline: `proc-${index + 1} ${'a'.repeat(200)}`,
      read_bytes_rate: null, write_bytes_rate: null, start_time: '2026-12-02T04:00:00.000Z', sampled_at: '2026-12-02T04:15:40.000Z',
    }));
    const frame: TopFrame = { host: 'h', hosts: ['h'], at: AT, sampledAt: AT, intervalMs: 1000, cpus: [], processes, truncated: false };
    const lines = renderFrame(frame, initialView({ mode: 'live' }), 80, 24);
    expect(lines).toHaveLength(24);
    expect(lines.filter((line) => /^ +\d+ u /.test(line))).toHaveLength(20);
    expect(lines.every((line) => [...line].length <= 80)).toBe(true);
    const scrolled = renderFrame(frame, initialView({ mode: 'live', scroll: 5 }), 80, 24);
    expect(scrolled[4]).toMatch(/^ +6 u /);
    // A prompt takes the last line and one process row.
    const prompting = renderFrame(frame, initialView({ mode: 'live', prompt: { label: 'filter', text: 'ab' } }), 80, 24);
    expect(prompting[23]).toBe('filter: ab_');
    expect(prompting.filter((line) => /^ +\d+ u /.test(line))).toHaveLength(19);
    // Batch output: every process.
    expect(renderFrame(frame, initialView({ mode: 'live' }), 80, Infinity).filter((line) => /^ +\d+ u /.test(line))).toHaveLength(60);
  });

  it('never prints a recorded control or bidi character raw', () => {
    const hostile = '\x1b[2J\x1b]0;owned\x07\u202eevil\u009b31m\r\nnext';
    const processes = [{ host: `h\x1b[1m`, pid: 7, user: `u\x1b[5m`, cpu_pct: 1, rss: 1, state: 'S\x1b', ppid: 0, comm: hostile, cmdline: hostile, read_bytes_rate: 1, write_bytes_rate: 1 }];
    const frame: TopFrame = { host: 'h\x1b[1m', hosts: ['h\x1b[1m'], at: AT, sampledAt: AT, intervalMs: 1000, cpus: [], processes, truncated: false };
    const lines = renderFrame(frame, initialView({ mode: 'live', filter: '\x1b[3m', prompt: { label: 'filter', text: '\u202e\x07' } }), 200, 24);
    for (const line of lines) expect(line).not.toMatch(RAW);
    expect(renderFrame(frame, initialView({ mode: 'live' }), 200, 24).join('\n')).toContain('\\e[2J\\e]0;owned\\x07\\u202eevil\\u009b31m\\r\\nnext');
  });

  it('keys: s cycles the sort, m sorts by memory, / types a filter that Enter applies and Esc drops, q quits', () => {
    let view = initialView({ mode: 'live' });
    view = applyKey(view, 's', 20).view;
    expect(view.sort).toBe('rss');
    view = applyKey(view, 's', 20).view;
    expect(view.sort).toBe('io');
    view = applyKey(view, 'c', 20).view;
    expect(view.sort).toBe('cpu');
    view = applyKey(view, 'm', 20).view;
    expect(view.sort).toBe('rss');
    for (const key of ['/', 'p', 'y', 'x', 'BACKSPACE', 'ENTER']) view = applyKey(view, key, 20).view;
    expect(view.filter).toBe('py');
    expect(view.prompt).toBeUndefined();
    for (const key of ['/', 'z', 'ESCAPE']) view = applyKey(view, key, 20).view;
    expect(view.filter).toBe('py');
    // A key typed into a prompt is text, not a command.
    for (const key of ['u', 'q', 'ENTER']) view = applyKey(view, key, 20).view;
    expect(view.user).toBe('q');
    expect(applyKey(view, 'z', 20).view.paused).toBe(true);
    expect(applyKey(applyKey(view, 'z', 20).view, 'z', 20).action.kind).toBe('resume');
    expect(applyKey(view, 'd', 20).view.prompt?.label).toBe('interval');
    expect(applyKey(view, 'q', 20).action.kind).toBe('quit');
    expect(applyKey(applyKey(view, '/', 20).view, 'CTRL_C', 20).action.kind).toBe('quit');
    // Help closes on any key, which does nothing else.
    const help = applyKey(view, '?', 20).view;
    expect(help.help).toBe(true);
    expect(applyKey(help, 'q', 20)).toEqual({ view: { ...help, help: false }, action: { kind: 'none' } });
    // Paging moves by a screen of rows; the stepping keys are replay's.
    expect(applyKey(view, 'PAGE_DOWN', 20).view.scroll).toBe(20);
    expect(applyKey(view, 't', 20).action.kind).toBe('none');
  });

  it('replay keys: t and T step to the previous and next sample, [ ] { } jump a minute and an hour, b asks for a time', () => {
    const view = initialView({ mode: 'replay' });
    expect(applyKey(view, 't', 20).action).toEqual({ kind: 'step', direction: -1 });
    expect(applyKey(view, 'LEFT', 20).action).toEqual({ kind: 'step', direction: -1 });
    expect(applyKey(view, 'T', 20).action).toEqual({ kind: 'step', direction: 1 });
    expect(applyKey(view, ']', 20).action).toEqual({ kind: 'jump', ms: 60_000 });
    expect(applyKey(view, '{', 20).action).toEqual({ kind: 'jump', ms: -3_600_000 });
    let typed = applyKey(view, 'b', 20).view;
    for (const key of [...'04:15']) typed = applyKey(typed, key, 20).view;
    expect(applyKey(typed, 'ENTER', 20).action).toEqual({ kind: 'goto', text: '04:15' });
    expect(applyKey(view, 'z', 20).view.paused).toBe(false);
  });

  it('finds the samples before and after the one shown, and none before the first', async () => {
    const frame = await frameAt(AT);
    const before = await neighbourSample(reader, frame, -1, Date.now());
    const after = await neighbourSample(reader, frame, 1, Date.now());
    if (!before.ok || !after.ok) throw new Error('neighbour sample failed');
    expect(frame.sampledAt - before.value!).toBe(frame.intervalMs);
    expect(after.value! - frame.sampledAt).toBeGreaterThan(500);
    expect(after.value! - frame.sampledAt).toBeLessThan(1500);
    expect((await frameAt(before.value!)).sampledAt).toBe(before.value);
    const first = await frameAt(FIRST_SAMPLE);
    expect(first.sampledAt).toBe(FIRST_SAMPLE);
    const none = await neighbourSample(reader, first, -1, Date.now());
    expect(none.ok && none.value).toBeUndefined();
  });

  it('says on its last line that the daemon went away, and other failures as one Status line', () => {
    expect(frameProblem({ code: 'NOT_FOUND', message: 'connect /d/vwatchd.sock: connect ENOENT /d/vwatchd.sock', retryable: false, op: 'connect /d/vwatchd.sock' })).toBe(
      'vwatchd stopped answering (NOT_FOUND): the frame shown is the last it gave; restart top to read the store file, q quits',
    );
    expect(frameProblem({ code: 'UNAVAILABLE', message: 'refused', retryable: true, op: 'connect /d/vwatchd.sock' })).toMatch(/^vwatchd stopped answering \(UNAVAILABLE\)/);
    expect(frameProblem({ code: 'NOT_FOUND', message: 'no process sample in the 5m up to x', retryable: false, source: 'top' })).toBe('NOT_FOUND: no process sample in the 5m up to x');
  });

  it('tells whole disks from partitions', () => {
    expect([...wholeDisks(new Set(['vda', 'vda1', 'vda15', 'nvme0n1', 'nvme0n1p1', 'loop0', 'sdb', 'mmcblk0', 'mmcblk0p2', 'dm-0']))].sort()).toEqual(['dm-0', 'mmcblk0', 'nvme0n1', 'sdb', 'vda']);
  });

  describe('the CLI in batch mode', () => {
    const cli = async (...args: string[]): Promise<{ code: number; out: string; err: string }> => {
      let [out, err] = ['', ''];
      const code = await runCli(['node', 'virtualeyes', '--data-dir', dir, ...args], { out: (text) => (out += text), err: (text) => (err += text), now: () => Date.parse('2026-12-02T05:00:00Z') });
      return { code, out, err };
    };

    it('prints consecutive samples as plain frames (-b -n 3), without a terminal escape', async () => {
      const { code, out, err } = await cli('top', '--at', '2026-12-02T04:15:40Z', '-b', '-n', '3', '--width', '80');
      expect(err).toBe('');
      expect(code).toBe(0);
      expect(out).not.toMatch(/\x1b/);
      const titles = out.split('\n').filter((line) => /^vm \d{4}-/.test(line));
      expect(titles).toHaveLength(3);
      const times = titles.map((line) => Date.parse(`${line.slice(3, 26).replace(' ', 'T')}Z`));
      expect(times[1]! - times[0]!).toBeGreaterThan(500);
      expect(times[1]! - times[0]!).toBeLessThan(1500);
      expect(times[2]! - times[1]!).toBeGreaterThan(500);
      expect(out.split('\n').every((line) => [...line].length <= 80)).toBe(true);
    });

    it('prints frames as JSON (an array) and their processes as CSV, times in ISO-8601 UTC', async () => {
      const json = await cli('top', '--at', '2026-12-02T04:15:40Z', '-n', '2', '--json', '--sort', 'io');
      expect(json.code).toBe(0);
      const frames = JSON.parse(json.out) as { host: string; sampledAt: string; processes: { pid: number; start_time: string; write_bytes_rate: number }[] }[];
      expect(frames).toHaveLength(2);
      expect(frames[0]!.sampledAt).toMatch(/^2026-12-02T04:15:39\.\d{3}Z$/);
      expect(frames[0]!.processes[0]!.pid).toBe(37);
      expect(frames[0]!.processes[0]!.start_time).toMatch(/Z$/);
      const csv = await cli('top', '--at', '2026-12-02T04:15:40Z', '-n', '2', '--format', 'csv');
      const rows = csv.out.trim().split('\r\n');
      expect(rows[0]).toMatch(/^host,pid,user,cpu_pct,/);
      // One header, then 9 processes per frame.
      expect(rows).toHaveLength(1 + 18);
    });

    it('refuses a bad interval, time or count with exit 2, and says when nothing was recorded then', async () => {
      expect((await cli('top', '-b', '-i', '10ms')).err).toMatch(/--interval must be at least 200 ms/);
      expect((await cli('top', '-b', '--at', 'whenever')).code).toBe(2);
      expect((await cli('top', '-b', '-n', '0')).code).toBe(2);
      const early = await cli('top', '-b', '--at', '2026-12-01T00:00:00Z');
      expect(early.code).toBe(1);
      expect(early.err).toMatch(/^virtualeyes: .*record/);
    });
  });
});

// `virtualeyes top` as a user at a terminal sees it: the real daemon records every second, and
// the real CLI draws in a real tmux pane of 80x24. The test reads the pane back after each key:
// the header and at least 20 processes, `m` and `s` changing the sort, `/` filtering, `q`
// restoring the shell's screen; then the replay from a few seconds ago, where `t` moves the
// header's time back by one sample. Batch output to a file has no escape code. Needs
// `npx tsc -b` first, and tmux (CI installs it; elsewhere the test skips without it).
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sleep, startDaemon, VIRTUALEYES, type TestDaemon } from './helpers.js';

const hasTmux = spawnSync('tmux', ['-V']).status === 0;
if (!hasTmux && process.env.CI === 'true') throw new Error('the top test needs tmux in CI (.ci/run installs it)');

/** A private tmux server, so the test never touches a user's sessions. */
const SERVER = `ve-top-${process.pid}`;
const tmux = (...args: string[]): string => execFileSync('tmux', ['-L', SERVER, ...args], { encoding: 'utf8' });
const pane = (): string[] => tmux('capture-pane', '-p', '-t', 'T').split('\n');
const flag = (name: string): string => tmux('display', '-p', '-t', 'T', `#{${name}}`).trim();

/** Polls the pane until `test` holds (or 10 s pass); returns the last lines read. */
async function waitPane(test: (lines: string[]) => boolean, what: string): Promise<string[]> {
  const until = Date.now() + 10_000;
  let lines = pane();
  while (!test(lines) && Date.now() < until) {
    await sleep(100);
    lines = pane();
  }
  if (!test(lines)) throw new Error(`the pane never showed ${what}:\n${lines.join('\n')}`);
  return lines;
}

const TITLE = /^\S+ (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d{3})?) \S+ · (live|replay|paused)/;
const PROCESS = /^ +(\d+) \S+ +[\d.-]+ +(\S+) /;

/** Bytes from top's 5-character sizes (912B, 1.5K, 23M). */
function sizeOf(text: string): number {
  const match = /^([\d.]+)([BKMGTP]?)$/.exec(text);
  if (match === null) return text === '0' ? 0 : Number.NaN;
  return Number(match[1]) * 1024 ** 'BKMGTP'.indexOf(match[2] === '' ? 'B' : match[2]!);
}

describe.skipIf(process.platform !== 'linux' || !hasTmux)('virtualeyes top in an 80x24 terminal', () => {
  let daemon: TestDaemon;
  let command = '';

  beforeAll(async () => {
    daemon = await startDaemon('ve-top-', 1000);
    command = `${process.execPath} ${VIRTUALEYES} --config ${daemon.config} --data-dir ${daemon.dataDir}`;
    tmux('new-session', '-d', '-s', 'T', '-x', '80', '-y', '24', 'env', 'PS1=SHELL$ ', 'TERM=xterm-256color', 'bash', '--norc', '--noprofile');
    // A few samples, for CPU% and for the replay to step back through.
    await sleep(4000);
  }, 60_000);

  afterAll(async () => {
    spawnSync('tmux', ['-L', SERVER, 'kill-server']);
    await daemon.stop();
  });

  it('draws the header and 20 processes, sorts on m and s, filters on /, and q gives the shell back', async () => {
    tmux('send-keys', '-t', 'T', `${command} top`, 'Enter');
    let lines = await waitPane((shown) => TITLE.test(shown[0] ?? '') && shown.filter((line) => PROCESS.test(line)).length >= 20, 'a frame');
    expect(flag('alternate_on')).toBe('1');
    expect(lines[0]).toMatch(/ · live 2s · sort cpu · \d+ procs · \? help$/);
    expect(lines[1]).toMatch(/^CPU \d+\.\d% us \d+ sy \d+ wa \d+ st \d+ │ LOAD /);
    expect(lines[2]).toMatch(/^MEM \S+ used \S+ avail/);
    expect(lines[3]).toMatch(/PID USER +%CPU +RSS READ\/s WRIT\/s S COMMAND/);
    expect(lines.filter((line) => PROCESS.test(line)).length).toBeGreaterThanOrEqual(20);
    expect(lines.every((line) => [...line].length <= 80)).toBe(true);

    tmux('send-keys', '-t', 'T', 'm');
    lines = await waitPane((shown) => / · sort rss · /.test(shown[0] ?? ''), 'sort rss');
    const sizes = lines.map((line) => PROCESS.exec(line)?.[2]).filter((rss) => rss !== undefined).map(sizeOf);
    expect(sizes.length).toBeGreaterThanOrEqual(20);
    // Largest first (to the precision shown).
    for (let index = 1; index < sizes.length; index += 1) expect(sizes[index]!).toBeLessThanOrEqual(sizes[index - 1]! * 1.06);
    tmux('send-keys', '-t', 'T', 's');
    await waitPane((shown) => / · sort io · /.test(shown[0] ?? ''), 'sort io');

    tmux('send-keys', '-t', 'T', '/');
    tmux('send-keys', '-t', 'T', '-l', 'vwatchd.js');
    await waitPane((shown) => shown[23] === 'filter: vwatchd.js_', 'the filter prompt');
    tmux('send-keys', '-t', 'T', 'Enter');
    lines = await waitPane((shown) => / \/vwatchd\.js · \d+ procs/.test(shown[0] ?? ''), 'the filter applied');
    const pids = lines.map((line) => PROCESS.exec(line)?.[1]).filter((pid) => pid !== undefined).map(Number);
    expect(pids).toContain(daemon.child.pid);
    expect(pids.length).toBe(Number(/ (\d+) procs/.exec(lines[0]!)![1]));

    tmux('send-keys', '-t', 'T', 'q');
    await waitPane(() => flag('alternate_on') === '0', 'the normal screen');
    tmux('send-keys', '-t', 'T', 'echo STILL_$((1+1))', 'Enter');
    lines = await waitPane((shown) => shown.includes('STILL_2'), 'the shell answering');
    expect(lines.some((line) => line.startsWith('SHELL$ '))).toBe(true);
  }, 60_000);

  it('replays from an instant: t moves the header to the sample before, one interval back', async () => {
    tmux('send-keys', '-t', 'T', 'clear', 'Enter');
    tmux('send-keys', '-t', 'T', `${command} top --at '2s ago' --utc`, 'Enter');
    const first = await waitPane((shown) => TITLE.exec(shown[0] ?? '')?.[2] === 'replay', 'a replay frame');
    const shownAt = (line: string): number => Date.parse(`${TITLE.exec(line)![1]!.replace(' ', 'T')}Z`);
    const t1 = shownAt(first[0]!);
    tmux('send-keys', '-t', 'T', 't');
    const second = await waitPane((shown) => TITLE.test(shown[0] ?? '') && shownAt(shown[0]!) !== t1, 'the previous sample');
    const step = t1 - shownAt(second[0]!);
    // The daemon samples every second; the step is one sample, whatever its jitter.
    expect(step).toBeGreaterThan(500);
    expect(step).toBeLessThan(1500);
    tmux('send-keys', '-t', 'T', 'T');
    const back = await waitPane((shown) => TITLE.test(shown[0] ?? '') && shownAt(shown[0]!) === t1, 'the next sample');
    expect(back[0]).toContain('replay');
    tmux('send-keys', '-t', 'T', 'q');
    await waitPane(() => flag('alternate_on') === '0', 'the normal screen');
  }, 60_000);

  it('writes two plain-text frames to a file with -b -n 2, without an escape code', () => {
    const file = join(daemon.dataDir, 'frames.txt');
    const result = spawnSync(process.execPath, [VIRTUALEYES, '--config', daemon.config, '--data-dir', daemon.dataDir, 'top', '-b', '-n', '2', '-i', '500ms'], { encoding: 'utf8', timeout: 30_000 });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    writeFileSync(file, result.stdout);
    const text = readFileSync(file, 'utf8');
    expect(text).not.toMatch(/\x1b/);
    expect(text.split('\n').filter((line) => TITLE.test(line))).toHaveLength(2);
    expect(text.split('\n').filter((line) => PROCESS.test(line)).length).toBeGreaterThanOrEqual(40);
  });
});

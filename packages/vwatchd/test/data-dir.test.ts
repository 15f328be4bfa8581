// The data directory is private: created 0750 or tightened to it, files in it 0640 at most (also
// what DuckDB creates while recording), and a directory that cannot be made private (foreign
// owner, a shared sticky directory) refused with one line. Real directories, a real daemon.
import { execFile, spawn } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { prepareDataDir } from '../src/data-dir.js';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const VWATCHD = join(root, 'packages/vwatchd/bin/vwatchd.js');
const isRoot = process.geteuid?.() === 0;
/** The nobody user, a uid that is certainly not this test's. */
const OTHER_UID = 65_534;

const made: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 've-datadir-'));
  made.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

const modeOf = (path: string): number => statSync(path).mode & 0o7777;

describe('prepareDataDir', () => {
  it('creates a missing directory, and its parents, 0750', () => {
    const dir = join(tempDir(), 'a', 'b');
    const previous = process.umask(0o027);
    const prepared = prepareDataDir(dir);
    process.umask(previous);
    expect(prepared).toMatchObject({ ok: true, value: { created: true, shared: false } });
    expect(modeOf(dir)).toBe(0o750);
  });

  it('tightens a 0777 directory and the loose files and folders in it, but not a socket', async () => {
    const dir = tempDir();
    chmodSync(dir, 0o777);
    writeFileSync(join(dir, 'vwatchd.db'), 'x', { mode: 0o644 });
    writeFileSync(join(dir, 'vwatchd.db.wal'), 'x', { mode: 0o666 });
    writeFileSync(join(dir, 'private'), 'x', { mode: 0o600 });
    mkdirSync(join(dir, 'vwatchd.db.tmp'));
    chmodSync(join(dir, 'vwatchd.db.tmp'), 0o777);
    writeFileSync(join(dir, 'vwatchd.db.tmp', 'spill'), 'x', { mode: 0o646 });
    chmodSync(join(dir, 'vwatchd.db.wal'), 0o666); // writeFileSync's mode is filtered by the umask
    chmodSync(join(dir, 'vwatchd.db.tmp', 'spill'), 0o646);
    const socket = join(dir, 'vwatchd.sock');
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(socket, resolve));
    chmodSync(socket, 0o660);

    const prepared = prepareDataDir(dir);
    server.close();
    expect(prepared.ok).toBe(true);
    expect(modeOf(dir)).toBe(0o750);
    expect(modeOf(join(dir, 'vwatchd.db'))).toBe(0o640);
    expect(modeOf(join(dir, 'vwatchd.db.wal'))).toBe(0o640);
    expect(modeOf(join(dir, 'private'))).toBe(0o600);
    expect(modeOf(join(dir, 'vwatchd.db.tmp'))).toBe(0o750);
    expect(modeOf(join(dir, 'vwatchd.db.tmp', 'spill'))).toBe(0o640);
    if (prepared.ok) expect(prepared.value.tightened).toContain(`${dir}: 0777 -> 0750`);
  });

  it('refuses a shared sticky directory such as /tmp unless told it is shared', () => {
    const dir = tempDir();
    chmodSync(dir, 0o1777);
    const refused = prepareDataDir(dir);
    expect(refused).toMatchObject({ ok: false, status: { code: 'INVALID_CONFIG', message: expect.stringContaining('is shared and world-writable (mode 01777)') } });
    expect(modeOf(dir)).toBe(0o1777);
    expect(prepareDataDir(dir, { shared: true })).toMatchObject({ ok: true, value: { shared: true } });
    expect(modeOf(dir)).toBe(0o1777);
  });

  it('refuses a path that is a file', () => {
    const file = join(tempDir(), 'file');
    writeFileSync(file, 'x');
    expect(prepareDataDir(file)).toMatchObject({ ok: false, status: { code: 'INVALID_CONFIG', message: `data directory ${file} is not a directory` } });
  });

  it.runIf(isRoot || process.env.CI === 'true')('refuses a directory another user owns, and leaves it alone (needs root to chown)', () => {
    const dir = tempDir();
    chmodSync(dir, 0o777);
    chownSync(dir, OTHER_UID, OTHER_UID);
    const refused = prepareDataDir(dir);
    expect(refused).toMatchObject({ ok: false, status: { code: 'INVALID_CONFIG', message: expect.stringContaining(`is owned by uid ${OTHER_UID}`) } });
    expect(modeOf(dir)).toBe(0o777);
  });
});

function run(args: readonly string[]): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [VWATCHD, ...args], { timeout: 30_000 }, (error, _stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : 1, stderr });
    });
  });
}

describe('vwatchd and its data directory', () => {
  it('refuses a shared sticky data directory with exit 2 and one line', async () => {
    const dir = tempDir();
    chmodSync(dir, 0o1777);
    const result = await run(['--data-dir', dir, '--check']);
    expect(result.code).toBe(2);
    expect(result.stderr.trim().split('\n')).toEqual([
      `vwatchd: data directory ${dir} is shared and world-writable (mode 01777); use a private subdirectory such as ${join(dir, 'vwatchd')}, or pass --shared-data-dir to record there anyway`,
    ]);
  });

  it('records with the directory 0750 and every file it creates 0640, even from a loose directory', async () => {
    const dir = tempDir();
    chmodSync(dir, 0o777);
    const config = join(dir, 'vwatchd.conf');
    writeFileSync(config, JSON.stringify({ probes: [{ use: '@virtualeyes/probe-procfs', intervals: { processes: 1000, process_stats: 1000 } }] }));
    chmodSync(config, 0o666);
    // Run with a permissive umask, as a careless service manager might.
    const previous = process.umask(0);
    const child = spawn(process.execPath, [VWATCHD, '--config', config, '--data-dir', dir], { stdio: ['ignore', 'ignore', 'pipe'] });
    process.umask(previous);
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    const until = Date.now() + 30_000;
    while (!stderr.includes('Recording into') && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 100));
    await new Promise((resolve) => setTimeout(resolve, 2500));
    const whileRunning = readdirSync(dir).map((name) => [name, modeOf(join(dir, name))] as const);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(stderr).toContain(`Made private: ${dir}: 0777 -> 0750`);
    expect(modeOf(dir)).toBe(0o750);
    const names = whileRunning.map(([name]) => name);
    expect(names).toEqual(expect.arrayContaining(['vwatchd.db', 'vwatchd.db.wal', 'vwatchd.sock']));
    for (const [name, mode] of whileRunning) {
      if (name === 'vwatchd.sock') expect(mode, name).toBe(0o660);
      else if (name === 'vwatchd.conf') expect(mode, name).toBe(0o640);
      else expect(mode & 0o137, `${name} is ${mode.toString(8)}`).toBe(0);
    }
    for (const name of readdirSync(dir)) expect(modeOf(join(dir, name)) & 0o137, name).toBe(0);
  });
});

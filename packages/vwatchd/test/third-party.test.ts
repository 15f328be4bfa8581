// A third party's probe, shipped as a tarball: examples/probe-hello is built, packed with
// `npm pack`, installed into a scratch folder beside the published-shape core (the folder a user's
// plugins live in), and a vwatchd started there with a config naming it records rows that
// `virtualeyes query --at` returns. Needs `npm run build` (the example builds with the workspace).
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const VWATCHD = join(root, 'packages/vwatchd/bin/vwatchd.js');
const VIRTUALEYES = join(root, 'packages/virtualeyes/bin/virtualeyes.js');

describe.skipIf(process.platform !== 'linux')('a third-party probe installed from its tarball', () => {
  const scratch = mkdtempSync(join(tmpdir(), 've-third-party-'));
  const dataDir = join(scratch, 'data');
  const config = join(scratch, 'vwatchd.conf');
  let daemon: ChildProcess;
  let stderr = '';
  let exited: Promise<number | null>;
  const cli = (...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> =>
    new Promise((resolve) => {
      execFile(process.execPath, [VIRTUALEYES, '--config', config, '--data-dir', dataDir, ...args], { timeout: 60_000 }, (error, stdout, errors) => {
        resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : 1, stdout, stderr: errors });
      });
    });

  beforeAll(async () => {
    const packed = JSON.parse(execFileSync('npm', ['pack', '--json', '--pack-destination', scratch, join(root, 'examples/probe-hello')], { cwd: scratch, encoding: 'utf8' })) as { filename: string }[];
    const tarball = join(scratch, packed[0]!.filename);
    // The user's folder: the plugin from its tarball, and core as published (here, the workspace's
    // built package, linked after the install, which would remove what it did not install).
    writeFileSync(join(scratch, 'package.json'), JSON.stringify({ name: 'my-agent', private: true }));
    execFileSync('npm', ['install', '--no-save', '--legacy-peer-deps', '--no-audit', '--no-fund', '--offline', tarball], { cwd: scratch, stdio: 'ignore' });
    mkdirSync(join(scratch, 'node_modules/@virtualeyes'), { recursive: true });
    symlinkSync(join(root, 'packages/core'), join(scratch, 'node_modules/@virtualeyes/core'));
    writeFileSync(config, JSON.stringify({ probes: [{ use: 'probe-hello' }] }));
    daemon = spawn(process.execPath, [VWATCHD, '--config', config, '--data-dir', dataDir], { cwd: scratch, stdio: ['ignore', 'ignore', 'pipe'] });
    daemon.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    exited = new Promise((resolve) => daemon.once('exit', resolve));
    const until = Date.now() + 30_000;
    for (;;) {
      const result = await cli('query', 'select count(*) as n from hello', '--format', 'json');
      if (result.code === 0 && (JSON.parse(result.stdout) as { n: number }[])[0]!.n >= 3) break;
      if (Date.now() > until || daemon.exitCode !== null) throw new Error(`hello never filled; daemon stderr:\n${stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }, 90_000);

  afterAll(async () => {
    if (daemon !== undefined && daemon.exitCode === null) {
      daemon.kill('SIGTERM');
      await exited;
    }
    rmSync(scratch, { recursive: true, force: true });
  });

  it('shows the plugin, at the version of its package.json, in the boot tree', () => {
    expect(stderr).toMatch(/probe hello \(probe-hello@1\.0\.0\) \d+ ms/);
  });

  it('records rows that `virtualeyes query --at` returns', async () => {
    const result = await cli('query', '--at', '1s ago', 'select uptime, load1, load5, load15 from hello', '--format', 'json');
    expect(result.stderr).toBe('');
    const rows = JSON.parse(result.stdout) as { uptime: number; load1: number }[];
    expect(rows).toHaveLength(1);
    expect(rows[0]!.uptime).toBeGreaterThan(0);
    expect(rows[0]!.load1).toBeGreaterThanOrEqual(0);
  });
});

// The install a user does outside this repository: `npm run pack`'s tarball (scripts/pack.mjs)
// installed with `npm install -g` into a fresh prefix, offline (the tarball bundles everything),
// then vwatchd and virtualeyes run from PATH in a folder that is not the repository: their
// versions, the plugins they load (the boot tree of `vwatchd --check`), and a query of a store
// that daemon recorded. Needs `npx tsc -b` first; takes about a minute (packing, installing).
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sleep } from './helpers.js';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const version = (JSON.parse(execFileSync(process.execPath, ['-p', `JSON.stringify(require('${join(root, 'packages/vwatchd/package.json')}'))`], { encoding: 'utf8' })) as { version: string }).version;

describe.skipIf(process.platform !== 'linux')('npm install -g of the packed host tarball', () => {
  const work = mkdtempSync(join(tmpdir(), 've-install-'));
  const prefix = join(work, 'prefix');
  const elsewhere = mkdtempSync(join(tmpdir(), 've-elsewhere-'));
  const env = { ...process.env, PATH: `${join(prefix, 'bin')}${delimiter}${process.env.PATH ?? ''}` };
  const run = (command: string, args: readonly string[]) => spawnSync(command, args, { cwd: elsewhere, env, encoding: 'utf8', timeout: 60_000 });

  beforeAll(() => {
    const tarball = execFileSync(process.execPath, [join(root, 'scripts/pack.mjs'), join(work, 'out')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    expect(tarball).toMatch(new RegExp(`virtualeyes-host-${version.replace(/\./g, '\\.')}\\.tgz$`));
    execFileSync('npm', ['install', '-g', '--prefix', prefix, '--offline', '--no-audit', '--no-fund', tarball], { cwd: elsewhere, stdio: 'ignore' });
  }, 240_000);

  afterAll(() => {
    rmSync(work, { recursive: true, force: true });
    rmSync(elsewhere, { recursive: true, force: true });
  });

  it('puts vwatchd and virtualeyes on PATH, and they load their plugins outside the repository', async () => {
    expect(run('virtualeyes', ['--version']).stdout.trim()).toBe(version);
    expect(run('vwatchd', ['--version']).stdout.trim()).toBe(version);
    const dataDir = join(elsewhere, 'data');
    const check = run('vwatchd', ['--check', '--data-dir', dataDir]);
    expect(check.status, check.stderr).toBe(0);
    expect(check.stderr).toMatch(/├── probe procfs \(@virtualeyes\/probe-procfs@\d+\.\d+\.\d+\) \d+ ms/);
    expect(check.stderr).toMatch(/└── sink duckdb \(@virtualeyes\/sink-duckdb@\d+\.\d+\.\d+\) \d+ ms/);

    const daemon = spawn('vwatchd', ['--data-dir', dataDir], { cwd: elsewhere, env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    daemon.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => daemon.once('exit', resolve));
    const until = Date.now() + 30_000;
    while (!stderr.includes('Recording into') && Date.now() < until) await sleep(100);
    // Two process samples (every 5 s by default) for CPU%.
    await sleep(6000);
    const ps = run('virtualeyes', ['--data-dir', dataDir, 'ps', '--json', '--sort', 'pid']);
    daemon.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(ps.status, ps.stderr).toBe(0);
    const rows = JSON.parse(ps.stdout) as { pid: number; cmdline: string }[];
    expect(rows.find((row) => row.pid === daemon.pid)?.cmdline).toContain(join(prefix, 'bin', 'vwatchd'));
  }, 90_000);
});

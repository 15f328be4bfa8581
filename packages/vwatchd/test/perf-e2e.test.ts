// End to end with probe-perf loaded by configuration: the built vwatchd records per-CPU
// software counters and NUMA counters into DuckDB, hardware events this VM lacks are reported
// once, in one line (no spam), and the CLI answers as of a past instant. Needs `npm run build`.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const VWATCHD = join(root, 'packages/vwatchd/bin/vwatchd.js');
const VIRTUALEYES = join(root, 'packages/virtualeyes/bin/virtualeyes.js');
const isRoot = process.getuid?.() === 0;

function run(bin: string, args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, ...args], { timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : 1, stdout, stderr });
    });
  });
}

if (process.env.CI === 'true') {
  it('runs as root in CI (system-wide perf counters need it)', () => {
    expect(isRoot).toBe(true);
  });
}

describe.skipIf(process.platform !== 'linux' || !isRoot)('vwatchd with probe-perf (skipped unless root on Linux: system-wide counters)', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 've-perf-e2e-'));
  const config = join(dataDir, 'vwatchd.conf');
  writeFileSync(
    config,
    JSON.stringify({
      probes: [
        { use: '@virtualeyes/probe-procfs' },
        { use: '@virtualeyes/probe-perf', intervals: { perf_cpu: 1000, perf_numa: 1000 } },
      ],
    }),
  );
  const cli = (...args: string[]) => run(VIRTUALEYES, ['--config', config, '--data-dir', dataDir, ...args]);
  const json = async <T>(...args: string[]): Promise<T> => {
    const result = await cli(...args);
    expect(result.stderr).toBe('');
    return JSON.parse(result.stdout) as T;
  };
  let daemon: ChildProcess;
  let stderr = '';
  let exited: Promise<number | null>;

  beforeAll(async () => {
    daemon = spawn(process.execPath, [VWATCHD, '--config', config, '--data-dir', dataDir], { stdio: ['ignore', 'ignore', 'pipe'] });
    daemon.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    exited = new Promise((resolve) => daemon.once('exit', resolve));
    const until = Date.now() + 30_000;
    for (;;) {
      const result = await cli('query', 'select count(distinct ts) as n from perf_cpu', '--format', 'json');
      if (result.code === 0 && (JSON.parse(result.stdout) as { n: number }[])[0]!.n >= 4) break;
      if (Date.now() > until) throw new Error(`perf_cpu never filled; daemon stderr:\n${stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }, 60_000);

  afterAll(async () => {
    if (daemon.exitCode === null) {
      daemon.kill('SIGTERM');
      await exited;
    }
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('answers per-CPU software counters as of a past instant', async () => {
    const rows = await json<{ event: string; cpus: number; total: number }[]>(
      'query',
      '--at',
      '1s ago',
      "select event, count(distinct cpu) as cpus, sum(value) as total from perf_cpu where event in ('context-switches', 'task-clock') group by event order by event",
      '--format',
      'json',
    );
    expect(rows.map((row) => row.event)).toEqual(['context-switches', 'task-clock']);
    for (const row of rows) {
      expect(row.cpus).toBeGreaterThanOrEqual(1);
      expect(row.total).toBeGreaterThan(0);
    }
  });

  it('records NUMA node counters', async () => {
    const rows = await json<{ node: number; numa_hit: number }[]>('query', '--at', '1s ago', 'select node, numa_hit from perf_numa order by node', '--format', 'json');
    expect(rows.length).toBeGreaterThanOrEqual(1);
    expect(rows[0]!.numa_hit).toBeGreaterThan(0);
  });

  it('reports each hardware event the VM lacks once, without spam, and records no rows for them', async () => {
    const status = await json<{ agent: { errors: { source: string; code: string; count: number; lastMessage: string }[] } }>('status', '--json');
    const unsupported = status.agent.errors.filter((error) => error.code === 'UNSUPPORTED');
    const hardware = await json<{ n: number }[]>('query', "select count(*) as n from perf_cpu where event in ('cycles', 'instructions')", '--format', 'json');
    if (unsupported.length === 0) {
      // A machine with a hardware PMU: the hardware events count instead.
      expect(hardware[0]!.n).toBeGreaterThan(0);
      return;
    }
    expect(hardware[0]!.n).toBe(0);
    const before = unsupported.reduce((sum, error) => sum + error.count, 0);
    await new Promise((resolve) => setTimeout(resolve, 2500));
    const later = await json<{ agent: { errors: { code: string; count: number }[] } }>('status', '--json');
    const after = later.agent.errors.filter((error) => error.code === 'UNSUPPORTED').reduce((sum, error) => sum + error.count, 0);
    expect(after).toBe(before);
    expect(stderr.match(/UNSUPPORTED/g)?.length ?? 0).toBeLessThanOrEqual(before + 1);
  });

  it('stops cleanly (fds released, exit 0)', async () => {
    daemon.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});

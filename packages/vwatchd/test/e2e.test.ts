// End to end, as a user runs it: the built vwatchd records this host's real /proc into a real
// DuckDB file, and the built virtualeyes CLI asks it questions over the Unix socket, then
// reads the file itself after the daemon stopped. Needs `npm run build` first (npm test does).
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const VWATCHD = join(root, 'packages/vwatchd/bin/vwatchd.js');
const VIRTUALEYES = join(root, 'packages/virtualeyes/bin/virtualeyes.js');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(bin: string, args: readonly string[], timeoutMs = 60_000): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, ...args], { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
      resolve({ code, stdout, stderr });
    });
  });
}

/** A daemon process with its collected stderr. */
interface Daemon {
  child: ChildProcess;
  stderr: () => string;
  exited: Promise<number | null>;
}

function startDaemon(args: readonly string[]): Daemon {
  const child = spawn(process.execPath, [VWATCHD, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, stderr: () => stderr, exited };
}

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 30_000, context: () => string = () => ''): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`timed out waiting for ${what}${context() === '' ? '' : `; ${context()}`}`);
}

async function psCount(): Promise<number> {
  return new Promise((resolve, reject) => {
    execFile('ps', ['-e', '--no-headers'], (error, stdout) => (error === null ? resolve(stdout.trim().split('\n').length) : reject(error)));
  });
}

describe('vwatchd + virtualeyes end to end', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 've-e2e-'));
  const config = join(dataDir, 'vwatchd.conf');
  // Default plugins, with processes sampled every second so the test needs only seconds, and a
  // 1 s write window instead of the default 5 s (shutdown.test.ts records with the default one).
  writeFileSync(
    config,
    JSON.stringify({
      probes: [{ use: '@virtualeyes/probe-procfs', intervals: { processes: 1000, process_stats: 1000 } }],
      buffer: { writeWindowMs: 1000 },
      log: { level: 'info' },
    }),
  );
  const cli = (...args: string[]) => run(VIRTUALEYES, ['--config', config, '--data-dir', dataDir, ...args]);
  let daemon: Daemon;

  beforeAll(async () => {
    daemon = startDaemon(['--config', config, '--data-dir', dataDir]);
    await waitFor('the daemon to answer and record two process samples', async () => {
      const result = await cli('query', 'select count(distinct ts) as n from process_stats', '--format', 'json');
      return result.code === 0 && (JSON.parse(result.stdout) as { n: number }[])[0]!.n >= 3;
    });
  }, 60_000);

  afterAll(async () => {
    if (daemon.child.exitCode === null) {
      daemon.child.kill('SIGKILL');
      await daemon.exited;
    }
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('prints a boot tree naming the loaded plugins', () => {
    expect(daemon.stderr()).toMatch(/vwatchd 0\.1\.0 \d+ ms/);
    expect(daemon.stderr()).toMatch(/├── probe procfs \(@virtualeyes\/probe-procfs@[\d.]+\) \d+ ms/);
    expect(daemon.stderr()).toMatch(/└── sink duckdb \(@virtualeyes\/sink-duckdb@[\d.]+\) \d+ ms/);
  });

  it('serves the API on a socket that is not world-accessible (0660)', () => {
    expect(statSync(join(dataDir, 'vwatchd.sock')).mode & 0o777).toBe(0o660);
  });

  it('answers count(*) of processes as of an instant like ps -e does', async () => {
    const [result, expected] = await Promise.all([cli('query', '--at', '1s ago', 'select count(*) as n from processes', '--format', 'json'), psCount()]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const n = (JSON.parse(result.stdout) as { n: number }[])[0]!.n;
    expect(Math.abs(n - expected)).toBeLessThanOrEqual(5);
  });

  it('lists processes at an instant with RSS and CPU%, as a table and as JSON', async () => {
    const table = await cli('ps', '--at', '1s ago');
    expect(table.code).toBe(0);
    expect(table.stdout.split('\n')[0]).toMatch(/^\s*PID\s+USER\s+%CPU\s+RSS\s+VSZ\s+THR\s+S\s+READ\/s\s+WRITE\/s\s+STARTED\s+COMMAND$/);
    expect(table.stderr).toMatch(/^as of \d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} .+?: sample taken \d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}, \d+ processes/);
    const json = await cli('ps', '--at', '1s ago', '--format', 'json', '--sort', 'pid');
    const rows = JSON.parse(json.stdout) as { pid: number; rss: number; cpu_pct: number | null; cmdline: string }[];
    const self = rows.find((row) => row.pid === daemon.child.pid);
    expect(self?.cmdline).toContain('vwatchd');
    expect(self!.rss).toBeGreaterThan(10 * 1024 * 1024);
    expect(typeof self!.cpu_pct).toBe('number');
    expect(rows.map((row) => row.pid)).toEqual([...rows.map((row) => row.pid)].sort((a, b) => a - b));
  });

  it('lists the recorded tables with kinds and row counts', async () => {
    const result = await cli('tables', '--format', 'json');
    const tables = JSON.parse(result.stdout) as { name: string; kind: string; rows: number }[];
    const byName = new Map(tables.map((table) => [table.name, table]));
    for (const name of ['system_info', 'cpu', 'memory', 'load', 'processes', 'process_stats']) expect(byName.get(name)?.rows, name).toBeGreaterThan(0);
    expect(byName.get('processes')?.kind).toBe('state');
    expect(byName.get('cpu')?.kind).toBe('metric');
    // Counters are marked in every format: JSON, CSV and the human table with its rates view.
    const stats = (JSON.parse(result.stdout) as { name: string; columns: { name: string; counter?: boolean }[] }[]).find((table) => table.name === 'process_stats');
    expect(stats?.columns.filter((column) => column.counter === true).map((column) => column.name)).toEqual(expect.arrayContaining(['utime', 'stime', 'read_bytes']));
    expect(stats?.columns.find((column) => column.name === 'rss')?.counter).toBeUndefined();
    const csv = (await cli('tables', '--format', 'csv')).stdout.split(/\r?\n/);
    expect(csv[0]).toBe('table,kind,column,type,unit,counter,description');
    expect(csv.find((line) => line.startsWith('process_stats,metric,utime,'))).toMatch(/,true,/);
    expect(csv.find((line) => line.startsWith('process_stats,metric,rss,'))).toMatch(/,false,/);
    // For people: one line per table, and the columns of the tables named.
    const list = await cli('tables');
    expect(list.stdout).toMatch(/^process_stats +metric +pid, start_time +\d+ /m);
    expect(list.stdout).not.toMatch(/^utime /m);
    expect(list.stdout.split('\n').length).toBeLessThan(60);
    const human = (await cli('tables', 'process_stats')).stdout;
    expect(human).toMatch(/^utime +\S+ +\S+ +yes /m);
    expect(human).toContain('Counters: per-second rates in process_stats_rates');
    const brief = JSON.parse((await cli('tables', '--json', '--brief')).stdout) as { name: string; columns?: unknown; first: unknown }[];
    expect(brief.find((table) => table.name === 'processes')).toMatchObject({ kind: 'state', first: expect.stringMatching(/Z$/) });
    expect(brief.every((table) => table.columns === undefined)).toBe(true);
    expect((await cli('tables', 'nosuch')).code).toBe(2);
  });

  it('reports status: daemon up, plugins, rows written, store size', async () => {
    const result = await cli('status', '--json');
    const status = JSON.parse(result.stdout) as {
      running: boolean;
      pid: number;
      agent: { plugins: { name: string; status: { code: string } }[]; sinks: { writtenRows: number; bytesOnDisk: number }[] };
      store: { bytes: number };
      memory: { rss: number; heapUsed: number; heapTotal: number };
    };
    expect(status.running).toBe(true);
    expect(status.pid).toBe(daemon.child.pid);
    expect(status.agent.plugins.map((p) => `${p.name} ${p.status.code}`)).toEqual(['procfs OK', 'duckdb OK']);
    expect(status.agent.sinks[0]!.writtenRows).toBeGreaterThan(0);
    expect(status.store.bytes).toBeGreaterThan(0);
    // The daemon's own memory, as /proc sees it: resident set within a few MB of VmRSS.
    const vmRss = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${status.pid}/status`, 'utf8'))?.[1]) * 1024;
    expect(Math.abs(status.memory.rss - vmRss)).toBeLessThan(16 * 1024 * 1024);
    expect(status.memory.heapUsed).toBeLessThanOrEqual(status.memory.heapTotal);
    const text = await cli('status');
    expect(text.stdout).toMatch(/^vwatchd 0\.1\.0 running \(pid \d+\)/);
    expect(text.stdout).toMatch(/^memory {4}\d+(\.\d+)? MiB resident, JS heap [\d.]+ MiB of [\d.]+ MiB$/m);
  });

  it('refuses writes and file access through the query surface', async () => {
    const insert = await cli('query', 'insert into processes (pid) values (1)');
    expect(insert.code).toBe(2);
    expect(insert.stderr).toMatch(/^virtualeyes: .*SELECT/);
    const file = await cli('query', "select * from read_csv('/etc/passwd')");
    expect(file.code).toBe(2);
    expect(file.stdout).toBe('');
  });

  it('exits 0 on SIGTERM, and the recording stays queryable from the file and after a restart', async () => {
    const before = await cli('query', 'select count(*) as n from process_stats', '--format', 'json');
    const rowsBefore = (JSON.parse(before.stdout) as { n: number }[])[0]!.n;
    daemon.child.kill('SIGTERM');
    expect(await daemon.exited).toBe(0);
    expect(daemon.stderr()).toContain('SIGTERM: flushing and stopping');

    const offline = await cli('query', 'select count(*) as n from process_stats', '--format', 'json');
    expect(offline.code).toBe(0);
    expect((JSON.parse(offline.stdout) as { n: number }[])[0]!.n).toBeGreaterThanOrEqual(rowsBefore);
    const status = await cli('status');
    expect(status.stdout).toContain('vwatchd is not running');
    expect(status.code).toBe(3);

    daemon = startDaemon(['--config', config, '--data-dir', dataDir]);
    let last: Run | undefined;
    await waitFor(
      'the restarted daemon',
      async () => {
        last = await cli('query', 'select count(*) as n from process_stats', '--format', 'json');
        return last.code === 0 && (await cli('status', '--json')).stdout.includes('"running": true');
      },
      30_000,
      () => `daemon stderr: ${daemon.stderr()}; last status: ${JSON.stringify(last)}`,
    );
    const after = await cli('query', 'select count(*) as n from process_stats', '--format', 'json');
    expect((JSON.parse(after.stdout) as { n: number }[])[0]!.n).toBeGreaterThanOrEqual(rowsBefore);
    daemon.child.kill('SIGTERM');
    expect(await daemon.exited).toBe(0);
  }, 60_000);
});

describe('vwatchd configuration errors', () => {
  const dir = mkdtempSync(join(tmpdir(), 've-e2e-config-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('exits 2 naming the JSON path of a value of the wrong type', async () => {
    const config = join(dir, 'wrong-type.conf');
    writeFileSync(config, JSON.stringify({ probes: [{ use: '@virtualeyes/probe-procfs', intervals: { cpu: 'often' } }] }));
    const result = await run(VWATCHD, ['--config', config, '--data-dir', join(dir, 'data')]);
    expect(result.code).toBe(2);
    expect(result.stderr.trim()).toBe(`vwatchd: ${config}: $.probes[0].intervals.cpu: must be integer`);
  });

  it('exits 2 naming the JSON path of a wrong plugin option', async () => {
    const config = join(dir, 'wrong-option.conf');
    writeFileSync(config, JSON.stringify({ probes: [{ use: '@virtualeyes/probe-procfs', options: { readIo: 5 } }] }));
    const result = await run(VWATCHD, ['--config', config, '--data-dir', join(dir, 'data')]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`vwatchd: ${config}: $.probes[0].options.readIo: must be boolean`);
  });

  it('starts the other plugins when a configured package does not exist, reporting it by name', async () => {
    const config = join(dir, 'missing.conf');
    const data = join(dir, 'missing-data');
    writeFileSync(config, JSON.stringify({ probes: [{ use: '@virtualeyes/probe-nonexistent' }, { use: '@virtualeyes/probe-procfs' }] }));
    const daemon = startDaemon(['--config', config, '--data-dir', data]);
    await waitFor('the daemon to record', async () => {
      const result = await run(VIRTUALEYES, ['--config', config, '--data-dir', data, 'query', 'select count(*) as n from cpu', '--format', 'json']);
      return result.code === 0 && (JSON.parse(result.stdout) as { n: number }[])[0]!.n > 0;
    });
    expect(daemon.stderr()).toContain("probe @virtualeyes/probe-nonexistent (@virtualeyes/probe-nonexistent) NOT_FOUND: package '@virtualeyes/probe-nonexistent' is not installed");
    daemon.child.kill('SIGTERM');
    expect(await daemon.exited).toBe(0);
  }, 60_000);

  it('prints help and version', async () => {
    const help = await run(VWATCHD, ['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: vwatchd [options]');
    const version = await run(VIRTUALEYES, ['--version']);
    expect(version.stdout.trim()).toBe('0.1.0');
  });
});

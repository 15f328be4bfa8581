// Benchmark of vwatchd's resident memory: the real built daemon records this host at its default
// intervals with 500 extra idle processes, its VmRSS sampled every second (steady = median of the
// last third, and the peak), then heavy queries go through its socket (peak during, RSS after).
// Baseline in the same run, on the same process set: atop (`atop -w FILE 1`) when it is installed,
// else a Node process that only reads the same /proc files each second. Prints one JSON object.
// Build first: npx tsc -b. Env: SECONDS_RECORDED (90), SLEEPERS (500), SETTLE_SECONDS (20),
// VWATCHD_CONFIG (a config file for the daemon, to compare settings; default: none).
import { spawn } from 'node:child_process';
import { accessSync, constants, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

const root = new URL('../../..', import.meta.url).pathname;
const DAEMON = join(root, 'packages/vwatchd/bin/vwatchd.js');
const CLI = join(root, 'packages/virtualeyes/dist/bin.js');
const SECONDS_RECORDED = Number(process.env.SECONDS_RECORDED ?? 90);
const SLEEPERS = Number(process.env.SLEEPERS ?? 500);
const SETTLE_SECONDS = Number(process.env.SETTLE_SECONDS ?? 20);
const BUDGET_MB = 80;
/** Seconds of start-up: the daemon gives back the pages only start-up used 30 s after its store opened. */
const STARTUP_SECONDS = 40;
const KB_PER_MB = 1024;
// Heavy queries through the socket: an aggregate over every sample, a sort of every sample, a
// result of about 10 MB (30,000 rows, under the 16 MiB result cap), and a sort of every process version by command line.
const QUERIES = [
  'select count(distinct pid), sum(rss) from history.process_stats',
  'select * from history.process_stats order by rss desc, pid, ts',
  'select s.*, r.range as copy from history.process_stats s cross join range(8) r order by s.pid, s.ts, r.range limit 30000',
  'select * from history.processes order by cmdline, pid, valid_from',
];
// What a minimal recorder reads each second: the files the procfs probe reads, nothing parsed.
const READER = `
const fs = require('node:fs');
const HOST = ['/proc/stat', '/proc/meminfo', '/proc/loadavg', '/proc/sys/kernel/hostname'];
const PID = ['stat', 'status', 'cmdline', 'io'];
const read = (f) => { try { f(); } catch { /* vanished or refused, as for the probe */ } };
setInterval(() => {
  for (const path of HOST) read(() => fs.readFileSync(path));
  for (const name of fs.readdirSync('/proc')) {
    if (name.charCodeAt(0) < 49 || name.charCodeAt(0) > 57) continue;
    for (const file of PID) read(() => fs.readFileSync('/proc/' + name + '/' + file));
    read(() => fs.readlinkSync('/proc/' + name + '/exe'));
  }
}, 1000);`;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length === 0 ? 0 : sorted[Math.floor(sorted.length / 2)];
};
const mb = (kb) => Math.round((kb / KB_PER_MB) * 10) / 10;

/** VmRSS, RssAnon and RssFile of a pid in kB, or undefined once it is gone. */
function memoryOf(pid) {
  let text;
  try {
    text = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return undefined;
  }
  const field = (name) => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(text)?.[1] ?? 0);
  return { rss: field('VmRSS'), anon: field('RssAnon'), file: field('RssFile') };
}

/** Resident kB per mapped file (and anonymous memory), from /proc/PID/smaps. */
function mappingsOf(pid) {
  const totals = new Map();
  let name = '[anon]';
  let text = '';
  try {
    text = readFileSync(`/proc/${pid}/smaps`, 'utf8');
  } catch {
    return totals;
  }
  for (const line of text.split('\n')) {
    const header = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (header !== null) name = header[1] === '' ? '[anon]' : header[1];
    else if (line.startsWith('Rss:')) totals.set(name, (totals.get(name) ?? 0) + Number(line.split(/\s+/)[1]));
  }
  return totals;
}

/** Samples the pids' memory every second into `series` until `stop()`. */
function sampler(pids) {
  const series = new Map(pids.map((pid) => [pid, []]));
  const timer = setInterval(() => {
    for (const pid of pids) {
      const memory = memoryOf(pid);
      if (memory !== undefined) series.get(pid).push(memory);
    }
  }, 1000);
  return { series, stop: () => clearInterval(timer), mark: (pid) => series.get(pid).length };
}

function onPath(command) {
  return (process.env.PATH ?? '').split(delimiter).some((dir) => {
    try {
      accessSync(join(dir, command), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

async function startSleepers(count) {
  const children = [];
  for (let i = 0; i < count; i += 1) children.push(spawn('sleep', ['3600'], { stdio: 'ignore' }));
  await Promise.all(children.map((child) => new Promise((resolve) => child.once('spawn', resolve))));
  return () => children.forEach((child) => child.kill('SIGKILL'));
}

/** Runs one query through the CLI (the daemon's socket); returns its wall ms and result bytes. */
function query(dataDir, sql) {
  return new Promise((resolve) => {
    const started = performance.now();
    const child = spawn(process.execPath, [CLI, 'query', '--data-dir', dataDir, '--format', 'json', '--timeout', '60s', sql], { stdio: ['ignore', 'pipe', 'pipe'] });
    let bytes = 0;
    let stderr = '';
    child.stdout.on('data', (chunk) => {
      bytes += chunk.length;
    });
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    child.on('close', (code) => resolve({ ms: Math.round(performance.now() - started), bytes, code, ...(code === 0 ? {} : { error: stderr.trim().split('\n').pop() }) }));
  });
}

function exited(child) {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
}

const stopSleepers = await startSleepers(SLEEPERS);
const dataDir = mkdtempSync(join(tmpdir(), 've-bench-memory-'));
const baselineKind = onPath('atop') ? 'atop' : 'node-proc-reader';
const baseline =
  baselineKind === 'atop'
    ? spawn('atop', ['-w', join(dataDir, 'atop.raw'), '1'], { stdio: 'ignore' })
    : spawn(process.execPath, ['-e', READER], { stdio: 'ignore' });
const configArgs = process.env.VWATCHD_CONFIG === undefined ? [] : ['--config', process.env.VWATCHD_CONFIG];
// Run as installed: the launcher itself (its first line gives Node its flags).
const daemon = spawn(DAEMON, ['--data-dir', dataDir, '--log-level', 'warn', ...configArgs], { stdio: ['ignore', 'ignore', 'pipe'] });
let daemonLog = '';
daemon.stderr.on('data', (chunk) => {
  daemonLog = (daemonLog + chunk).slice(-2000);
});
const samples = sampler([daemon.pid, baseline.pid]);
let result;
try {
  await sleep(SECONDS_RECORDED * 1000);
  const recorded = samples.series.get(daemon.pid).slice();
  const base = samples.series.get(baseline.pid).slice();
  const last = (series) => series.slice(Math.floor((series.length * 2) / 3));
  const steady = last(recorded);
  const mappings = mappingsOf(daemon.pid);
  const fileRss = (match) => [...mappings].filter(([name]) => match(name)).reduce((sum, [, kb]) => sum + kb, 0);
  const processes = readdirSync('/proc').filter((name) => /^\d+$/.test(name)).length;

  const queryStart = samples.mark(daemon.pid);
  const queries = [];
  for (const sql of QUERIES) queries.push({ sql, ...(await query(dataDir, sql)) });
  const queryEnd = samples.mark(daemon.pid);
  await sleep(SETTLE_SECONDS * 1000);
  const all = samples.series.get(daemon.pid);
  const during = all.slice(queryStart, Math.max(queryEnd, queryStart + 1));
  const after = all.slice(-3);

  const steadyRss = median(steady.map((m) => m.rss));
  const baselineRss = median(last(base).map((m) => m.rss));
  result = {
    bench: 'vwatchd-memory',
    processes,
    secondsRecorded: SECONDS_RECORDED,
    steadyRssMB: mb(steadyRss),
    steadyAnonMB: mb(median(steady.map((m) => m.anon))),
    steadyFileMB: mb(median(steady.map((m) => m.file))),
    peakRssMB: mb(Math.max(...recorded.map((m) => m.rss))),
    // After start-up: from the time the daemon has given back the pages only start-up used.
    peakAfterStartRssMB: mb(Math.max(...recorded.slice(STARTUP_SECONDS).map((m) => m.rss))),
    libduckdbRssMB: mb(fileRss((name) => name.endsWith('/libduckdb.so'))),
    nodeBinaryRssMB: mb(fileRss((name) => name === process.execPath)),
    queryPeakRssMB: mb(Math.max(...during.map((m) => m.rss))),
    afterQueriesRssMB: mb(median(after.map((m) => m.rss))),
    afterQueriesAnonMB: mb(median(after.map((m) => m.anon))),
    afterQueriesFileMB: mb(median(after.map((m) => m.file))),
    settleSeconds: SETTLE_SECONDS,
    queries: queries.map(({ sql, ms, bytes, code, error }) => ({ sql, ms, resultBytes: bytes, ...(code === 0 ? {} : { error }) })),
    baseline: baselineKind,
    baselineRssMB: mb(baselineRss),
    ratio: Math.round((steadyRss / baselineRss) * 100) / 100,
    budgetMB: BUDGET_MB,
    note:
      baselineKind === 'atop'
        ? 'baseline = atop -w FILE 1 on the same processes, same run'
        : 'baseline = a Node process reading the same /proc files each second (atop not installed): the floor of Node + reading /proc',
  };
} finally {
  samples.stop();
  daemon.kill('SIGTERM');
  baseline.kill('SIGTERM');
  await Promise.all([exited(daemon), exited(baseline)]);
  stopSleepers();
  rmSync(dataDir, { recursive: true, force: true });
}
if (daemon.exitCode !== 0) {
  result.daemonExit = daemon.exitCode;
  result.daemonLog = daemonLog.trim().split('\n').slice(-3);
}
process.stdout.write(`${JSON.stringify(result)}\n`);

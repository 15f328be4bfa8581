// Benchmark of the whole daemon's CPU per 1 s sample, beside two baselines measured in the same
// run on the same process set: the peer load of reference/peer-measurements.md (500 sleepers and
// four light loops, about 100 forks a second), then one after the other (never together):
//   - the C floor (bench/floor.c, compiled here with gcc): every second it opens and reads stat,
//     status, io and cmdline of every pid, parsing nothing;
//   - atop (`atop -w FILE 1 N`) when it is installed;
//   - the real built vwatchd recording processes and process_stats every second (every other
//     table at its default interval) into its default store.
// Each one's CPU is utime+stime of all its threads from /proc/PID/stat over a steady window
// after a warm-up. Prints one JSON object. Build first: npm run build.
// Env: WINDOW_SECONDS (60), WARMUP_SECONDS (90, the daemon's; 3 for the others). The daemon's
// warm-up is long because V8 keeps compiling its hot code on helper threads for about a minute
// after start (10–20 ms/s more in the first 30 s, measured with perf on those threads); what a
// recorder running for days costs is the steady state after it.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { atopInstalled, startPeerLoad } from '../../sink-duckdb/bench/peer-capture.mjs';

const root = new URL('../../..', import.meta.url).pathname;
const DAEMON = join(root, 'packages/vwatchd/bin/vwatchd.js');
const WINDOW_SECONDS = Number(process.env.WINDOW_SECONDS ?? 60);
const WARMUP_SECONDS = Number(process.env.WARMUP_SECONDS ?? 90);
const CONFIG = {
  probes: [{ use: '@virtualeyes/probe-procfs', intervals: { processes: 1000, process_stats: 1000 } }],
};

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const round = (value) => Math.round(value * 10) / 10;

/** utime+stime of every thread of `pid`, in ms (clock ticks of 10 ms), or undefined once it is gone. */
function cpuMsOf(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return undefined;
  }
}

/** CPU ms per thread name of `pid` (the daemon's main thread, DuckDB's, libuv's…). */
function threadsOf(pid) {
  const out = new Map();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const name = tid === String(pid) ? 'main' : stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(name, (out.get(name) ?? 0) + (Number(fields[11]) + Number(fields[12])) * 10);
    } catch {
      // The thread ended meanwhile.
    }
  }
  return out;
}

const processCount = () => readdirSync('/proc').filter((name) => /^\d+$/.test(name)).length;

/** Runs `child` through a warm-up, then measures its CPU over the window. */
async function measure(name, child, warmupSeconds) {
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  await sleep(warmupSeconds * 1000);
  const before = cpuMsOf(child.pid);
  const threadsBefore = name === 'vwatchd' ? threadsOf(child.pid) : undefined;
  const processes = [processCount()];
  const started = performance.now();
  for (let second = 0; second < WINDOW_SECONDS; second += 1) {
    await sleep(1000);
    if (second % 10 === 0) processes.push(processCount());
  }
  const after = cpuMsOf(child.pid);
  const threadsAfter = name === 'vwatchd' ? threadsOf(child.pid) : undefined;
  const seconds = (performance.now() - started) / 1000;
  child.kill('SIGTERM');
  const outcome = await Promise.race([exited, sleep(20_000).then(() => ({ code: 'did not stop' }))]);
  if (before === undefined || after === undefined) return { name, error: `${name} exited early (${JSON.stringify(outcome)})` };
  const result = { name, cpuMsPerSample: round((after - before) / seconds), processes: Math.round(processes.reduce((a, b) => a + b, 0) / processes.length) };
  if (threadsBefore !== undefined && threadsAfter !== undefined) {
    result.threads = Object.fromEntries(
      [...threadsAfter].map(([thread, ms]) => [thread, round((ms - (threadsBefore.get(thread) ?? 0)) / seconds)]).filter(([, ms]) => ms > 0).sort((a, b) => b[1] - a[1]),
    );
  }
  return result;
}

const dir = mkdtempSync(join(tmpdir(), 've-bench-cpu-'));
const load = await startPeerLoad(dir);
const results = [];
try {
  // The C floor, compiled for this run.
  const floor = join(dir, 'floor');
  execFileSync('gcc', ['-O2', '-o', floor, join(root, 'packages/vwatchd/bench/floor.c')]);
  results.push(await measure('c-floor', spawn(floor, [String(WINDOW_SECONDS + 10)], { stdio: 'ignore' }), 3));
  if (atopInstalled()) {
    results.push(await measure('atop', spawn('atop', ['-w', join(dir, 'atop.raw'), '1', String(WINDOW_SECONDS + 10)], { stdio: 'ignore' }), 3));
  } else {
    results.push({ name: 'atop', error: 'atop is not installed (apt-get install -y atop)' });
  }
  const config = join(dir, 'vwatchd.json');
  const dataDir = join(dir, 'data');
  execFileSync('mkdir', ['-m', '700', dataDir]);
  await import('node:fs').then(({ writeFileSync }) => writeFileSync(config, JSON.stringify(CONFIG)));
  const daemon = spawn(DAEMON, ['--data-dir', dataDir, '--config', config, '--log-level', 'warn'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  daemon.stderr.on('data', (chunk) => (log = (log + chunk).slice(-2000)));
  const measured = await measure('vwatchd', daemon, WARMUP_SECONDS);
  if (log.trim() !== '') measured.log = log.trim().split('\n').slice(-3);
  results.push(measured);
} finally {
  load.stop();
  rmSync(dir, { recursive: true, force: true });
}

const byName = Object.fromEntries(results.map((result) => [result.name, result]));
const daemonMs = byName.vwatchd?.cpuMsPerSample;
process.stdout.write(
  `${JSON.stringify({
    bench: 'vwatchd-cpu',
    windowSeconds: WINDOW_SECONDS,
    cpuMsPerSample: daemonMs,
    floorCpuMsPerSample: byName['c-floor']?.cpuMsPerSample,
    atopCpuMsPerSample: byName.atop?.cpuMsPerSample,
    ratioToFloor: daemonMs === undefined || byName['c-floor']?.cpuMsPerSample === undefined ? undefined : round((daemonMs / byName['c-floor'].cpuMsPerSample) * 100) / 100,
    ratioToAtop: daemonMs === undefined || byName.atop?.cpuMsPerSample === undefined ? undefined : round((daemonMs / byName.atop.cpuMsPerSample) * 100) / 100,
    target: 'at most half of atop and no more than the C floor',
    results,
  })}\n`,
);

// Benchmark of a perf_cpu collection (the default event set on every CPU) against its baseline
// measured in the same run: the CPU time `perf stat -a -I 1000` spends per interval counting
// the same supported events. Prints one JSON object. Needs root (system-wide counters) and
// perf. Build first: npx tsc -b packages/probe-perf. Env: COLLECTIONS (200), PERF_SECONDS (20).
import { execFileSync, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createFileReader, createHooks, createLogger, createSystemClock } from '@virtualeyes/core';
import { createProbe, parseConfig } from '../dist/index.js';

const COLLECTIONS = Number(process.env.COLLECTIONS ?? 200);
const WARMUP = 20;
const PERF_SECONDS = Number(process.env.PERF_SECONDS ?? 20);
/** perf stat's start-up (parsing, opening counters) is left out of its steady window. */
const SETTLE_MS = 2000;

const deps = {
  name: 'perf',
  clock: createSystemClock(),
  logger: createLogger({ level: 'silent' }),
  files: createFileReader(),
  hooks: createHooks(),
  host: 'bench',
  dataDir: '/nonexistent',
  platform: process.platform,
};

function fail(message) {
  process.stdout.write(`${JSON.stringify({ bench: 'probe-perf', error: message })}\n`);
  process.exit(1);
}

// createProbe takes options as the loader hands them over: validated and defaulted.
const options = parseConfig({});
if (!options.ok) fail(options.status.message);
const created = createProbe(options.value, deps);
if (!created.ok) fail(created.status.message);
const probe = created.value;
await probe.start({ emit: () => undefined });
const signal = new AbortController().signal;
const collectCpu = () => probe.collect({ tables: ['perf_cpu'], ts: Date.now(), signal });

const first = await collectCpu();
const rows = first.batches.find((batch) => batch.table === 'perf_cpu')?.rows ?? [];
if (rows.length === 0) fail(`no perf_cpu rows (run as root): ${first.errors.map((status) => status.message).join('; ')}`);
const events = [...new Set(rows.map((row) => row.event))];
const cpus = new Set(rows.map((row) => row.cpu)).size;

for (let i = 0; i < WARMUP; i += 1) await collectCpu();
const startUsage = process.cpuUsage();
const startWall = performance.now();
for (let i = 0; i < COLLECTIONS; i += 1) await collectCpu();
const usage = process.cpuUsage(startUsage);
const wallMs = performance.now() - startWall;
await probe.close();
const cpuMsPerCollection = (usage.user + usage.system) / 1000 / COLLECTIONS;

// The baseline: perf stat printing the same events system-wide every second.
let ticksPerSecond = 100;
try {
  ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
} catch {
  // getconf is part of libc-bin; 100 is USER_HZ on every mainstream Linux.
}
const cpuTicks = (pid) => {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime and stime are fields 14 and 15; fields[0] is field 3 (state).
  return Number(fields[11]) + Number(fields[12]);
};
// Nanosecond run time summed over perf's threads (/proc/PID/task/*/schedstat), where the
// kernel keeps it: a finer figure than ticks, reported beside the specified one.
const runNs = (pid) => {
  try {
    let total = 0;
    for (const tid of readdirSync(`/proc/${pid}/task`)) total += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
    return total;
  } catch {
    return Number.NaN;
  }
};
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const perf = spawn('perf', ['stat', '-a', '-x,', '-I', '1000', '-e', events.join(',')], { stdio: ['ignore', 'ignore', 'ignore'] });
const perfExited = new Promise((resolve) => perf.once('exit', resolve));
await new Promise((resolve, reject) => {
  perf.once('spawn', resolve);
  perf.once('error', (error) => reject(error));
}).catch((error) => fail(`cannot run perf: ${error.message}`));
await sleep(SETTLE_MS);
if (perf.exitCode !== null) fail('perf stat exited early (is perf installed and are you root?)');
const ticks0 = cpuTicks(perf.pid);
const ns0 = runNs(perf.pid);
const t0 = performance.now();
await sleep(PERF_SECONDS * 1000);
const ticks1 = cpuTicks(perf.pid);
const ns1 = runNs(perf.pid);
const t1 = performance.now();
perf.kill('SIGINT');
await perfExited;
const intervals = (t1 - t0) / 1000;
const perfStatCpuMsPerInterval = ((ticks1 - ticks0) * 1000) / ticksPerSecond / intervals;
const perfStatRunMsPerInterval = (ns1 - ns0) / 1e6 / intervals;

const round = (value) => Math.round(value * 10000) / 10000;
process.stdout.write(
  `${JSON.stringify({
    bench: 'probe-perf',
    cpus,
    events,
    collections: COLLECTIONS,
    cpuMsPerCollection: round(cpuMsPerCollection),
    wallMsPerCollection: round(wallMs / COLLECTIONS),
    perfStatCpuMsPerInterval: round(perfStatCpuMsPerInterval),
    ratio: perfStatCpuMsPerInterval > 0 ? round(cpuMsPerCollection / perfStatCpuMsPerInterval) : null,
    perfStatRunMsPerInterval: Number.isFinite(perfStatRunMsPerInterval) ? round(perfStatRunMsPerInterval) : null,
    runRatio: perfStatRunMsPerInterval > 0 ? round(cpuMsPerCollection / perfStatRunMsPerInterval) : null,
    note: `baseline = utime+stime of \`perf stat -a -I 1000\` on the same ${events.length} events over ${Math.round(intervals)} steady 1 s intervals, in ${ticksPerSecond} Hz ticks (±${round(1000 / ticksPerSecond / intervals)} ms per interval); perfStatRunMsPerInterval is the same window from schedstat in ns; events this machine lacks are left out of both`,
  })}\n`,
);

// Benchmark of the process-events reader: CPU of this process (process.cpuUsage: every thread,
// libuv's workers included) per 1,000 process births+exits under churn, and per second while idle,
// for the blocking receive (default) and for polling every 20 ms; beside the baseline it
// replaces, measured in the same run: listing /proc once a second and reading stat and cmdline
// of each new pid (which sees only the processes alive at a listing). Churn comes from shell
// loops in other processes (their CPU is not counted here). Needs root before Linux 6.6.
// Prints one JSON object. Build first: npx tsc -p packages/probe-procfs. Env: IDLE_MS, CHURN_MS, SHELLS.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createFileReader, createHooks, createLogger, createSystemClock } from '@virtualeyes/core';
import { createProbe, parseConfig } from '../dist/index.js';

const IDLE_MS = Number(process.env.IDLE_MS ?? 5000);
const CHURN_MS = Number(process.env.CHURN_MS ?? 5000);
const SHELLS = Number(process.env.SHELLS ?? 2);
const TABLES = ['process_events'];

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const cpuMs = (usage) => (usage.user + usage.system) / 1000;

/** Runs SHELLS loops of /bin/true for `ms`; resolves with how many processes they started. */
async function churn(ms) {
  const dir = mkdtempSync(join(tmpdir(), 've-bench-'));
  const stop = join(dir, 'stop');
  const loop = `i=0; while [ ! -e '${stop}' ]; do /bin/true; i=$((i+1)); done; echo $i`;
  const runs = Array.from({ length: SHELLS }, () => new Promise((resolve) => {
    const shell = spawn('sh', ['-c', loop], { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    shell.stdout.setEncoding('utf8').on('data', (chunk) => (out += chunk));
    shell.once('exit', () => resolve(Number.parseInt(out, 10) || 0));
  }));
  await sleep(ms);
  writeFileSync(stop, '');
  const counts = await Promise.all(runs);
  rmSync(dir, { recursive: true, force: true });
  return counts.reduce((a, b) => a + b, 0);
}

/** Measures `work` (a phase in which `collect` runs once a second): CPU ms and what collect counted. */
async function phase(collect, run) {
  let counted = 0;
  const timer = setInterval(() => void collect().then((n) => (counted += n)), 1000);
  const before = process.cpuUsage();
  const started = performance.now();
  const extra = await run();
  clearInterval(timer);
  counted += await collect();
  return { cpuMs: cpuMs(process.cpuUsage(before)), wallMs: performance.now() - started, counted, extra };
}

async function measureEvents(pollMs) {
  const options = parseConfig({ processEvents: true, processEventsPollMs: pollMs });
  if (!options.ok) throw new Error(options.status.message);
  const created = createProbe(options.value, {
    name: 'procfs',
    platform: process.platform,
    clock: createSystemClock(),
    logger: createLogger({ level: 'silent' }),
    files: createFileReader(),
    hooks: createHooks(),
    host: 'bench',
    dataDir: '/nonexistent',
  });
  if (!created.ok) throw new Error(created.status.message);
  const probe = created.value;
  probe.init();
  const started = await probe.start({ emit: () => undefined });
  if (started.code !== 'OK') throw new Error(started.message);
  // Births and exits of processes, as process_events rows.
  const collect = async () => {
    const result = await probe.collect({ tables: TABLES, ts: Date.now(), signal: new AbortController().signal });
    if (result.errors.length > 0) throw new Error(result.errors.map((status) => status.message).join('; '));
    return result.batches.reduce((n, batch) => n + batch.rows.filter((row) => row.event === 'fork' || row.event === 'exit').length, 0);
  };
  await collect();
  const idle = await phase(collect, () => sleep(IDLE_MS));
  const busy = await phase(collect, () => churn(CHURN_MS));
  await probe.close();
  return summarize(idle, busy);
}

/** The baseline: list /proc once a second; a pid not seen before is a birth (stat and cmdline read), one gone an exit. */
async function measureListing() {
  let known = new Set(readdirSync('/proc').filter((name) => /^\d+$/.test(name)));
  const collect = async () => {
    const now = new Set();
    let changes = 0;
    for (const name of readdirSync('/proc')) {
      if (!/^\d+$/.test(name)) continue;
      now.add(name);
      if (known.has(name)) continue;
      changes += 1;
      try {
        readFileSync(`/proc/${name}/stat`, 'utf8');
        readFileSync(`/proc/${name}/cmdline`, 'utf8');
      } catch {
        // Gone already.
      }
    }
    for (const name of known) if (!now.has(name)) changes += 1;
    known = now;
    return changes;
  };
  const idle = await phase(collect, () => sleep(IDLE_MS));
  const busy = await phase(collect, () => churn(CHURN_MS));
  return summarize(idle, busy);
}

function summarize(idle, busy) {
  const actual = busy.extra * 2;
  return {
    idleCpuMsPerSecond: round(idle.cpuMs / (idle.wallMs / 1000)),
    churnProcesses: busy.extra,
    churnBirthsExitsSeen: busy.counted,
    // The churn's own births and exits (what happened), not what this reader saw of them.
    churnCpuMsPer1000BirthsExits: round((busy.cpuMs - (idle.cpuMs / idle.wallMs) * busy.wallMs) / (actual / 1000)),
    churnCpuMsPerSecond: round(busy.cpuMs / (busy.wallMs / 1000)),
  };
}

const round = (value) => Math.round(value * 1000) / 1000;

const blocking = await measureEvents(0);
const polling = await measureEvents(20);
const listing = await measureListing();
process.stdout.write(
  `${JSON.stringify({
    bench: 'process events reader vs listing /proc each second',
    idleMs: IDLE_MS,
    churnMs: CHURN_MS,
    shells: SHELLS,
    blocking,
    polling20ms: polling,
    baseline: listing,
    ratioPer1000: round(blocking.churnCpuMsPer1000BirthsExits / listing.churnCpuMsPer1000BirthsExits),
    baselineCaughtShare: round(listing.churnBirthsExitsSeen / (listing.churnProcesses * 2)),
  })}\n`,
);

// The peer load of reference/peer-measurements.md, started for real, and a 1 Hz capture of this
// host's /proc under it with probe-procfs's own collector (so rows have the real schema and real
// values): every processes and process_stats row of every scan, the kernel's fork counter, and,
// when atop is installed, atop's raw log of the same load (`atop -w FILE 1 60`) measured as the
// peer measurements measured it. The load's process groups are killed at the end, on error and
// on SIGINT/SIGTERM. Used by peer-load.mjs; needs a build of probe-procfs (its dist).
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createFileReader, createHooks, createLogger, createSystemClock } from '@virtualeyes/core';
// By path, not by package name: the sink does not depend on the probe; the bench only borrows its collector.
import { createProbe, parseConfig, Table } from '../../probe-procfs/dist/index.js';

/** The sleepers and the four light loops, exactly as the peer measurements ran them (the churn file lives in `dir`). */
const SLEEPERS = 'for i in $(seq 500); do sleep 86400 & done; wait';
const LOOPS = `
 ( while :; do /bin/true; sleep 0.05; done ) &
 ( while :; do for i in $(seq 3000); do :; done; sleep 0.1; done ) &
 ( while :; do for i in $(seq 3000); do :; done; sleep 0.1; done ) &
 ( while :; do date >> "$CHURN"; sleep 0.2; done ) &
 wait`;
const SLEEPER_COUNT = 500;
/** Seconds the load runs before the capture starts (the sleepers take a few seconds to fork). */
const SETTLE_MS = 3000;
/** How often atop's file size is polled to find where its first record ends. */
const ATOP_POLL_MS = 50;

/**
 * Starts the peer load, each `bash -c` in its own session and process group (what `setsid` did
 * in the peer measurements), and returns a stop function killing both groups by PGID. The stop
 * also runs at process exit and on SIGINT/SIGTERM, so no sleeper outlives the bench.
 */
export async function startPeerLoad(dir) {
  const env = { ...process.env, CHURN: join(dir, 'churn.io') };
  const groups = [SLEEPERS, LOOPS].map((script) => spawn('bash', ['-c', script], { detached: true, stdio: 'ignore', env }));
  await Promise.all(groups.map((child) => new Promise((resolve, reject) => child.once('spawn', resolve).once('error', reject))));
  let stopped = false;
  const stop = () => {
    if (stopped) return;
    stopped = true;
    for (const child of groups) {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // The group is already gone.
      }
    }
    process.off('exit', stop);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
  const onSignal = (signal) => {
    stop();
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  process.on('exit', stop);
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const pgids = groups.map((child) => child.pid);
  const deadline = Date.now() + 60_000;
  while (groupSize(pgids[0]) < SLEEPER_COUNT + 1 && Date.now() < deadline) await delay(200);
  await delay(SETTLE_MS);
  return { stop, pgids };
}

/** Processes whose process group is `pgid` (field 5 of /proc/PID/stat). */
function groupSize(pgid) {
  let count = 0;
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]) === pgid) count += 1;
    } catch {
      // Exited meanwhile.
    }
  }
  return count;
}

/** The kernel's fork counter (`processes` in /proc/stat): every fork and clone takes one pid. */
function forksSinceBoot() {
  return Number(/^processes (\d+)$/m.exec(readFileSync('/proc/stat', 'utf8'))?.[1] ?? 0);
}

function delay(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** True when an `atop` binary runs here. */
export function atopInstalled() {
  const probe = spawnSync('atop', ['-V'], { stdio: 'ignore' });
  return probe.error === undefined && probe.status === 0;
}

/**
 * Scans /proc every second for `seconds` seconds with probe-procfs's collector (processes and
 * process_stats, default options) and returns every scan's rows with its instant and the fork
 * counter, plus the collector's own CPU per scan.
 */
export async function captureProc(seconds) {
  const deps = {
    name: 'procfs', platform: process.platform, clock: createSystemClock(), logger: createLogger({ level: 'silent' }),
    files: createFileReader(), hooks: createHooks(), host: 'capture', dataDir: '/nonexistent',
  };
  const created = createProbe(parseConfig({}).value, deps);
  if (!created.ok) throw new Error(created.status.message);
  const probe = created.value;
  const signal = new AbortController().signal;
  const samples = [];
  const errors = new Set();
  let cpuMicros = 0;
  const t0 = Math.ceil(Date.now() / 1000) * 1000 + 1000;
  for (let index = 0; index < seconds; index += 1) {
    const due = t0 + index * 1000;
    await delay(Math.max(0, due - Date.now()));
    const cpu = process.cpuUsage();
    const result = await probe.collect({ tables: [Table.PROCESSES, Table.PROCESS_STATS], ts: due, signal });
    const used = process.cpuUsage(cpu);
    cpuMicros += used.user + used.system;
    for (const status of result.errors) errors.add(`${status.code}: ${status.message}`);
    const processes = result.batches.find((batch) => batch.table === Table.PROCESSES);
    const stats = result.batches.find((batch) => batch.table === Table.PROCESS_STATS);
    if (processes === undefined || stats === undefined) throw new Error(`scan ${index} returned no process rows: ${[...errors].join('; ')}`);
    samples.push({ ts: stats.ts, forks: forksSinceBoot(), processes: processes.rows, stats: stats.rows });
  }
  return { samples, collectCpuMsPerScan: cpuMicros / 1000 / seconds, errors: [...errors] };
}

/**
 * Runs `atop -w FILE 1 samples`. `result` awaits its end and measures it as the peer
 * measurements did: bytes per sample from the file's growth leaving out the first record (header
 * and first record end where the file size first stays still), and bytes per task record over
 * the task records (`atop -r FILE -P PRG` lines) of every sample but the first. `stop` kills it
 * early (on error).
 */
export function startAtop(file, samples) {
  const child = spawn('atop', ['-w', file, '1', String(samples)], { stdio: 'ignore' });
  const sizes = [];
  const poll = setInterval(() => {
    try {
      sizes.push(statSync(file).size);
    } catch {
      sizes.push(0);
    }
  }, ATOP_POLL_MS);
  const exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  const stop = () => {
    clearInterval(poll);
    process.off('exit', stop);
    if (child.exitCode === null) child.kill('SIGKILL');
  };
  // Also at exit (the load's SIGINT handler exits the process), so atop never outlives the bench.
  process.on('exit', stop);
  const result = async () => {
    const code = await exited;
    stop();
    if (code !== 0) return { error: `atop exited with ${code}` };
    const bytes = statSync(file).size;
    // The first size that held for four polls (200 ms) in a row: header plus the first record.
    let first;
    for (let index = 3; index < sizes.length && first === undefined; index += 1) {
      const size = sizes[index];
      if (size > 0 && sizes[index - 1] === size && sizes[index - 2] === size && sizes[index - 3] === size) first = size;
    }
    const parsed = spawnSync('atop', ['-r', file, '-P', 'PRG'], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
    const perSample = new Map();
    for (const line of parsed.stdout.split('\n')) {
      if (!line.startsWith('PRG ')) continue;
      const epoch = line.split(' ', 3)[2];
      perSample.set(epoch, (perSample.get(epoch) ?? 0) + 1);
    }
    const counts = [...perSample.entries()].sort(([a], [b]) => Number(a) - Number(b)).map(([, count]) => count);
    const laterRecords = counts.slice(1).reduce((sum, count) => sum + count, 0);
    const grown = bytes - (first ?? 0);
    return {
      samples: counts.length,
      fileBytes: bytes,
      firstRecordBytes: first ?? null,
      bytesPerSample: round(grown / (counts.length - 1), 1),
      taskRecordsPerSample: round(laterRecords / (counts.length - 1), 1),
      bytesPerTaskRecord: round(grown / laterRecords, 2),
    };
  };
  return { result, stop };
}

function round(value, digits) {
  return Number(value.toFixed(digits));
}

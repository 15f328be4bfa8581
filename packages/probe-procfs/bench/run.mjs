// Benchmark of a full procfs collection (every table) against its baseline: reading the same
// files from Node with readFileSync/readdirSync/readlinkSync and parsing nothing, and a tighter
// floor (open/read/close into one reused buffer), measured in the same run in rotating rounds.
// Prints one JSON object. Build first: npx tsc -b packages/probe-procfs. Env: CYCLES (default 50).
import { closeSync, openSync, readdirSync, readFileSync, readlinkSync, readSync } from 'node:fs';
import { createFileReader, createHooks, createLogger, createSystemClock } from '@virtualeyes/core';
import { createProbe, manifest, parseConfig } from '../dist/index.js';

const CYCLES = Number(process.env.CYCLES ?? 50);
const WARMUP = 5;
const ROUNDS = 5;
const PID_FILES = ['stat', 'status', 'cmdline', 'io'];
// Files the probe reads in every collection besides the per-pid ones (cpuinfo and passwd are cached).
const HOST_FILES = [
  '/proc/stat',
  '/proc/meminfo',
  '/proc/loadavg',
  '/proc/sys/kernel/hostname',
  '/proc/sys/kernel/osrelease',
  '/proc/sys/kernel/version',
  '/proc/sys/kernel/arch',
  '/proc/sys/kernel/random/boot_id',
  '/etc/os-release',
  '/etc/machine-id',
];

const deps = {
  name: 'procfs',
  platform: process.platform,
  clock: createSystemClock(),
  logger: createLogger({ level: 'silent' }),
  files: createFileReader(),
  hooks: createHooks(),
  host: 'bench',
  dataDir: '/nonexistent',
};
// createProbe takes options already validated and defaulted, as the loader hands them over.
const options = parseConfig({});
const created = options.ok ? createProbe(options.value, deps) : options;
if (!created.ok) {
  process.stderr.write(`${created.status.message}\n`);
  process.exit(1);
}
const probe = created.value;
const tables = manifest.tables.map((table) => table.name);
const signal = new AbortController().signal;
let processes = 0;

async function probeCycle() {
  const result = await probe.collect({ tables, ts: Date.now(), signal });
  processes = result.batches.find((batch) => batch.table === 'processes')?.rows.length ?? 0;
}

function tryRead(read) {
  try {
    read();
  } catch {
    // Vanished pids and refused files cost the same failed system calls in the probe.
  }
}

function baselineCycle() {
  for (const path of HOST_FILES) tryRead(() => readFileSync(path));
  tryRead(() => readdirSync('/sys/devices/system/node'));
  for (const name of readdirSync('/proc')) {
    const c = name.charCodeAt(0);
    if (c < 49 || c > 57) continue;
    for (const file of PID_FILES) tryRead(() => readFileSync(`/proc/${name}/${file}`));
    tryRead(() => readlinkSync(`/proc/${name}/exe`));
  }
}

// The tighter floor: what core's FileReader itself does (open, read into one reused buffer
// until EOF, close), without decoding to text. Reported beside the readFileSync baseline.
const buffer = Buffer.allocUnsafe(64 * 1024);
function rawRead(path) {
  const fd = openSync(path, 'r');
  try {
    while (readSync(fd, buffer, 0, buffer.length, null) > 0);
  } finally {
    closeSync(fd);
  }
}

function floorCycle() {
  for (const path of HOST_FILES) tryRead(() => rawRead(path));
  tryRead(() => readdirSync('/sys/devices/system/node'));
  for (const name of readdirSync('/proc')) {
    const c = name.charCodeAt(0);
    if (c < 49 || c > 57) continue;
    for (const file of PID_FILES) tryRead(() => rawRead(`/proc/${name}/${file}`));
    tryRead(() => readlinkSync(`/proc/${name}/exe`));
  }
}

function cpuMs(usage) {
  return (usage.user + usage.system) / 1000;
}

async function measure(cycle, count) {
  const start = process.cpuUsage();
  const wall = performance.now();
  for (let i = 0; i < count; i += 1) await cycle();
  return { cpu: cpuMs(process.cpuUsage(start)), wall: performance.now() - wall };
}

await measure(probeCycle, WARMUP);
await measure(baselineCycle, WARMUP);
await measure(floorCycle, WARMUP);
const per = Math.ceil(CYCLES / ROUNDS);
const totals = { probe: { cpu: 0, wall: 0 }, baseline: { cpu: 0, wall: 0 }, floor: { cpu: 0, wall: 0 } };
const order = [
  ['probe', probeCycle],
  ['baseline', baselineCycle],
  ['floor', floorCycle],
];
for (let round = 0; round < ROUNDS; round += 1) {
  // Rotate the order each round so no variant always runs first.
  for (const [name, cycle] of [...order.slice(round % 3), ...order.slice(0, round % 3)]) {
    const { cpu, wall } = await measure(cycle, per);
    totals[name].cpu += cpu;
    totals[name].wall += wall;
  }
}
await probe.close();
const cycles = per * ROUNDS;
const round3 = (value) => Math.round(value * 1000) / 1000;
const cpuMsPerCycle = totals.probe.cpu / cycles;
const baselineCpuMsPerCycle = totals.baseline.cpu / cycles;
const floorCpuMsPerCycle = totals.floor.cpu / cycles;
process.stdout.write(
  `${JSON.stringify({
    bench: 'probe-procfs',
    processes,
    cycles,
    cpuMsPerCycle: round3(cpuMsPerCycle),
    baselineCpuMsPerCycle: round3(baselineCpuMsPerCycle),
    ratio: round3(cpuMsPerCycle / baselineCpuMsPerCycle),
    wallMsPerCycle: round3(totals.probe.wall / cycles),
    floorCpuMsPerCycle: round3(floorCpuMsPerCycle),
    floorRatio: round3(cpuMsPerCycle / floorCpuMsPerCycle),
    note: 'baseline = readFileSync of the same /proc files, no parsing',
  })}\n`,
);

// Benchmark of the detail tables: one collection of each (process_maps, process_memory,
// process_numa, process_fds, process_sockets) over every process of this host, median of N,
// beside its baseline measured in the same run in alternating order: reading the same files with
// readFileSync/readdirSync/readlinkSync and parsing nothing. Prints one JSON object.
// Build first: npx tsc -p packages/probe-procfs/tsconfig.json. Env: CYCLES (default 15).
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { createFileReader, createHooks, createLogger, createSystemClock } from '@virtualeyes/core';
import { createProbe, parseConfig } from '../dist/index.js';

const CYCLES = Number(process.env.CYCLES ?? 15);
const WARMUP = 2;
const TABLES = ['process_maps', 'process_memory', 'process_numa', 'process_fds', 'process_sockets'];
const PF_KTHREAD = 0x00200000;
const NET_FILES = ['tcp', 'tcp6', 'udp', 'udp6', 'unix'];

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
// Every process for every table, and budgets no collection reaches, so each reads the whole host.
const every = { top: 0 };
const options = parseConfig({
  detailTables: Object.fromEntries(TABLES.map((table) => [table, every])),
  budgets: Object.fromEntries(TABLES.map((table) => [table, 600000])),
});
const created = options.ok ? createProbe(options.value, deps) : options;
if (!created.ok) {
  process.stderr.write(`${created.status.message}\n`);
  process.exit(1);
}
const probe = created.value;
const signal = new AbortController().signal;

function tryRead(read) {
  try {
    return read();
  } catch {
    // Vanished pids and refused files cost the same failed system calls in the probe.
    return undefined;
  }
}

/** The pids the detail tables read: every process but kernel threads (zombies are few). */
function userPids() {
  const pids = [];
  for (const name of readdirSync('/proc')) {
    const c = name.charCodeAt(0);
    if (c < 49 || c > 57) continue;
    const stat = tryRead(() => readFileSync(`/proc/${name}/stat`, 'latin1'));
    if (stat === undefined) continue;
    const flags = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[6]);
    if ((flags & PF_KTHREAD) === 0) pids.push(name);
  }
  return pids;
}

const baselines = {
  process_maps: (pids) => pids.forEach((pid) => tryRead(() => readFileSync(`/proc/${pid}/maps`, 'utf8'))),
  process_memory: (pids) => pids.forEach((pid) => tryRead(() => readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'))),
  process_numa: (pids) => pids.forEach((pid) => tryRead(() => readFileSync(`/proc/${pid}/numa_maps`, 'utf8'))),
  process_fds: (pids) => {
    for (const pid of pids) {
      for (const fd of tryRead(() => readdirSync(`/proc/${pid}/fd`)) ?? []) {
        tryRead(() => readlinkSync(`/proc/${pid}/fd/${fd}`));
        tryRead(() => readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8'));
      }
    }
  },
  process_sockets: (pids) => {
    const namespaces = new Map();
    for (const pid of pids) {
      let sockets = 0;
      for (const fd of tryRead(() => readdirSync(`/proc/${pid}/fd`)) ?? []) {
        if (tryRead(() => readlinkSync(`/proc/${pid}/fd/${fd}`))?.startsWith('socket:')) sockets += 1;
      }
      if (sockets === 0) continue;
      const ns = tryRead(() => readlinkSync(`/proc/${pid}/ns/net`));
      if (ns !== undefined && !namespaces.has(ns)) namespaces.set(ns, pid);
    }
    for (const pid of namespaces.values()) for (const file of NET_FILES) tryRead(() => readFileSync(`/proc/${pid}/net/${file}`, 'utf8'));
  },
};

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
const round3 = (value) => Math.round(value * 1000) / 1000;

/** One timed collection of `table`, after a process scan that the table then reuses (it is younger than a second). */
async function probeOnce(table) {
  await probe.collect({ tables: ['processes'], ts: Date.now(), signal });
  const start = performance.now();
  const result = await probe.collect({ tables: [table], ts: Date.now(), signal });
  const ms = performance.now() - start;
  return { ms, rows: result.batches.find((batch) => batch.table === table)?.rows.length ?? 0, errors: result.errors.map((status) => status.code) };
}

function baselineOnce(table) {
  const pids = userPids();
  const start = performance.now();
  baselines[table](pids);
  return { ms: performance.now() - start, processes: pids.length };
}

const tables = {};
let processes = 0;
for (const table of TABLES) {
  for (let i = 0; i < WARMUP; i += 1) {
    await probeOnce(table);
    baselineOnce(table);
  }
  const probeMs = [];
  const baselineMs = [];
  let rows = 0;
  let errors = [];
  for (let i = 0; i < CYCLES; i += 1) {
    // Alternate which runs first, so neither always finds the kernel's caches warm.
    const runs = i % 2 === 0 ? ['probe', 'baseline'] : ['baseline', 'probe'];
    for (const run of runs) {
      if (run === 'probe') {
        const once = await probeOnce(table);
        probeMs.push(once.ms);
        rows = once.rows;
        errors = once.errors;
      } else {
        const once = baselineOnce(table);
        baselineMs.push(once.ms);
        processes = once.processes;
      }
    }
  }
  const ms = median(probeMs);
  const baseline = median(baselineMs);
  tables[table] = { ms: round3(ms), baselineMs: round3(baseline), ratio: round3(ms / baseline), rows, errors: [...new Set(errors)] };
}
await probe.close();
process.stdout.write(
  `${JSON.stringify({
    bench: 'probe-procfs detail',
    processes,
    cycles: CYCLES,
    statistic: 'median wall ms of one collection',
    tables,
    note: 'baseline = readFileSync/readdirSync/readlinkSync of the same /proc files, no parsing; every process selected (top 0)',
  })}\n`,
);

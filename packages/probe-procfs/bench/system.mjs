// Benchmark of the system table group: one collection of each of its tables (median wall time of
// N), beside a baseline measured in the same run that reads the very files that collection read
// (recorded through the probe's FileReader) with readFileSync/readdirSync/readlinkSync and parses
// nothing; filesystem_usage's baseline also makes the same statfs calls, synchronously. Prints one
// JSON object. Build first: npx tsc -p packages/probe-procfs/tsconfig.json. Env: CYCLES (default 31).
import { readdirSync, readFileSync, readlinkSync, statfsSync } from 'node:fs';
import { createFileReader, createHooks, createLogger, createSystemClock } from '@virtualeyes/core';
import { createProbe, manifest, parseConfig } from '../dist/index.js';

const CYCLES = Number(process.env.CYCLES ?? 31);
const WARMUP = 3;
const TABLES = ['cpu_info', 'numa_nodes', 'numa_stats', 'interfaces', 'net_dev', 'disks', 'disk_io', 'mounts', 'filesystem_usage', 'vmstat', 'pressure', 'cgroups'];

/** A reader that records what it is asked to read while `recording` is set. */
const inner = createFileReader();
let recording;
const files = {
  resolve: (path) => inner.resolve(path),
  readText: (path) => (recording?.push(['text', path]), inner.readText(path)),
  readDir: (path) => (recording?.push(['dir', path]), inner.readDir(path)),
  readLink: (path) => (recording?.push(['link', path]), inner.readLink(path)),
};
const deps = {
  name: 'procfs',
  platform: process.platform,
  clock: createSystemClock(),
  logger: createLogger({ level: 'silent' }),
  files,
  hooks: createHooks(),
  host: 'bench',
  dataDir: '/nonexistent',
};
const options = parseConfig({});
const created = options.ok ? createProbe(options.value, deps) : options;
if (!created.ok) {
  process.stderr.write(`${created.status.message}\n`);
  process.exit(1);
}
const probe = created.value;
const missing = TABLES.filter((table) => !manifest.tables.some((schema) => schema.name === table));
if (missing.length > 0) {
  process.stderr.write(`the built probe has no ${missing.join(', ')}: rebuild dist\n`);
  process.exit(1);
}
const signal = new AbortController().signal;

function tryRun(fn) {
  try {
    fn();
  } catch {
    // Missing optional files cost the same failed system call in the probe.
  }
}

function baselineOf(reads, statfsPaths) {
  return () => {
    for (const [kind, path] of reads) {
      if (kind === 'text') tryRun(() => readFileSync(path));
      else if (kind === 'dir') tryRun(() => readdirSync(path));
      else tryRun(() => readlinkSync(path));
    }
    for (const path of statfsPaths) tryRun(() => statfsSync(path, { bigint: true }));
  };
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
};
const round3 = (value) => Math.round(value * 1000) / 1000;

const results = {};
for (const table of TABLES) {
  recording = [];
  const first = await probe.collect({ tables: [table], ts: Date.now(), signal });
  const reads = recording;
  recording = undefined;
  const rows = first.batches.find((batch) => batch.table === table)?.rows ?? [];
  const statfsPaths = table === 'filesystem_usage' ? rows.map((row) => row.path) : [];
  const baseline = baselineOf(reads, statfsPaths);
  const probeCycle = () => probe.collect({ tables: [table], ts: Date.now(), signal });
  for (let i = 0; i < WARMUP; i += 1) {
    await probeCycle();
    baseline();
  }
  const probeMs = [];
  const baselineMs = [];
  for (let i = 0; i < CYCLES; i += 1) {
    // Alternate which runs first so neither always finds the caches warm.
    const order = i % 2 === 0 ? ['probe', 'baseline'] : ['baseline', 'probe'];
    for (const which of order) {
      const start = performance.now();
      if (which === 'probe') await probeCycle();
      else baseline();
      (which === 'probe' ? probeMs : baselineMs).push(performance.now() - start);
    }
  }
  const p = median(probeMs);
  const b = median(baselineMs);
  results[table] = { rows: rows.length, reads: reads.length + statfsPaths.length, medianMs: round3(p), baselineMedianMs: round3(b), ratio: round3(p / b) };
}
await probe.close();
process.stdout.write(
  `${JSON.stringify({
    bench: 'probe-procfs system group',
    cycles: CYCLES,
    tables: results,
    note: 'median wall ms of one collection per table; baseline = readFileSync/readdirSync of the same files (and statfsSync of the same mounts), no parsing, measured alternately in the same run',
  })}\n`,
);

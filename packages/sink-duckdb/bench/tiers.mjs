// Cost of the writer's maintenance (docs/storage.md, "Retention and tiers"), printed as JSON: an
// hour (BENCH_SAMPLES) of process_stats at 1 Hz, 580 processes shaped like run.mjs's process-load
// (~6 % busy, ~4.5 % of the others waking per second, two short-lived forks per second), with the
// counters declared as counters, written through the sink on a clock that follows the batches, so
// the maintenance runs once per minute of data as it does in vwatchd. Reports each run's rollup and
// retention time (median, max; and over the runs that rolled something, as the first tier rolls ten
// minutes at once), the bytes of the raw table and of each tier after a checkpoint, and
// a second pass with `retention.maxAge: 30m` (and the default rollup, just before retention) for
// the cost of steady-state deletes. The first pass rolls each bucket as it completes (`rollup: immediate`).
// `node bench/tiers.mjs` after a build (npx tsc -b packages/sink-duckdb).
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { createFileReader, createHooks, createLogger } from '@virtualeyes/core';
import { createSink, parseConfig } from '../dist/index.js';
import { tableBytes } from '../dist/retention.js';

const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 3600);
const PROCESSES = 580;
const COUNTERS = new Set(['utime', 'stime', 'minflt', 'majflt', 'read_bytes', 'write_bytes', 'read_chars', 'write_chars', 'voluntary_ctxt_switches', 'nonvoluntary_ctxt_switches']);
const TABLE = {
  name: 'process_stats',
  kind: 'metric',
  description: 'Per-process counters (probe-procfs schema).',
  key: ['pid', 'start_time'],
  columns: [
    ['pid', 'int32'], ['start_time', 'timestamp'], ['utime', 'int64'], ['stime', 'int64'], ['rss', 'int64'], ['vsize', 'int64'],
    ['threads', 'int32'], ['state', 'text'], ['nice', 'int32'], ['minflt', 'int64'], ['majflt', 'int64'], ['read_bytes', 'int64'],
    ['write_bytes', 'int64'], ['read_chars', 'int64'], ['write_chars', 'int64'], ['voluntary_ctxt_switches', 'int64'],
    ['nonvoluntary_ctxt_switches', 'int64'],
  ].map(([name, type]) => ({ name, type, description: name, ...(/_(bytes|chars)$/.test(name) ? { nullable: true } : {}), ...(COUNTERS.has(name) ? { counter: true } : {}) })),
};

function mulberry32(seed) {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** This host's processes, read once (as run.mjs reads them). */
function population() {
  const found = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      found.push({
        state: f[0], minflt: Number(f[7]), majflt: Number(f[9]), utime: Number(f[11]) * 10, stime: Number(f[12]) * 10, nice: Number(f[16]), threads: Number(f[17]),
        vsize: Number(f[20]), rss: Number(f[21]) * 4096, voluntary_ctxt_switches: 0, nonvoluntary_ctxt_switches: 0, read_bytes: 0, write_bytes: 0, read_chars: 0, write_chars: 0,
      });
    } catch {
      // Exited while read.
    }
  }
  return found;
}

/** The batches, one per second from `start`, generated lazily. */
function* load(start) {
  const random = mulberry32(7);
  const shapes = population();
  let nextPid = 20_000;
  const spawn = (ts, lifetime) => ({
    row: { ...shapes[Math.floor(random() * shapes.length)], pid: nextPid++, start_time: ts - Math.floor(random() * 86_400_000) },
    busy: random() < 0.06,
    endsAt: lifetime === undefined ? Infinity : ts + lifetime,
  });
  let live = Array.from({ length: PROCESSES }, () => spawn(start));
  for (let step = 0; step < SAMPLES; step += 1) {
    const ts = start + step * 1000;
    live = live.filter((p) => p.endsAt > ts);
    for (let fork = 0; fork < 2; fork += 1) {
      const child = spawn(ts, 1000 * (1 + Math.floor(random() * 8)));
      child.row.start_time = ts;
      child.busy = true;
      live.push(child);
    }
    const rows = live.map((p) => {
      const r = p.row;
      if (p.busy) {
        r.utime += 10 * (1 + Math.floor(random() * 60)); r.stime += 10 * Math.floor(random() * 5); r.minflt += Math.floor(random() * 200);
        r.voluntary_ctxt_switches += 1 + Math.floor(random() * 50); r.rss += 4096 * (Math.floor(random() * 9) - 4);
        r.read_chars += Math.floor(random() * 65_536); r.state = random() < 0.5 ? 'R' : 'S';
      } else if (random() < 0.045) {
        r.voluntary_ctxt_switches += 1 + Math.floor(random() * 3);
        if (random() < 0.3) r.utime += 10;
      }
      return { ...r };
    });
    yield { table: TABLE.name, ts, snapshot: true, rows };
  }
}

function stats(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return { runs: values.length, median: round(sorted[Math.floor(sorted.length / 2)] ?? 0), max: round(sorted.at(-1) ?? 0), total: round(values.reduce((a, b) => a + b, 0)) };
}
const round = (value) => Number(value.toFixed(1));

async function record(path, options) {
  const start = Date.UTC(2026, 0, 1);
  let now = start;
  const runs = [];
  const logger = createLogger({ level: 'debug', name: 'bench', write: (record) => { if (record.message === 'Maintenance ran') runs.push(record.fields); } });
  const clock = { now: () => now, monotonic: () => performance.now(), setTimer: (fn, ms) => { const t = setTimeout(fn, ms); return { cancel: () => clearTimeout(t) }; } };
  const deps = { name: 'duckdb', clock, logger, files: createFileReader(), hooks: createHooks(), host: 'bench-host', dataDir: tmpdir(), platform: process.platform };
  const config = parseConfig({ path, ...options });
  if (!config.ok) throw new Error(config.status.message);
  const sink = createSink(config.value, deps).value;
  const started = await sink.start({ tables: [TABLE] });
  if (started.code !== 'OK') throw new Error(started.message);
  let writeMs = 0;
  let processSamples = 0;
  for (const batch of load(start)) {
    now = batch.ts;
    processSamples += batch.rows.length;
    const t = performance.now();
    const written = await sink.write([batch]);
    writeMs += performance.now() - t;
    if (written.status.code !== 'OK') throw new Error(written.status.message);
  }
  await sink.close();
  return { runs, writeMs, processSamples };
}

async function sizes(path) {
  const instance = await DuckDBInstance.create(path, { access_mode: 'READ_ONLY' });
  const connection = await instance.connect();
  const out = {};
  // vw_raw.process_stats: the raw rows (layout 3; history.process_stats is its view with the empty stage).
  for (const table of ['vw_raw.process_stats', 'vw_meta.samples', 'vw_tiers.process_stats_60s', 'vw_tiers.process_stats_3600s']) {
    const rows = Number((await connection.runAndReadAll(`SELECT count(*) FROM ${table}`)).getRowsJS()[0][0]);
    const measured = await tableBytes(connection, table);
    out[table] = { rows, bytes: Math.round(measured.bytes), bytesPerRow: round(measured.bytes / Math.max(rows, 1)) };
  }
  connection.disconnectSync();
  instance.closeSync();
  return out;
}

const dir = mkdtempSync(join(tmpdir(), 'sink-duckdb-tiers-'));
try {
  const kept = join(dir, 'kept.db');
  // Rolled as each bucket completes (`rollup: immediate`): the default would roll nothing while raw rows are kept forever.
  const first = await record(kept, { retention: { maxAge: 'forever' }, rollup: 'immediate' });
  const trimmed = join(dir, 'trimmed.db');
  const second = await record(trimmed, { retention: { maxAge: '30m' } });
  const steady = second.runs.filter((run) => run.deletedRows > 0);
  console.log(JSON.stringify({
    bench: 'sink-duckdb-tiers',
    samples: SAMPLES,
    processSamples: first.processSamples,
    writeMsPerSample: round(first.writeMs / SAMPLES),
    rollupMsPerRun: stats(first.runs.map((run) => run.rollupMs)),
    rollupMsPerRunThatRolled: stats(first.runs.filter((run) => run.tierRows > 0).map((run) => run.rollupMs)),
    rollupMsPerHourOfData: round(first.runs.reduce((sum, run) => sum + run.rollupMs, 0) / (SAMPLES / 3600)),
    tierRowsPerRun: stats(first.runs.map((run) => run.tierRows)),
    retentionMsPerRunNothingToDelete: stats(first.runs.map((run) => run.retentionMs)),
    retentionMsPerRunDeleting: stats(steady.map((run) => run.retentionMs)),
    deletedRowsPerRun: stats(steady.map((run) => run.deletedRows)),
    failures: first.runs.reduce((sum, run) => sum + run.failures, 0) + second.runs.reduce((sum, run) => sum + run.failures, 0),
    sizes: await sizes(kept),
    sizesAfter30mRetention: await sizes(trimmed),
  }, null, 1));
} finally {
  if (process.env.BENCH_KEEP === undefined) rmSync(dir, { recursive: true, force: true });
  else console.error(dir);
}

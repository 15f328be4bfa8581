// Write benchmark of the DuckDB sink: ten minutes of synthetic process samples (600 processes,
// a 14-column metric table every 5 s, a state table where ~2% of entities change per batch),
// beside the floor measured in the same run: the same metric rows through a raw DuckDB
// Appender into a plain table. Prints one JSON object. Needs a build: npx tsc -b packages/sink-duckdb
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance, DuckDBTimestampTZValue } from '@duckdb/node-api';
import { createFileReader, createHooks, createLogger, createSystemClock } from '@virtualeyes/core';
import { createSink, parseConfig } from '../dist/index.js';

const PROCESSES = 600;
const INTERVAL_MS = 5000;
const BATCHES = 120; // 10 minutes
const CHANGE_SHARE = 0.02;
const HOST = 'bench-host';

const METRIC = {
  name: 'process_stats',
  kind: 'metric',
  description: 'Per-process counters.',
  key: ['pid', 'start_time'],
  columns: [
    ['pid', 'int32'], ['start_time', 'int64'], ['state', 'text'], ['utime', 'int64'], ['stime', 'int64'],
    ['minflt', 'int64'], ['majflt', 'int64'], ['rss', 'int64'], ['vsize', 'int64'], ['threads', 'int32'],
    ['read_bytes', 'int64'], ['write_bytes', 'int64'], ['voluntary_ctxt', 'int64'], ['cpu_percent', 'float64'],
  ].map(([name, type]) => ({ name, type, description: name })),
};

const STATE = {
  name: 'processes',
  kind: 'state',
  description: 'A process and its identity.',
  key: ['pid', 'start_time'],
  columns: [
    ['pid', 'int32'], ['start_time', 'int64'], ['ppid', 'int32'], ['uid', 'int32'], ['comm', 'text'],
    ['exe', 'text'], ['cwd', 'text'], ['cmdline', 'text[]'], ['cgroup', 'text'], ['nice', 'int32'],
  ].map(([name, type]) => ({ name, type, description: name })),
};

/** Deterministic PRNG so every run writes the same data. */
function mulberry32(seed) {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const COMMANDS = ['bash', 'sshd', 'postgres', 'node', 'nginx', 'python3', 'java', 'systemd-journald', 'containerd', 'kworker/0:1'];

function makeWorkload() {
  const random = mulberry32(42);
  let nextPid = 1000;
  const spawn = (startTime) => {
    const comm = COMMANDS[Math.floor(random() * COMMANDS.length)];
    const pid = nextPid++;
    return {
      identity: {
        pid, start_time: startTime, ppid: 1 + Math.floor(random() * 500), uid: random() < 0.3 ? 0 : 1000, comm,
        exe: `/usr/bin/${comm}`, cwd: '/', cmdline: [comm, '--flag', String(pid)], cgroup: `/system.slice/${comm}.service`, nice: 0,
      },
      counters: { utime: 0, stime: 0, minflt: 0, majflt: 0, rss: 4096 * (100 + Math.floor(random() * 50_000)), vsize: 1 << 28, read_bytes: 0, write_bytes: 0, ctxt: 0 },
      busy: random() < 0.15,
    };
  };
  const live = Array.from({ length: PROCESSES }, (_, index) => spawn(index * 3));
  const start = Date.now() - BATCHES * INTERVAL_MS;
  const batches = [];
  for (let step = 0; step < BATCHES; step += 1) {
    const ts = start + step * INTERVAL_MS;
    if (step > 0) {
      for (let change = 0; change < Math.round(PROCESSES * CHANGE_SHARE); change += 1) {
        const index = Math.floor(random() * live.length);
        if (change % 2 === 0) live[index] = spawn(10_000 + step * 100 + change); // an exit and a new process
        else live[index].identity = { ...live[index].identity, cwd: `/srv/job-${step}-${change}` };
      }
    }
    const metricRows = live.map((process) => {
      const c = process.counters;
      const ticks = process.busy ? Math.floor(random() * 400) : random() < 0.1 ? 1 : 0;
      c.utime += ticks; c.stime += Math.floor(ticks / 4); c.minflt += ticks * 3; c.ctxt += ticks > 0 ? 1 + ticks : 0;
      c.read_bytes += process.busy ? 4096 * Math.floor(random() * 64) : 0;
      c.write_bytes += process.busy ? 4096 * Math.floor(random() * 16) : 0;
      if (process.busy) c.rss += 4096 * (Math.floor(random() * 21) - 10);
      return {
        pid: process.identity.pid, start_time: process.identity.start_time, state: ticks > 0 ? 'R' : 'S',
        utime: c.utime, stime: c.stime, minflt: c.minflt, majflt: c.majflt, rss: c.rss, vsize: c.vsize, threads: 1 + (process.identity.pid % 8),
        read_bytes: c.read_bytes, write_bytes: c.write_bytes, voluntary_ctxt: c.ctxt, cpu_percent: ticks / 5,
      };
    });
    batches.push({
      metric: { table: METRIC.name, ts, snapshot: true, rows: metricRows },
      state: { table: STATE.name, ts, snapshot: true, rows: live.map((process) => process.identity) },
    });
  }
  return batches;
}

function fileBytes(path) {
  let bytes = statSync(path).size;
  try { bytes += statSync(`${path}.wal`).size; } catch { /* no WAL after a checkpoint */ }
  return bytes;
}

async function openSink(path) {
  const deps = {
    name: 'duckdb', clock: createSystemClock(), logger: createLogger({ level: 'silent', name: 'bench' }), files: createFileReader(),
    hooks: createHooks(), host: HOST, dataDir: tmpdir(), platform: process.platform,
  };
  const sink = createSink(parseConfig({ path }).value, deps).value;
  const started = await sink.start({ tables: [METRIC, STATE] });
  if (started.code !== 'OK') throw new Error(started.message);
  return sink;
}

async function openBaseline(path) {
  // Same file settings as the sink's store, so the floor differs only in what the sink adds.
  const instance = await DuckDBInstance.create(path, { threads: '2', memory_limit: '1GB', storage_compatibility_version: 'latest', default_block_size: '65536' });
  const connection = await instance.connect();
  const types = { int32: 'INTEGER', int64: 'BIGINT', float64: 'DOUBLE', text: 'VARCHAR' };
  const columns = METRIC.columns.map((column) => `${column.name} ${types[column.type]}`);
  await connection.run(`CREATE TABLE process_stats (host VARCHAR, ts TIMESTAMPTZ, ${columns.join(', ')})`);
  return { instance, connection };
}

/** The floor: one transaction appending the batch's rows with a raw Appender. */
async function appendRaw(connection, metric) {
  await connection.run('BEGIN TRANSACTION');
  const appender = await connection.createAppender('process_stats');
  const ts = new DuckDBTimestampTZValue(BigInt(metric.ts) * 1000n);
  for (const row of metric.rows) {
    appender.appendVarchar(HOST);
    appender.appendTimestampTZ(ts);
    for (const column of METRIC.columns) {
      const value = row[column.name];
      if (column.type === 'int32') appender.appendInteger(value);
      else if (column.type === 'int64') appender.appendBigInt(BigInt(value));
      else if (column.type === 'float64') appender.appendDouble(value);
      else appender.appendVarchar(value);
    }
    appender.endRow();
  }
  appender.closeSync();
  await connection.run('COMMIT');
}

/** Runs sink and floor batch by batch, interleaved, so both see the same machine state. */
async function run(sinkPath, baselinePath, workload) {
  const sink = await openSink(sinkPath);
  const baseline = await openBaseline(baselinePath);
  const times = { metric: 0, state: 0, baseline: 0 };
  const timed = async (key, work) => {
    const t = performance.now();
    const result = await work();
    times[key] += performance.now() - t;
    return result;
  };
  for (const { metric, state } of workload) {
    await timed('baseline', () => appendRaw(baseline.connection, metric));
    const m = await timed('metric', () => sink.write([metric]));
    const s = await timed('state', () => sink.write([state]));
    if (m.status.code !== 'OK' || s.status.code !== 'OK') throw new Error(m.status.message || s.status.message);
  }
  const versions = await sink.reader().query({ sql: 'SELECT count(*) FROM history.processes' });
  await sink.close(); // closes open versions and checkpoints
  await baseline.connection.run('CHECKPOINT');
  baseline.connection.disconnectSync();
  baseline.instance.closeSync();
  return { times, versions: Number(versions.value.rows[0][0]), sinkBytes: fileBytes(sinkPath), baselineBytes: fileBytes(baselinePath) };
}

const dir = mkdtempSync(join(tmpdir(), 'sink-duckdb-bench-'));
try {
  const workload = makeWorkload();
  const metricRows = workload.reduce((sum, batch) => sum + batch.metric.rows.length, 0);
  const stateRows = workload.reduce((sum, batch) => sum + batch.state.rows.length, 0);
  const measured = await run(join(dir, 'vwatchd.db'), join(dir, 'baseline.db'), workload);
  const round = (value, digits = 3) => Number(value.toFixed(digits));
  const writeMsPerBatch = measured.times.metric / BATCHES;
  const baselineWriteMsPerBatch = measured.times.baseline / BATCHES;
  console.log(
    JSON.stringify({
      bench: 'sink-duckdb',
      rows: metricRows + stateRows,
      metricRows,
      stateRows,
      stateVersionsWritten: measured.versions,
      batches: BATCHES,
      writeMsPerBatch: round(writeMsPerBatch),
      stateWriteMsPerBatch: round(measured.times.state / BATCHES),
      baselineWriteMsPerBatch: round(baselineWriteMsPerBatch),
      ratio: round(writeMsPerBatch / baselineWriteMsPerBatch, 2),
      bytesPerMetricRow: round(measured.sinkBytes / metricRows, 1),
      baselineBytesPerRow: round(measured.baselineBytes / metricRows, 1),
    }),
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}

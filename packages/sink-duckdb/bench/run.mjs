// Write benchmark of the DuckDB sink, two cases in one run, printed as one JSON object:
// - 'mixed': ten minutes of synthetic process samples (600 processes, a 14-column metric table
//   every 5 s, a state table where ~2% of entities change per batch), beside the floor measured
//   in the same run: the same metric rows through a raw DuckDB Appender into a plain table.
// - 'process-load' (processLoad): ten minutes of process_stats at 1 Hz on a fake clock, 580
//   processes shaped from this host's /proc (read once), ~90 % idle per sample, a few forks and
//   exits per second; bytes per process-sample of the change-only store beside layout 1 (every
//   row of every sample, raw Appender, same file settings), and the latency of an as-of count.
// `node bench/run.mjs process-load` runs only the second (BENCH_SAMPLES=3600 for an hour). Needs a build: npx tsc -b packages/sink-duckdb
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance, DuckDBTimestampTZValue } from '@duckdb/node-api';
import { createFileReader, createHooks, createLogger, createSystemClock } from '@virtualeyes/core';
import { createReader, createSink, parseConfig } from '../dist/index.js';

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

/** The mixed case: the sink's metric and state writes beside the raw Appender floor. */
async function mixedCase(dir) {
  const workload = makeWorkload();
  const metricRows = workload.reduce((sum, batch) => sum + batch.metric.rows.length, 0);
  const stateRows = workload.reduce((sum, batch) => sum + batch.state.rows.length, 0);
  const measured = await run(join(dir, 'vwatchd.db'), join(dir, 'baseline.db'), workload);
  const writeMsPerBatch = measured.times.metric / BATCHES;
  const baselineWriteMsPerBatch = measured.times.baseline / BATCHES;
  return {
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
  };
}

function round(value, digits = 3) {
  return Number(value.toFixed(digits));
}

// ---------------------------------------------------------------------------------------------
// process-load: the real process_stats schema at 1 Hz.

const LOAD = { processes: 580, samples: Number(process.env.BENCH_SAMPLES ?? 600), intervalMs: 1000, busyShare: 0.06, wakeShare: 0.045, forksPerSecond: 2, checkpointEvery: 60 };

const PROCESS_STATS = {
  name: 'process_stats',
  kind: 'metric',
  description: 'Per-process counters (probe-procfs schema).',
  key: ['pid', 'start_time'],
  columns: [
    ['pid', 'int32'], ['start_time', 'timestamp'], ['utime', 'int64'], ['stime', 'int64'], ['rss', 'int64'], ['vsize', 'int64'],
    ['threads', 'int32'], ['state', 'text'], ['nice', 'int32'], ['minflt', 'int64'], ['majflt', 'int64'], ['read_bytes', 'int64'],
    ['write_bytes', 'int64'], ['read_chars', 'int64'], ['write_chars', 'int64'], ['voluntary_ctxt_switches', 'int64'],
    ['nonvoluntary_ctxt_switches', 'int64'],
  ].map(([name, type]) => ({ name, type, description: name, ...(/_(bytes|chars)$/.test(name) ? { nullable: true } : {}) })),
};

/** This host's processes, read once: the shape (sizes, counters, states) the synthetic load starts from. */
function readProcPopulation() {
  const population = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const status = readFileSync(`/proc/${name}/status`, 'utf8');
      const field = (key) => Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? 0);
      let io;
      try {
        const text = readFileSync(`/proc/${name}/io`, 'utf8');
        const value = (key) => Number(new RegExp(`^${key}: (\\d+)`, 'm').exec(text)?.[1] ?? 0);
        io = { read_bytes: value('read_bytes'), write_bytes: value('write_bytes'), read_chars: value('rchar'), write_chars: value('wchar') };
      } catch {
        io = { read_bytes: null, write_bytes: null, read_chars: null, write_chars: null };
      }
      population.push({
        state: fields[0], minflt: Number(fields[7]), majflt: Number(fields[9]), utime: Number(fields[11]) * 10, stime: Number(fields[12]) * 10,
        nice: Number(fields[16]), threads: Number(fields[17]), startTicks: Number(fields[19]), vsize: Number(fields[20]), rss: Number(fields[21]) * 4096,
        voluntary_ctxt_switches: field('voluntary_ctxt_switches'), nonvoluntary_ctxt_switches: field('nonvoluntary_ctxt_switches'), ...io,
      });
    } catch {
      // The process exited while being read.
    }
  }
  return population;
}

/**
 * 600 snapshots of process_stats: the real population cloned to 580 processes (new pids), ~6 %
 * busy (every counter moves every second), ~4.5 % of the others waking per second (a context
 * switch, sometimes a tick), two short-lived children forked per second (each lives 1-8 s), and
 * a long-lived process replaced every 30 s.
 */
function makeProcessLoad(population, start) {
  const random = mulberry32(7);
  let nextPid = 20_000;
  const spawn = (template, ts, lifetime) => ({
    row: {
      ...template, pid: nextPid++, start_time: ts - Math.floor(random() * 86_400_000), state: template.state === 'R' ? 'S' : template.state,
    },
    busy: random() < LOAD.busyShare,
    endsAt: lifetime === undefined ? Infinity : ts + lifetime,
  });
  const pick = () => population[Math.floor(random() * population.length)];
  let live = Array.from({ length: LOAD.processes }, (_, index) => spawn(population[index % population.length], start));
  for (const process of live) delete process.row.startTicks;
  const batches = [];
  for (let step = 0; step < LOAD.samples; step += 1) {
    const ts = start + step * LOAD.intervalMs;
    live = live.filter((process) => process.endsAt > ts);
    for (let fork = 0; fork < LOAD.forksPerSecond; fork += 1) {
      const child = spawn(pick(), ts, 1000 * (1 + Math.floor(random() * 8)));
      child.row.start_time = ts;
      child.busy = true;
      delete child.row.startTicks;
      live.push(child);
    }
    if (step % 30 === 29) {
      const index = Math.floor(random() * live.length);
      const replacement = spawn(pick(), ts);
      delete replacement.row.startTicks;
      live[index] = replacement;
    }
    const rows = live.map((process) => {
      const row = process.row;
      if (process.busy) {
        const ms = 10 * (1 + Math.floor(random() * 60));
        row.utime += ms; row.stime += 10 * Math.floor(random() * 5); row.minflt += Math.floor(random() * 200);
        row.voluntary_ctxt_switches += 1 + Math.floor(random() * 50); row.nonvoluntary_ctxt_switches += Math.floor(random() * 5);
        row.rss += 4096 * (Math.floor(random() * 9) - 4);
        if (row.read_chars !== null) { row.read_chars += Math.floor(random() * 65_536); row.write_chars += Math.floor(random() * 8192); }
        row.state = random() < 0.5 ? 'R' : 'S';
      } else if (random() < LOAD.wakeShare) {
        row.voluntary_ctxt_switches += 1 + Math.floor(random() * 3);
        if (random() < 0.3) row.utime += 10;
        if (row.read_chars !== null && random() < 0.5) row.read_chars += 64 * (1 + Math.floor(random() * 16));
      }
      return { ...row };
    });
    batches.push({ table: PROCESS_STATS.name, ts, snapshot: true, rows });
  }
  return batches;
}

function benchDeps() {
  return {
    name: 'duckdb', clock: createSystemClock(), logger: createLogger({ level: 'silent', name: 'bench' }), files: createFileReader(),
    hooks: createHooks(), host: HOST, dataDir: tmpdir(), platform: process.platform,
  };
}

/** Writes `batches` through the sink; with `checkpointEvery`, flushes (CHECKPOINT) every that many samples, as a long-running daemon's WAL does. */
async function writeThroughSink(path, batches, checkpointEvery) {
  const sink = createSink(parseConfig({ path }).value, benchDeps()).value;
  const started = await sink.start({ tables: [PROCESS_STATS] });
  if (started.code !== 'OK') throw new Error(started.message);
  let ms = 0;
  for (const [index, batch] of batches.entries()) {
    const t = performance.now();
    const written = await sink.write([batch]);
    ms += performance.now() - t;
    if (written.status.code !== 'OK') throw new Error(written.status.message);
    if (checkpointEvery !== undefined && index % checkpointEvery === checkpointEvery - 1) await sink.flush();
  }
  const stored = await sink.reader().query({ sql: 'SELECT count(*) FILTER (WHERE _gone IS NOT TRUE), count(*) FILTER (WHERE _gone) FROM history.process_stats' });
  if (!stored.ok) throw new Error(stored.status.message);
  await sink.close();
  return { ms, rows: Number(stored.value.rows[0][0]), tombstones: Number(stored.value.rows[0][1]) };
}

const DUCK_TYPES = { int32: 'INTEGER', int64: 'BIGINT', float64: 'DOUBLE', text: 'VARCHAR', timestamp: 'TIMESTAMPTZ' };

/** Layout 1: every row of every sample, raw Appender, the store's file settings. */
async function writeEveryRow(path, batches) {
  const instance = await DuckDBInstance.create(path, { threads: '2', memory_limit: '1GB', storage_compatibility_version: 'latest', default_block_size: '65536' });
  const connection = await instance.connect();
  await connection.run(`CREATE TABLE process_stats (host VARCHAR NOT NULL, ts TIMESTAMPTZ NOT NULL, ${PROCESS_STATS.columns.map((c) => `${c.name} ${DUCK_TYPES[c.type]}`).join(', ')})`);
  let ms = 0;
  for (const batch of batches) {
    const t = performance.now();
    await connection.run('BEGIN TRANSACTION');
    const appender = await connection.createAppender('process_stats');
    const ts = new DuckDBTimestampTZValue(BigInt(batch.ts) * 1000n);
    for (const row of batch.rows) {
      appender.appendVarchar(HOST);
      appender.appendTimestampTZ(ts);
      for (const column of PROCESS_STATS.columns) {
        const value = row[column.name];
        if (value === null || value === undefined) appender.appendNull();
        else if (column.type === 'int32') appender.appendInteger(value);
        else if (column.type === 'int64') appender.appendBigInt(BigInt(value));
        else if (column.type === 'timestamp') appender.appendTimestampTZ(new DuckDBTimestampTZValue(BigInt(value) * 1000n));
        else appender.appendVarchar(value);
      }
      appender.endRow();
    }
    appender.closeSync();
    await connection.run('COMMIT');
    ms += performance.now() - t;
  }
  await connection.run('CHECKPOINT');
  return { ms, instance, connection };
}

/**
 * Bytes the file would take with every deleted row reclaimed: a copy through COPY FROM DATABASE
 * (rows in their stored order). DuckDB reclaims the rows a sort replaced at a later checkpoint
 * that rewrites their row group; right after the last sort they still take space.
 */
async function compactBytes(path) {
  const copy = `${path}.copy.db`;
  const instance = await DuckDBInstance.create(copy, { storage_compatibility_version: 'latest', default_block_size: '65536', threads: '1' });
  const connection = await instance.connect();
  await connection.run(`ATTACH '${path}' AS source (READ_ONLY)`);
  const name = (await connection.runAndReadAll('SELECT current_database()')).getRowsJS()[0][0];
  await connection.run(`COPY FROM DATABASE source TO "${name}"`);
  await connection.run('DETACH source');
  await connection.run('CHECKPOINT');
  connection.disconnectSync();
  instance.closeSync();
  return fileBytes(copy);
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** The store's encodings of process_stats, per column: compression and bytes-ish (segment count) as PRAGMA storage_info reports them. */
async function encodings(connection, table) {
  const reader = await connection.runAndReadAll(
    `SELECT column_name, string_agg(DISTINCT compression, '+' ORDER BY compression), count(*) FROM pragma_storage_info('${table}') WHERE segment_type <> 'VALIDITY' GROUP BY column_name, column_id ORDER BY column_id`,
  );
  return Object.fromEntries(reader.getRowsJS().map(([name, compression, segments]) => [name, `${compression} (${Number(segments)} segments)`]));
}

async function processLoadCase(dir) {
  const population = readProcPopulation();
  const start = Date.now() - LOAD.samples * LOAD.intervalMs - 60_000;
  const batches = makeProcessLoad(population, start);
  const processSamples = batches.reduce((sum, batch) => sum + batch.rows.length, 0);

  // An empty store (the table declared, nothing written): the fixed cost every file has.
  const emptyPath = join(dir, 'empty.db');
  await writeThroughSink(emptyPath, []);
  const emptyBytes = fileBytes(emptyPath);

  const changePath = join(dir, 'change-only.db');
  const change = await writeThroughSink(changePath, batches);
  const changeBytes = fileBytes(changePath);
  const checkpointedPath = join(dir, 'change-only-checkpointed.db');
  await writeThroughSink(checkpointedPath, batches, LOAD.checkpointEvery);
  const checkpointedBytes = fileBytes(checkpointedPath);

  const everyPath = join(dir, 'every-row.db');
  const every = await writeEveryRow(everyPath, batches);
  const everyBytes = fileBytes(everyPath);

  // As-of count on the closed change-only store (offline reader: data read from the checkpointed file).
  const reader = (await createReader({ path: changePath }, { clock: createSystemClock(), logger: createLogger({ level: 'silent', name: 'bench' }), dataDir: dir })).value;
  const instants = Array.from({ length: 21 }, (_, index) => start + Math.round(((index + 0.5) * LOAD.samples * LOAD.intervalMs) / 21));
  const latencies = [];
  let counts = [];
  for (const at of instants) {
    const t = performance.now();
    const result = await reader.query({ sql: 'SELECT count(*) FROM process_stats', at });
    latencies.push(performance.now() - t);
    if (!result.ok) throw new Error(result.status.message);
    counts.push(Number(result.value.rows[0][0]));
  }
  await reader.close();
  // The same question on layout 1, as its as-of view asked it (the rows of the last sample).
  const everyLatencies = [];
  const everyCounts = [];
  for (const at of instants) {
    const t = performance.now();
    const literal = `make_timestamptz(${BigInt(at) * 1000n}::BIGINT)`;
    const earliest = `make_timestamptz(${BigInt(at - 300_000) * 1000n}::BIGINT)`;
    const result = await every.connection.runAndReadAll(
      `SELECT count(*) FROM process_stats AS sample SEMI JOIN (SELECT host, max(ts) AS ts FROM process_stats WHERE ts > ${earliest} AND ts <= ${literal} GROUP BY host) AS latest ON sample.host = latest.host AND sample.ts = latest.ts`,
    );
    everyLatencies.push(performance.now() - t);
    everyCounts.push(Number(result.getRowsJS()[0][0]));
  }
  const everyEncodings = await encodings(every.connection, 'process_stats');
  every.connection.disconnectSync();
  every.instance.closeSync();
  const inspect = await DuckDBInstance.create(changePath, { access_mode: 'READ_ONLY' });
  const connection = await inspect.connect();
  // Layout 3: the rows are in vw_raw.process_stats (the close moved the stage there).
  const changeEncodings = await encodings(connection, 'vw_raw.process_stats');
  const rowGroups = Number((await connection.runAndReadAll("SELECT count(DISTINCT row_group_id) FROM pragma_storage_info('vw_raw.process_stats')")).getRowsJS()[0][0]);
  const logEncodings = await encodings(connection, 'vw_meta.samples');
  connection.disconnectSync();
  inspect.closeSync();

  // The reader's own cost of an as-of query that creates no view (catalogue read, checks, keyframe bound).
  const roundTrip = [];
  const again = (await createReader({ path: changePath }, { clock: createSystemClock(), logger: createLogger({ level: 'silent', name: 'bench' }), dataDir: dir })).value;
  for (const at of instants) {
    const t = performance.now();
    await again.query({ sql: 'SELECT 1', at });
    roundTrip.push(performance.now() - t);
  }
  await again.close();
  const compacted = { changeOnly: await compactBytes(changePath), everyRow: await compactBytes(everyPath) };

  const perSample = (bytes) => round(bytes / processSamples, 2);
  return {
    processes: LOAD.processes,
    realProcessesRead: population.length,
    samples: LOAD.samples,
    processSamples,
    storedRows: change.rows,
    tombstones: change.tombstones,
    storedShare: round((change.rows + change.tombstones) / processSamples, 4),
    bytesPerProcessSample: perSample(changeBytes),
    bytesPerProcessSampleNet: perSample(changeBytes - emptyBytes),
    bytesPerProcessSampleCheckpointEveryMinute: perSample(checkpointedBytes),
    everyRowBytesPerProcessSample: perSample(everyBytes),
    everyRowBytesPerProcessSampleNet: perSample(everyBytes - emptyBytes),
    bytesPerProcessSampleReclaimed: perSample(compacted.changeOnly),
    everyRowBytesPerProcessSampleReclaimed: perSample(compacted.everyRow),
    ratio: round(changeBytes / everyBytes, 3),
    fileBytes: { changeOnly: changeBytes, changeOnlyCheckpointedEveryMinute: checkpointedBytes, everyRow: everyBytes, emptyStore: emptyBytes },
    writeMsPerSample: round(change.ms / LOAD.samples),
    everyRowWriteMsPerSample: round(every.ms / LOAD.samples),
    asOfCountMs: { median: round(median(latencies), 2), max: round(Math.max(...latencies), 2) },
    asOfRoundTripMs: round(median(roundTrip), 2),
    everyRowAsOfCountMs: { median: round(median(everyLatencies), 2), max: round(Math.max(...everyLatencies), 2) },
    asOfCountsMatch: counts.every((value, index) => value === everyCounts[index]),
    rowGroups,
    encodings: changeEncodings,
    everyRowEncodings: everyEncodings,
    sampleLogEncodings: logEncodings,
  };
}

const dir = mkdtempSync(join(tmpdir(), 'sink-duckdb-bench-'));
try {
  const only = process.argv[2];
  const output = { bench: 'sink-duckdb' };
  if (only === undefined || only === 'mixed') Object.assign(output, await mixedCase(dir));
  if (only === undefined || only === 'process-load') output.processLoad = await processLoadCase(dir);
  console.log(JSON.stringify(output));
} finally {
  if (process.env.BENCH_KEEP === undefined) rmSync(dir, { recursive: true, force: true });
  else console.error(dir);
}

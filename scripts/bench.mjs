#!/usr/bin/env node
// `npm run bench`: runs every package's bench/run.mjs and the whole-recording benchmark, and
// prints one JSON document. Each figure stands beside a baseline measured in the same run.
// The recording benchmark drives a real agent (probe-procfs on this host's /proc into
// sink-duckdb) through 10 minutes of schedule on a fake clock, then measures the file.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const root = new URL('..', import.meta.url).pathname;
const only = process.argv.slice(2);
const wanted = (name) => only.length === 0 || only.includes(name);
const results = [];

function runScript(file) {
  return new Promise((resolve) => {
    execFile(process.execPath, [file], { cwd: join(file, '../..'), maxBuffer: 16 * 1024 * 1024, timeout: 20 * 60 * 1000 }, (error, stdout, stderr) => {
      if (error !== null) {
        resolve({ error: `${file}: ${error.message.split('\n')[0]}`, stderr: stderr.trim().split('\n').slice(-5) });
        return;
      }
      try {
        resolve(JSON.parse(stdout.trim().split('\n').filter((line) => line.startsWith('{')).pop() ?? stdout));
      } catch {
        resolve({ error: `${file}: did not print JSON`, stdout: stdout.slice(0, 500) });
      }
    });
  });
}

for (const name of readdirSync(join(root, 'packages')).sort()) {
  const script = join(root, 'packages', name, 'bench', 'run.mjs');
  if (existsSync(script) && wanted(name)) {
    process.stderr.write(`bench: ${name}…\n`);
    results.push(await runScript(script));
  }
}

if (wanted('recording')) {
  process.stderr.write('bench: recording (10 minutes of schedule on a fake clock, real /proc)…\n');
  results.push(await recordingBench());
}

process.stdout.write(`${JSON.stringify({ machine: machine(), results }, null, 2)}\n`);

async function recordingBench() {
  const core = await import(pathToFileURL(join(root, 'packages/core/dist/index.js')).href);
  const { createFakeClock } = await import(pathToFileURL(join(root, 'packages/core/dist/testing/fake-clock.js')).href);
  const duckdb = await import(pathToFileURL(join(root, 'packages/sink-duckdb/dist/index.js')).href);
  const dataDir = mkdtempSync(join(tmpdir(), 've-bench-recording-'));
  const recordedMs = 10 * 60 * 1000;
  const clock = createFakeClock(Date.now());
  const created = await core.createAgent(
    { dataDir, probes: [{ use: '@virtualeyes/probe-procfs' }], sinks: [{ use: '@virtualeyes/sink-duckdb' }] },
    { clock, resolveFrom: [root], logger: core.createLogger({ level: 'warn' }) },
  );
  if (!created.ok) return { bench: 'recording', error: core.formatStatus(created.status) };
  const agent = created.value;
  const cpuStart = process.cpuUsage();
  const wallStart = performance.now();
  await agent.start();
  for (let elapsed = 0; elapsed < recordedMs; elapsed += 1000) await clock.advance(1000);
  const stopped = await agent.stop();
  const cpu = process.cpuUsage(cpuStart);
  const wallMs = performance.now() - wallStart;
  const file = join(dataDir, 'vwatchd.db');
  const bytes = statSync(file).size + (existsSync(`${file}.wal`) ? statSync(`${file}.wal`).size : 0);
  const reader = await duckdb.createReader({ path: file }, { clock: core.createSystemClock(), logger: core.createLogger({ level: 'silent' }), dataDir });
  if (!reader.ok) return { bench: 'recording', error: core.formatStatus(reader.status) };
  const counted = await reader.value.query({
    sql: `select (select count(*) from history.process_stats) as samples,
                 (select count(distinct ts) from history.process_stats) as cycles,
                 (select count(*) from history.processes) as versions,
                 (select count(*) from history.cpu) as cpu_rows`,
  });
  await reader.value.close();
  rmSync(dataDir, { recursive: true, force: true });
  if (!counted.ok) return { bench: 'recording', error: core.formatStatus(counted.status) };
  const [samples, cycles, versions, cpuRows] = counted.value.rows[0];
  const status = agent.status();
  return {
    bench: 'recording',
    recordedMinutes: recordedMs / 60_000,
    processSamples: samples,
    processCycles: cycles,
    processesPerCycle: Math.round(samples / cycles),
    processVersions: versions,
    cpuRows,
    fileBytes: bytes,
    bytesPerProcessSample: Math.round((bytes / samples) * 10) / 10,
    agentCpuMsPerSimulatedSecond: Math.round(((cpu.user + cpu.system) / 1000 / (recordedMs / 1000)) * 100) / 100,
    wallSeconds: Math.round(wallMs / 100) / 10,
    droppedRows: status.sinks.reduce((sum, sink) => sum + sink.droppedRows, 0),
    stopStatus: stopped.code,
    note: 'whole vwatchd.db (every table, metadata included) divided by process_stats rows; peers on a similar VM: atop ~19-22 B, PCP atop-proc 613 B per process-sample',
  };
}

function machine() {
  let cpus = 0;
  try {
    cpus = readdirSync('/sys/devices/system/cpu').filter((name) => /^cpu\d+$/.test(name)).length;
  } catch {
    cpus = 0;
  }
  return { node: process.version, platform: process.platform, cpus, date: new Date().toISOString() };
}

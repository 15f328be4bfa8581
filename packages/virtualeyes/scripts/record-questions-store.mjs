#!/usr/bin/env node
// Re-records the fixture store of the worked questions in docs/querying.md
// (packages/virtualeyes/test/fixtures/questions/): the real vwatchd, with the real probe-procfs
// at 1 s intervals, records a private pid namespace for about 2.5 minutes while this script
// drives a workload whose facts it knows (pids, lifetimes, CPU time, bytes written, an exec, a
// burst of children, a stop and restart of vwatchd) and writes them to facts.json beside the store.
//
// Needs root (unshare), python3 and a build (`npx tsc -b`). Run from anywhere:
//   node packages/virtualeyes/scripts/record-questions-store.mjs [--out DIR]
// then update the instants and excerpts of docs/querying.md's worked questions, and run
// `npx vitest run --project virtualeyes test/questions`.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { release, tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const SELF = fileURLToPath(import.meta.url);
const VWATCHD = join(ROOT, 'packages/vwatchd/bin/vwatchd.js');
const DEFAULT_OUT = join(ROOT, 'packages/virtualeyes/test/fixtures/questions');
/** Every table of probe-procfs, sampled every second. */
const INTERVAL_MS = 1000;
const TABLES = ['system_info', 'cpu', 'memory', 'load', 'processes', 'process_stats'];
/** Size of the memory hog's allocation. */
/** Size of the memory hog's allocation: well above what the rest of the host's memory moves by in a few seconds. */
const HOG_BYTES = 2 ** 30;
/** What the writer writes and fsyncs. */
const WRITE_MIB = 64;
/** Children of the burst. */
const BURST = 20;
const NOBODY = 65534;
/** How late a step of the timeline may run: the probes sample within ~100 ms after each second, the workload acts at half seconds. */
const LATE_MS = 300;
/**
 * The system's python3, run as `python3`: a version manager's shim (pyenv) would exec the real
 * interpreter and so change every command line once, and `nobody` may not be able to reach it.
 */
const PYTHON = '/usr/bin/python3';

const sleep = (ms) => new Promise((done) => setTimeout(done, Math.max(0, ms)));
const iso = (ms) => new Date(ms).toISOString();

/** The outer run: checks what is needed, then runs this script again as pid 1 of a new pid namespace. */
function outer(argv) {
  const outIndex = argv.indexOf('--out');
  const out = resolve(outIndex === -1 ? DEFAULT_OUT : argv[outIndex + 1]);
  const missing = [
    process.getuid?.() === 0 ? undefined : 'root (for unshare --pid)',
    existsSync(join(ROOT, 'packages/vwatchd/dist/bin.js')) ? undefined : 'a build (npx tsc -b)',
    spawnSync(PYTHON, ['-c', 'pass']).status === 0 ? undefined : PYTHON,
  ].filter((need) => need !== undefined);
  if (missing.length > 0) {
    console.error(`record-questions-store: needs ${missing.join(', ')}`);
    return 2;
  }
  mkdirSync(out, { recursive: true });
  // A relative script path keeps the recorded command line of pid 1 short and free of this checkout's location.
  const run = spawnSync('unshare', ['--pid', '--fork', '--mount-proc', '--', process.execPath, relative(ROOT, SELF), '--inside'], {
    cwd: ROOT,
    stdio: 'inherit',
    env: { ...process.env, VE_QUESTIONS_OUT: out },
  });
  return run.status ?? 1;
}

/** Reads a /proc file, or undefined when the process is gone. */
function procText(path) {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;
const BOOT_MS = Number(/^btime (\d+)$/m.exec(readFileSync('/proc/stat', 'utf8'))?.[1]) * 1000;

/** utime + stime of a pid in milliseconds, and its start time (boot time plus starttime, as probe-procfs computes it). */
function procStat(pid) {
  const text = procText(`/proc/${pid}/stat`);
  if (text === undefined) return undefined;
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // Fields after the comm start at field 3 (state): utime is field 14, stime 15, starttime 22.
  const ticks = (field) => Number(fields[field - 3]);
  return { cpuMs: ((ticks(14) + ticks(15)) * 1000) / CLK_TCK, startMs: BOOT_MS + (ticks(22) * 1000) / CLK_TCK };
}

/** A field of /proc/PID/status or /proc/PID/io, as a number. */
function procField(pid, file, name) {
  const match = new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(procText(`/proc/${pid}/${file}`) ?? '');
  return match === null ? undefined : Number(match[1]);
}

function memAvailable() {
  return Number(/^MemAvailable:\s+(\d+) kB$/m.exec(readFileSync('/proc/meminfo', 'utf8'))?.[1]) * 1024;
}

const USERS = new Map(
  readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .filter((line) => line.includes(':'))
    .map((line) => line.split(':'))
    .map(([name, , uid]) => [Number(uid), name]),
);

/** Every process of this pid namespace as /proc shows it now: pid, user, comm and command line. */
function snapshot() {
  const processes = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const status = procText(`/proc/${name}/status`);
    const cmdline = procText(`/proc/${name}/cmdline`);
    if (status === undefined || cmdline === undefined) continue;
    const uid = Number(/^Uid:\s+\d+\s+(\d+)/m.exec(status)?.[1]);
    processes.push({
      pid: Number(name),
      user: USERS.get(uid) ?? String(uid),
      comm: /^Name:\s+(.*)$/m.exec(status)?.[1] ?? '',
      cmdline: cmdline.replace(/\0$/, '').replaceAll('\0', ' '),
      rss: (procField(name, 'status', 'VmRSS') ?? 0) * 1024,
    });
  }
  return processes.sort((a, b) => a.pid - b.pid);
}

/** A workload process: its pid, command line, when it was spawned and (once it has) exited, and its stdout. */
function start(command, args, options = {}) {
  const child = spawn(command === 'python3' ? PYTHON : command, args, { stdio: ['ignore', 'pipe', 'inherit'], argv0: command, ...options });
  // The fork is done once spawn returns: its start time is there already (exec keeps it).
  const tracked = { child, pid: child.pid, cmdline: [command, ...args].join(' '), started: Date.now(), startMs: procStat(child.pid)?.startMs, exited: undefined, stdout: '' };
  child.stdout.on('data', (chunk) => (tracked.stdout += chunk.toString()));
  tracked.done = new Promise((done) => child.once('exit', () => done((tracked.exited = Date.now()))));
  return tracked;
}

/** Resolves to the time (epoch ms) a workload process printed as its `n`th line of output, once it has. */
async function printed(tracked, n) {
  while (tracked.stdout.split('\n').length <= n && tracked.exited === undefined) await sleep(10);
  const line = tracked.stdout.split('\n')[n - 1];
  if (line === undefined || !/^[\d.]+$/.test(line)) throw new Error(`${tracked.cmdline} printed no time`);
  return Number(line) * 1000;
}

/** The facts of a workload process, for facts.json. */
function factsOf(tracked, extra = {}) {
  return {
    pid: tracked.pid,
    cmdline: tracked.cmdline,
    spawned: iso(tracked.started),
    ...(tracked.startMs === undefined ? {} : { startTime: iso(tracked.startMs) }),
    exited: tracked.exited === undefined ? null : iso(tracked.exited),
    ...extra,
  };
}

/** Starts vwatchd on `dataDir`; resolves once it records, with when it said so. */
async function startDaemon(config, dataDir) {
  const child = spawn(process.execPath, [VWATCHD, '--config', config, '--data-dir', dataDir], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk.toString()));
  const exited = new Promise((done) => child.once('exit', (code) => done({ code, at: Date.now() })));
  const until = Date.now() + 30_000;
  while (!stderr.includes('Recording into') && child.exitCode === null && Date.now() < until) await sleep(20);
  if (!stderr.includes('Recording into')) throw new Error(`vwatchd did not start:\n${stderr}`);
  return { child, started: Date.now(), stderr: () => stderr, exited };
}

/** SIGTERM, then the exit; vwatchd must exit 0 (every row written). */
async function stopDaemon(daemon) {
  const signalled = Date.now();
  daemon.child.kill('SIGTERM');
  const { code, at } = await daemon.exited;
  if (code !== 0) throw new Error(`vwatchd exited ${code}:\n${daemon.stderr()}`);
  return { started: iso(daemon.started), stopSignalled: iso(signalled), stopped: iso(at) };
}

/** The inner run, as pid 1 of the namespace: the recording and its workload. */
async function inner() {
  const out = process.env.VE_QUESTIONS_OUT;
  const dataDir = mkdtempSync(join(tmpdir(), 've-questions-'));
  const workDir = mkdtempSync(join(tmpdir(), 've-questions-work-'));
  const config = join(dataDir, 'vwatchd.conf');
  const intervals = Object.fromEntries(TABLES.map((table) => [table, INTERVAL_MS]));
  writeFileSync(config, JSON.stringify({ probes: [{ use: '@virtualeyes/probe-procfs', intervals }], log: { level: 'info' } }), { mode: 0o600 });
  const workload = [];
  const run = (command, args, options) => {
    const tracked = start(command, args, options);
    workload.push(tracked);
    return tracked;
  };
  const cleanup = () => {
    for (const tracked of workload) if (tracked.exited === undefined) tracked.child.kill('SIGKILL');
  };
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => (cleanup(), process.exit(1)));

  try {
    const facts = { processes: {}, memory: {}, snapshots: [], loadavg: [], sessions: [] };
    let daemon = await startDaemon(config, dataDir);
    // The timeline starts at the next whole 10 seconds, at least 3 s in: its instants are round.
    const t0 = Math.ceil((Date.now() + 3000) / 10_000) * 10_000;
    /** Waits for t0 + `seconds`; a step more than LATE_MS late (a busy machine) spoils the timeline, so the recording fails. */
    const at = async (seconds) => {
      await sleep(t0 + seconds * 1000 - Date.now());
      const late = Date.now() - (t0 + seconds * 1000);
      if (late > LATE_MS) throw new Error(`the step at t0 + ${seconds} s ran ${late} ms late (the machine is too busy?); record again`);
    };
    facts.t0 = iso(t0);

    // The script's own view of the load average, every second while a daemon records.
    let recording = true;
    let sampling = true;
    const loadLoop = (async () => {
      while (sampling) {
        if (recording) facts.loadavg.push([iso(Date.now()), Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0])]);
        await sleep(1000);
      }
    })();
    // The workload acts half a second off the whole seconds, and the probes sample within ~100 ms
    // after them (aligned to the wall clock plus a jitter): no sample sees a process half started
    // or half reaped, and the state at a whole second T is that of the sample taken just before it.
    /** The namespace's processes before and after the sample at or before T; they must agree, or the workload moved around it. */
    const snapshotFor = async (seconds) => {
      await at(seconds - 1.45);
      const before = snapshot();
      await at(seconds - 0.05);
      const after = snapshot();
      const ids = (list) => JSON.stringify(list.map((p) => [p.pid, p.user, p.cmdline]));
      if (ids(before) !== ids(after)) throw new Error(`the processes changed around t0 + ${seconds} s (the machine is too busy?); record again`);
      facts.snapshots.push({ at: iso(t0 + seconds * 1000), taken: [iso(t0 + (seconds - 1.45) * 1000), iso(t0 + (seconds - 0.05) * 1000)], processes: after });
    };

    await at(2.5);
    facts.memory.availableBeforeHog = memAvailable();
    facts.memory.availableBeforeHogAt = iso(Date.now());
    await at(3.5);
    // MAP_POPULATE makes the kernel fault every page in at once: quick even on a busy machine.
    const hog = run('python3', ['-c', `import mmap,time;m=mmap.mmap(-1,${HOG_BYTES},flags=mmap.MAP_PRIVATE|mmap.MAP_ANONYMOUS|mmap.MAP_POPULATE);print(time.time(),flush=True);time.sleep(3600)`, 've-q-memhog']);
    const allocatedAt = await printed(hog, 1);
    facts.memory.availableAfterHog = memAvailable();
    facts.memory.availableAfterHogAt = iso(Date.now());
    facts.processes.memhog = factsOf(hog, { allocated: HOG_BYTES, allocatedAt: iso(allocatedAt), rss: (procField(hog.pid, 'status', 'VmRSS') ?? 0) * 1024 });
    await at(5.5);
    const workers = [1, 2, 3].map((n) => run('python3', ['-c', 'import time;time.sleep(3600)', `ve-q-worker-${n}`], { uid: NOBODY, gid: NOBODY }));
    await at(10.5);
    const spin = run('python3', ['-c', 'while True: pass', 've-q-spin']);
    await at(20.5);
    const short = run('sleep', ['15']);
    await at(30.5);
    const exec = run('python3', ['-c', "import os,time;time.sleep(8);print(time.time(),flush=True);os.execvp('sleep',['sleep','45'])", 've-q-exec']);
    await at(45.5);
    // Sampled before it writes (the first row of it in a range holds 0), and alive until after t0 + 60 s.
    const writer = run('python3', ['-c', `import os,time;time.sleep(3);f=os.open('ve-q.bin',65);[os.write(f,b'w'*2**20) for _ in range(${WRITE_MIB})];os.fsync(f);print(time.time(),flush=True);time.sleep(12)`, 've-q-writer'], {
      cwd: workDir,
    });
    await at(55.5);
    const burst = run('python3', ['-c', `import os,time;p=[os.fork() or (time.sleep(6),os._exit(0)) for _ in range(${BURST})];print(*p,flush=True);[os.wait() for _ in p]`, 've-q-burst']);
    await snapshotFor(59);
    const writtenAt = await printed(writer, 1);
    facts.processes.writer = factsOf(writer, { written: WRITE_MIB * 2 ** 20, writtenAt: iso(writtenAt), writeBytes: procField(writer.pid, 'io', 'write_bytes') });
    // The kernel adds a reaped child's I/O counters to its parent's: this script's grow once the writer is reaped.
    const parentBefore = procField(process.pid, 'io', 'write_bytes');
    await writer.done;
    await sleep(200);
    facts.processes.writer.parentWriteBytes = { beforeReap: parentBefore, afterReap: procField(process.pid, 'io', 'write_bytes') };
    await burst.done;
    await short.done;
    facts.processes.short = factsOf(short);
    facts.processes.writer = { ...facts.processes.writer, exited: iso(writer.exited) };
    facts.processes.burst = { ...factsOf(burst), children: burst.stdout.trim().split(' ').map(Number) };
    await snapshotFor(66);
    await at(70.5);
    const spinStat = procStat(spin.pid);
    spin.child.kill('SIGKILL');
    await spin.done;
    facts.processes.spin = factsOf(spin, { cpuMs: spinStat.cpuMs });
    const execAt = await printed(exec, 1);
    facts.processes.exec = { ...factsOf(exec), before: exec.cmdline, after: 'sleep 45', execAt: iso(execAt) };

    await at(100);
    recording = false;
    facts.sessions.push(await stopDaemon(daemon));
    // A process that lives only while vwatchd is stopped: no recording can know it.
    await at(105.5);
    const unseen = run('sleep', ['5']);
    await at(115);
    daemon = await startDaemon(config, dataDir);
    recording = true;
    await unseen.done;
    facts.processes.unseen = factsOf(unseen);
    await exec.done;
    facts.processes.exec = { ...facts.processes.exec, exited: iso(exec.exited) };
    await at(130.5);
    workers[2].child.kill('SIGTERM');
    await workers[2].done;
    await at(160);
    recording = false;
    facts.sessions.push(await stopDaemon(daemon));
    sampling = false;
    await loadLoop;
    facts.processes.workers = workers.map((worker) => factsOf(worker));
    facts.processes.memhog = { ...facts.processes.memhog, exited: null };
    facts.processes.root = { pid: process.pid, cmdline: readFileSync('/proc/self/cmdline', 'utf8').replace(/\0$/, '').replaceAll('\0', ' ') };

    const leftovers = readdirSync(dataDir).filter((name) => !['vwatchd.db', 'vwatchd.conf'].includes(name));
    if (leftovers.length > 0) throw new Error(`the data directory holds more than the store after a clean stop: ${leftovers.join(', ')}`);
    const versions = Object.fromEntries(
      ['vwatchd', 'probe-procfs', 'sink-duckdb', 'virtualeyes'].map((name) => [`@virtualeyes/${name}`, JSON.parse(readFileSync(join(ROOT, 'packages', name, 'package.json'), 'utf8')).version]),
    );
    const recorded = {
      date: iso(Date.now()),
      kernel: release(),
      node: process.version,
      python: spawnSync(PYTHON, ['--version'], { encoding: 'utf8' }).stdout.trim(),
      versions,
      intervalMs: INTERVAL_MS,
      how: 'node packages/virtualeyes/scripts/record-questions-store.mjs',
      layout: await storeLayout(join(dataDir, 'vwatchd.db')),
      peakLoad1: Math.max(...facts.loadavg.map(([, load]) => load)),
    };
    copyFileSync(join(dataDir, 'vwatchd.db'), join(out, 'vwatchd.db'));
    chmodSync(join(out, 'vwatchd.db'), 0o640);
    writeFileSync(join(out, 'facts.json'), `${JSON.stringify({ recorded, ...facts }, null, 2)}\n`);
    writeFileSync(join(out, 'README.md'), readme(recorded, facts));
    console.log(`recorded ${facts.sessions.map((s) => `${s.started}–${s.stopped}`).join(', ')} into ${out}`);
    return 0;
  } finally {
    cleanup();
    rmSync(workDir, { recursive: true, force: true });
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** The layout version the store records in vw_meta.store, or 'unknown' when it has none there. */
async function storeLayout(path) {
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const instance = await DuckDBInstance.create(path, { access_mode: 'READ_ONLY' });
  const connection = await instance.connect();
  try {
    const reader = await connection.runAndReadAll('SELECT format_version FROM vw_meta.store');
    return String(reader.getRowsJS()[0]?.[0] ?? 'unknown');
  } catch {
    return 'unknown';
  } finally {
    connection.disconnectSync();
    instance.closeSync();
  }
}

/** The provenance README of the fixture. */
function readme(recorded, facts) {
  const p = facts.processes;
  return `# The worked questions' recording

\`vwatchd.db\` is a real vwatchd store; \`facts.json\` says what happened while it was recorded.
\`test/questions.test.ts\` copies the store to a temporary directory, runs every worked question
of [docs/querying.md](../../../../../docs/querying.md) against the copy through the CLI, and
checks each answer against these facts. Never open the committed file in place.

## Provenance

- Recorded ${recorded.date} on Linux ${recorded.kernel} (this project's VM, 2 vCPUs), ${recorded.node}, ${recorded.python}.
- ${Object.entries(recorded.versions).map(([name, version]) => `\`${name}\` ${version}`).join(', ')}, built from this repository.
- Store layout ${recorded.layout} (\`vw_meta.store\`), as sink-duckdb wrote it then; later readers open older layouts.
- How: \`${recorded.how}\`, which runs itself as pid 1 of a private pid namespace
  (\`unshare --pid --fork --mount-proc\`) and there the real vwatchd, with the real probe-procfs and
  every table sampled every ${recorded.intervalMs / 1000} s, into a private temporary data directory. The namespace holds
  only the workload below, so the process tables are free of whatever else ran on the machine;
  \`cpu\`, \`memory\` and \`load\` are the whole machine's, and other work on it shows there (load1
  reached ${recorded.peakLoad1}: other sessions were busy on the VM).
- Sessions: ${facts.sessions.map((s) => `${s.started} – ${s.stopped}`).join('; ')} (vwatchd stopped with SIGTERM and started again in between).

## The workload (times from t0 = ${facts.t0})

| t0 + | What | Fact |
| --- | --- | --- |
| 3.5 s | \`ve-q-memhog\`: python3 holding ${p.memhog.allocated / 2 ** 20} MiB (pid ${p.memhog.pid}) | allocated by ${p.memhog.allocatedAt}, lives to the end |
| 5.5 s | \`ve-q-worker-1..3\`: three sleeping python3 as \`nobody\` (pids ${p.workers.map((w) => w.pid).join(', ')}) | worker 3 is stopped at t0 + 130.5 s |
| 10.5 s | \`ve-q-spin\`: a busy loop (pid ${p.spin.pid}) | killed at t0 + 70.5 s after ${p.spin.cpuMs} ms of CPU |
| 20.5 s | \`sleep 15\` (pid ${p.short.pid}) | exits at ${p.short.exited} |
| 30.5 s | \`ve-q-exec\`: python3 that execs \`sleep 45\` after 8 s (pid ${p.exec.pid}) | exec at ${p.exec.execAt} |
| 45.5 s | \`ve-q-writer\`: writes and fsyncs ${p.writer.written / 2 ** 20} MiB after 3 s, then sleeps 12 s (pid ${p.writer.pid}) | written by ${p.writer.writtenAt}: write_bytes ${p.writer.writeBytes} |
| 55.5 s | \`ve-q-burst\`: forks ${p.burst.children.length} children that live 6 s (pid ${p.burst.pid}) | |
| 100 s | vwatchd stops | |
| 105.5 s | \`sleep 5\` (pid ${p.unseen.pid}), while nothing records | |
| 115 s | vwatchd starts again | |
| 160 s | vwatchd stops; the recording ends | |

To record it again: \`node packages/virtualeyes/scripts/record-questions-store.mjs\` (root,
python3, after \`npx tsc -b\`), then update the instants and excerpts of the worked questions
in docs/querying.md to the new recording and run \`npx vitest run --project virtualeyes test/questions\`.
`;
}

if (process.argv.includes('--inside')) {
  inner().then(
    (code) => process.exit(code),
    (error) => {
      console.error(error);
      process.exit(1);
    },
  );
} else {
  process.exitCode = outer(process.argv.slice(2));
}

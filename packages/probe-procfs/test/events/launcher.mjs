// Starts the live tests' processes from a small, otherwise idle Node process, so the spawn and
// exit instants it records (process.hrtime.bigint(): CLOCK_MONOTONIC, the kernel's event clock)
// bracket each child tightly; the test runner itself is too busy for that. Prints one JSON line.
//   node launcher.mjs children '<json: [{ command, args, killAfterMs?, startAtMs }]>'
//   node launcher.mjs churn <durationMs> <shells>   (each shell runs /bin/true in a loop)
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const [mode, first, second] = process.argv.slice(2);

function runOne(spec) {
  return new Promise((resolve) => {
    const spawnedNs = process.hrtime.bigint();
    const child = spawn(spec.command, spec.args, { stdio: ['ignore', 'pipe', 'ignore'] });
    // spawn() forks and waits for the exec: the child began somewhere between the two stamps.
    const returnedNs = process.hrtime.bigint();
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (chunk) => (stdout += chunk));
    if (spec.killAfterMs !== undefined) setTimeout(() => child.kill('SIGTERM'), spec.killAfterMs);
    child.once('exit', (code, signal) => {
      const exitedNs = process.hrtime.bigint();
      const done = () => resolve({ pid: child.pid, spawnedNs: String(spawnedNs), returnedNs: String(returnedNs), exitedNs: String(exitedNs), code, signal, stdout });
      if (child.stdout.readableEnded) done();
      else child.stdout.once('end', done);
    });
  });
}

if (mode === 'children') {
  const specs = JSON.parse(first);
  const started = performance.now();
  // A 1 ms timer shows when this process itself was not running (a loaded machine, a long
  // fork): the test takes those stalls out of its spawn-to-exit measurement.
  const stalls = [];
  let last = process.hrtime.bigint();
  const ticking = setInterval(() => {
    const now = process.hrtime.bigint();
    if (now - last > 3_000_000n) stalls.push([String(last), String(now)]);
    last = now;
  }, 1);
  const runs = specs.map((spec) => new Promise((resolve) => setTimeout(() => resolve(runOne(spec)), Math.max(0, spec.startAtMs - (performance.now() - started)))));
  const children = await Promise.all(runs);
  clearInterval(ticking);
  // CLOCK_REALTIME less CLOCK_MONOTONIC, so a child's own `date +%s%N` stamps can be placed among the stalls.
  const realtimeOffsetNs = BigInt(Math.round((performance.timeOrigin + performance.now()) * 1e6)) - process.hrtime.bigint();
  process.stdout.write(`${JSON.stringify({ children, stalls, realtimeOffsetNs: String(realtimeOffsetNs) })}\n`);
} else if (mode === 'churn') {
  // Shell loops fork and exec far more cheaply than Node's spawn(); each counts its children and
  // stops when the stop file appears (`[` is built in: the loop forks nothing else).
  const dir = mkdtempSync(join(tmpdir(), 've-churn-'));
  const stop = join(dir, 'stop');
  const loop = `i=0; while [ ! -e '${stop}' ]; do /bin/true; i=$((i+1)); done; echo $i`;
  const shells = Array.from({ length: Number(second) }, () => {
    const shell = spawn('sh', ['-c', loop], { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    shell.stdout.setEncoding('utf8').on('data', (chunk) => (out += chunk));
    // 'close', not 'exit': a shell may exit before its last output has been read.
    return { shell, done: new Promise((resolve) => shell.once('close', () => resolve(Number.parseInt(out, 10)))) };
  });
  setTimeout(() => writeFileSync(stop, ''), Number(first));
  const counts = await Promise.all(shells.map(({ done }) => done));
  rmSync(dir, { recursive: true, force: true });
  process.stdout.write(`${JSON.stringify({ shells: shells.map(({ shell }) => shell.pid), spawned: counts.reduce((a, b) => a + b, 0) })}\n`);
}

#!/usr/bin/env node
// The crash-safety soak: the loop of packages/vwatchd/test/crash.test.ts run for longer. Starts
// vwatchd on one data directory and SIGKILLs it at seeded random moments, checking after every
// kill that the store opens and answers, keeps every earlier row and lost at most one flush
// interval; ends with one clean SIGTERM stop. Exit 1 at the first violation. Needs a build.
// Usage: node scripts/soak-crash.mjs [iterations (default 500)] [seed (default random)]
import { createCrashLoop, LOSS_BOUND_ROWS, randomSeed } from '../packages/vwatchd/test/fixtures/crash/crash-loop.mjs';

const DEFAULT_ITERATIONS = 500;

const iterations = process.argv[2] === undefined ? DEFAULT_ITERATIONS : Number(process.argv[2]);
const seed = process.argv[3] === undefined ? randomSeed() : Number(process.argv[3]);
if (!Number.isInteger(iterations) || iterations < 1 || !Number.isInteger(seed) || seed < 0 || seed >= 2 ** 32) {
  console.error('usage: node scripts/soak-crash.mjs [iterations >= 1] [seed, 0 to 2^32-1]');
  process.exit(2);
}

const loop = createCrashLoop({ seed });
const started = Date.now();
let lost = 0;
let lossyKills = 0;
let worst = 0;
let failed;

/** Prints what was violated, with the seed to replay the schedule. */
function violation(report) {
  console.error(`VIOLATION at iteration ${report.iteration}/${iterations} (${report.mode}, killed at ${report.killedAtMs} ms), seed ${seed}:`);
  for (const sentence of report.violations) console.error(`  - ${sentence}`);
  console.error(`replay: node scripts/soak-crash.mjs ${iterations} ${seed}; data directory kept: ${loop.dataDir}`);
  console.error(`daemon stderr:\n${report.stderr}`);
}

console.log(`soak-crash: ${iterations} SIGKILLs, seed ${seed}, data directory ${loop.dataDir}`);
try {
  for (let index = 0; index < iterations && failed === undefined; index += 1) {
    const report = await loop.iterate();
    const when = report.mode === 'writing' ? 'while writing' : report.booted ? 'just after start-up' : 'during start-up';
    console.log(`iteration ${report.iteration}/${iterations}: killed at ${report.killedAtMs} ms ${when}, ${report.rows} rows (+${report.fresh}), lost ${report.lost}${report.cli ? ', CLI checked' : ''}`);
    lost += report.lost;
    worst = Math.max(worst, report.lost);
    if (report.lost > 0) lossyKills += 1;
    if (report.violations.length > 0) failed = report;
  }
  if (failed === undefined) {
    const last = await loop.finish();
    console.log(`clean stop: ${last.rows} rows (+${last.fresh}), lost ${last.lost}`);
    if (last.violations.length > 0) failed = last;
  }
} finally {
  // A failed run keeps its data directory for a look at the store.
  if (failed === undefined) loop.dispose();
}

const seconds = ((Date.now() - started) / 1000).toFixed(1);
if (failed !== undefined) {
  violation(failed);
  console.log(`soak-crash: FAILED at iteration ${failed.iteration} of ${iterations}, seed ${seed}, after ${seconds} s`);
  process.exit(1);
}
console.log(
  `soak-crash: ${iterations} SIGKILLs passed in ${seconds} s, seed ${seed}: the store opened and answered every time, ${lost} rows lost in ${lossyKills} kills (at most ${worst} per kill, bound ${LOSS_BOUND_ROWS})`,
);

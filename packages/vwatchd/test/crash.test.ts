// Crash safety: real vwatchd processes (the launcher users run) on one data directory, killed with
// SIGKILL 50 times at seeded random moments, from module loading and the store opening to rows
// being written. After every kill the store must open read-only and answer (the real CLI every
// few iterations), keep every earlier row, hold strictly increasing seqs, have lost at most one
// flush interval's rows, and the next start must recover and mark the session as a crash.
// Needs `npx tsc -b` first. The loop lives in fixtures/crash/; scripts/soak-crash.mjs runs more.
import { afterAll, describe, expect, it } from 'vitest';
import { CLI_EVERY, createCrashLoop, LOSS_BOUND_ROWS, randomSeed, type CrashLoop, type IterationReport } from './fixtures/crash/crash-loop.mjs';

/** Kills per test run, as the issue asks for CI; the soak script runs hundreds. */
const ITERATIONS = 50;

// A fresh seed each run covers more schedules over time; a failure prints it, and
// VWATCHD_CRASH_SEED replays the same schedule (the kill times, not the OS's scheduling).
const seed = process.env['VWATCHD_CRASH_SEED'] === undefined ? randomSeed() : Number(process.env['VWATCHD_CRASH_SEED']);

let loop: CrashLoop | undefined;
afterAll(() => loop?.dispose());

function where(report: IterationReport): string {
  const rerun = `rerun: VWATCHD_CRASH_SEED=${seed} npx vitest run --project vwatchd-alone crash, or node scripts/soak-crash.mjs ${ITERATIONS} ${seed}`;
  return `seed ${seed}, iteration ${report.iteration}/${ITERATIONS} (${report.mode}, killed at ${report.killedAtMs} ms); ${rerun}\ndaemon stderr:\n${report.stderr}`;
}

describe('vwatchd crash safety', () => {
  it(`SIGKILL ${ITERATIONS} times at random moments: the store always opens and answers, keeps every earlier row, and loses at most one flush interval`, async () => {
    const started = Date.now();
    loop = createCrashLoop({ seed });
    const reports: IterationReport[] = [];
    for (let index = 0; index < ITERATIONS; index += 1) {
      const report = await loop.iterate();
      expect(report.violations, where(report)).toEqual([]);
      expect(report.lost).toBeLessThanOrEqual(LOSS_BOUND_ROWS);
      reports.push(report);
    }
    // A clean stop after all the crashes: the daemon boots, writes, closes its session, and loses nothing.
    const last = await loop.finish();
    expect(last.violations, where(last)).toEqual([]);
    expect(last.lost).toBe(0);

    // The loop really covered both kinds of kill, rows written before kills, and the CLI.
    const writing = reports.filter((report) => report.mode === 'writing');
    expect(writing.length, `seed ${seed}`).toBeGreaterThanOrEqual(ITERATIONS / 5);
    expect(writing.every((report) => report.booted)).toBe(true);
    expect(reports.filter((report) => report.mode === 'startup' && !report.booted).length, `seed ${seed}`).toBeGreaterThanOrEqual(ITERATIONS / 10);
    expect(writing.filter((report) => report.fresh > 0).length, `seed ${seed}`).toBeGreaterThanOrEqual(ITERATIONS / 10);
    expect(reports.filter((report) => report.cli).length).toBeGreaterThanOrEqual(ITERATIONS / CLI_EVERY - 1);
    expect(last.rows).toBeGreaterThan(reports.at(-1)!.rows);

    const lost = reports.reduce((sum, report) => sum + report.lost, 0);
    console.log(`crash test: seed ${seed}, ${ITERATIONS} kills in ${Date.now() - started} ms, ${last.rows} rows stored, ${lost} lost in ${reports.filter((report) => report.lost > 0).length} kills`);
  }, 240_000);
});

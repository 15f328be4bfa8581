/**
 * Fixture-driven tests: each case under test/fixtures is a real capture of this host in
 * steps; one probe instance walks the steps and must produce exactly the rows of each
 * step's expected.json (written by the independent oracle.py), and agree with ps.txt.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createFileReader, validateRow, type Batch } from '@virtualeyes/core';
import { describe, expect, it } from 'vitest';
import { manifest } from '../src/index.js';
import { ALL_TABLES, batchOf, collect, createSteppingReader, FIXTURES, plain, probeOver, stepDir } from './helpers.js';

const cases = readdirSync(FIXTURES, { withFileTypes: true })
  .filter((entry) => entry.isDirectory() && existsSync(join(FIXTURES, entry.name, 'SOURCE.md')))
  .map((entry) => entry.name);
const stepsOf = (name: string): string[] =>
  readdirSync(join(FIXTURES, name))
    .filter((step) => /^step\d+$/.test(step))
    .sort((a, b) => Number(a.slice(4)) - Number(b.slice(4)));

type Expected = Record<(typeof ALL_TABLES)[number], Record<string, unknown>[]>;

describe.each(cases)('fixture %s', (name) => {
  const steps = stepsOf(name);
  const reader = createSteppingReader(stepDir(name, steps[0]!));
  const probe = probeOver(reader);
  const results: { step: string; batches: readonly Batch[] }[] = [];

  it('has at least two steps, each with an expected.json', () => {
    expect(steps.length).toBeGreaterThanOrEqual(2);
    for (const step of steps) expect(existsSync(join(stepDir(name, step), 'expected.json')), step).toBe(true);
  });

  describe.each(steps)('%s', (step) => {
    const dir = stepDir(name, step);
    const expected = JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8')) as Expected;

    it('collects every table without errors, rows matching the schemas', async () => {
      reader.use(dir);
      const result = await collect(probe);
      expect(result.errors).toEqual([]);
      expect(result.batches.map((batch) => batch.table)).toEqual([...ALL_TABLES]);
      for (const batch of result.batches) {
        expect(batch.snapshot).toBe(true);
        const schema = manifest.tables.find((table) => table.name === batch.table)!;
        for (const row of batch.rows) expect(validateRow(schema, row).message).toBe('');
      }
      results.push({ step, batches: result.batches });
    });

    it.each(ALL_TABLES)('produces the expected %s rows', (table) => {
      const got = results.find((result) => result.step === step);
      expect(got, 'the collection of this step ran').toBeDefined();
      expect(plain(batchOf(got!.batches, table).rows)).toEqual(expected[table]);
    });

    it('agrees with ps on ids, owner, nice value and state', () => {
      const batches = results.find((result) => result.step === step)!.batches;
      const rows = plain(batchOf(batches, 'processes').rows);
      const stats = plain(batchOf(batches, 'process_stats').rows);
      const ps = readFileSync(join(dir, 'ps.txt'), 'utf8').trim().split('\n').map((line) => line.trim().split(/\s+/));
      expect(rows.map((row) => row.pid)).toEqual(ps.map((fields) => Number(fields[0])).sort((a, b) => a - b));
      for (const [pid, ppid, pgid, sid, euid, egid, ni, , state] of ps) {
        const row = rows.find((candidate) => candidate.pid === Number(pid))!;
        expect(row).toMatchObject({ ppid: Number(ppid), pgid: Number(pgid), sid: Number(sid), uid: Number(euid), gid: Number(egid) });
        // What flips between samples is sampled, not part of the identity.
        const sample = stats.find((candidate) => candidate.pid === Number(pid))!;
        expect(sample).toMatchObject({ state });
        if (ni !== '-') expect(sample.nice).toBe(Number(ni));
      }
    });

    it('reads the same rows in a fresh instance through a reader over the step as its roots (as the agent builds it)', async () => {
      const direct = probeOver(createFileReader({ roots: { '/proc': join(dir, 'proc'), '/sys': join(dir, 'sys'), '/etc': join(dir, 'etc') } }));
      const result = await collect(direct);
      expect(result.errors).toEqual([]);
      for (const table of ALL_TABLES) {
        expect(plain(batchOf(result.batches, table).rows), table).toEqual(expected[table]);
      }
    });
  });

  it('keeps per-CPU and per-process counters monotonic and identities stable across steps', () => {
    expect(results.map((result) => result.step)).toEqual(steps);
    for (let i = 1; i < results.length; i += 1) {
      const [before, after] = [results[i - 1]!.batches, results[i]!.batches];
      const cpusBefore = plain(batchOf(before, 'cpu').rows).filter((row) => row.cpu !== 'all');
      for (const row of plain(batchOf(after, 'cpu').rows).filter((candidate) => candidate.cpu !== 'all')) {
        const previous = cpusBefore.find((candidate) => candidate.cpu === row.cpu);
        if (previous === undefined) continue;
        for (const column of ['user', 'system', 'idle', 'irq', 'softirq', 'steal']) {
          expect(row[column] as number, `cpu ${String(row.cpu)} ${column}`).toBeGreaterThanOrEqual(previous[column] as number);
        }
      }
      const [loadBefore, loadAfter] = [plain(batchOf(before, 'load').rows)[0]!, plain(batchOf(after, 'load').rows)[0]!];
      for (const column of ['context_switches', 'forks', 'interrupts', 'softirqs']) {
        expect(loadAfter[column] as number, column).toBeGreaterThan(loadBefore[column] as number);
      }
      const statsBefore = plain(batchOf(before, 'process_stats').rows);
      for (const row of plain(batchOf(after, 'process_stats').rows)) {
        const previous = statsBefore.find((candidate) => candidate.pid === row.pid);
        if (previous === undefined) continue;
        expect(row.start_time, `start_time of ${String(row.pid)}`).toBe(previous.start_time);
        for (const column of ['utime', 'stime', 'minflt', 'majflt', 'voluntary_ctxt_switches', 'nonvoluntary_ctxt_switches']) {
          expect(row[column] as number, `pid ${String(row.pid)} ${column}`).toBeGreaterThanOrEqual(previous[column] as number);
        }
      }
    }
  });
});

describe('fixture cpu-hotplug, what it shows about the kernel', () => {
  it("drops CPU rows while offline, and the summary line of /proc/stat is not monotonic across it", async () => {
    const reader = createSteppingReader(stepDir('cpu-hotplug', 'step0'));
    const probe = probeOver(reader);
    const rows: Record<string, unknown>[][] = [];
    for (const step of ['step0', 'step1', 'step2']) {
      reader.use(stepDir('cpu-hotplug', step));
      rows.push(plain(batchOf((await collect(probe, ['cpu'])).batches, 'cpu').rows));
    }
    expect(rows.map((step) => step.map((row) => row.cpu))).toEqual([['all', '0', '1'], ['all', '0'], ['all', '0', '1']]);
    const idle = rows.map((step) => step[0]!.idle as number);
    expect(idle[2]).toBeLessThan(idle[1]!);
  });
});

/**
 * process_sched on this host's real /proc: a niced child shows its nice value, priority and
 * policy; this multi-threaded test process's run time is the sum over its threads' schedstat;
 * timeslices and context switches only grow; and the parsers refuse garbage.
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createFileReader, createSystemClock, type Row } from '@virtualeyes/core';
import { describe, expect, it } from 'vitest';
import { schedstatFields, statTail } from '../src/linux/sched.js';
import { batchOf, collect, probeOver } from './helpers.js';

const rowOf = (rows: readonly Row[], pid: number): Row | undefined => rows.find((row) => row.pid === pid);

describe('process_sched parsers', () => {
  it('reads the three schedstat numbers and refuses garbage', () => {
    expect(schedstatFields('185250644 14263604 385\n')).toEqual([185250644, 14263604, 385]);
    expect(schedstatFields('1 2\n')).toBeUndefined();
    expect(schedstatFields('a b c\n')).toBeUndefined();
    expect(schedstatFields('')).toBeUndefined();
  });

  it('reads priority, processor, rt_priority and policy after a comm with spaces and parentheses', () => {
    const fields = Array.from({ length: 52 }, (_, index) => String(index + 1));
    fields[17] = '25';
    fields[38] = '1';
    fields[39] = '0';
    fields[40] = '3';
    const line = `42 (a) b (c)) S ${fields.slice(3).join(' ')}\n`;
    expect(statTail(line)).toEqual({ priority: 25, processor: 1, rtPriority: 0, policy: 3 });
    expect(statTail('42 (short) S 1 2 3\n')).toBeUndefined();
  });
});

describe.skipIf(process.platform !== 'linux')('process_sched on the live host', () => {
  it('sums run time over threads and reports nice, priority and policy', async () => {
    const child = spawn('nice', ['-n', '5', 'sleep', '30'], { stdio: 'ignore' });
    try {
      await new Promise((resolve) => child.once('spawn', resolve));
      for (let i = 0; i < 200 && !readFileSync(`/proc/${child.pid}/stat`, 'utf8').includes('(sleep)'); i += 1) await new Promise((resolve) => setTimeout(resolve, 5));
      const probe = probeOver(createFileReader(), {}, { clock: createSystemClock() });
      const first = await collect(probe, ['process_sched']);
      const rows = batchOf(first.batches, 'process_sched').rows;
      expect(rowOf(rows, child.pid!)).toMatchObject({ nice: 5, priority: 25, policy: 'other', rt_priority: 0 });
      const own = rowOf(rows, process.pid)!;
      const threads = readdirSync(`/proc/${process.pid}/task`);
      expect(threads.length).toBeGreaterThan(1);
      const sum = threads.reduce((total, tid) => {
        try {
          return total + Number(readFileSync(`/proc/${process.pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
        } catch {
          return total;
        }
      }, 0);
      // Read after the probe: this process ran in between, its threads only gained.
      expect(Number(own.run_time)).toBeLessThanOrEqual(Math.round(sum / 1e6) + 1);
      expect(Number(own.run_time)).toBeGreaterThan(Math.round(sum / 1e6) - 2000);
      const leader = Number(readFileSync(`/proc/${process.pid}/schedstat`, 'utf8').split(' ')[0]) / 1e6;
      expect(Number(own.run_time)).toBeGreaterThanOrEqual(Math.floor(leader) - 2000);
      const second = await collect(probe, ['process_sched']);
      const again = rowOf(batchOf(second.batches, 'process_sched').rows, process.pid)!;
      for (const column of ['run_time', 'timeslices', 'voluntary_ctxt_switches']) expect(Number(again[column])).toBeGreaterThanOrEqual(Number(own[column]));
      expect(first.errors.filter((status) => status.code !== 'NOT_FOUND' && status.code !== 'PERMISSION_DENIED')).toEqual([]);
      await probe.close();
    } finally {
      child.kill('SIGKILL');
    }
  });
});

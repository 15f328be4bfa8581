/**
 * The processes table's lifetimes from process events, on synthetic events and scans: rows begin
 * at their fork (or start time, or exec), processes the last scan saw end at their exit, ones no
 * scan saw are built from their fork and exec, and exited zombies leave the snapshot.
 */
import { describe, expect, it } from 'vitest';
import type { Row } from '@virtualeyes/core';
import { validateRow, validateTimes } from '@virtualeyes/core';
import type { ProcessEvent } from '../src/events/index.js';
import { createLifetimes } from '../src/linux/lifetimes.js';
import { PROCESSES_TABLE } from '../src/tables.js';

const T0 = Date.UTC(2026, 11, 3, 12);
const NULLS = { startTime: null, ppid: null, comm: null, argv: null, uid: null, gid: null, ruid: null, rgid: null, exitCode: null, signal: null, coreDumped: null, tracerPid: null, lifetimeMs: null, pgid: null, sid: null, ttyNr: null };
const event = (kind: ProcessEvent['kind'], pid: number, time: number, fields: Partial<ProcessEvent> = {}): ProcessEvent => ({ ...NULLS, kind, pid, time, ns: 0n, ...fields });
const row = (pid: number, startTime: number, fields: Partial<Record<string, unknown>> = {}): Row =>
  Object.freeze({ pid, start_time: startTime, ppid: 1, pgid: pid, sid: pid, uid: 0, gid: 0, user: 'root', comm: 'sh', cmdline: 'sh', exe: '/bin/sh', tty_nr: 0, kernel_thread: false, ...fields }) as Row;
const userName = (uid: number): string => (uid === 0 ? 'root' : String(uid));

describe('process lifetimes from events', () => {
  it('begins a row at its fork, or at its start time without one, and the others at the scan', () => {
    const lifetimes = createLifetimes(userName);
    const init = row(1, T0 - 100_000);
    expect(lifetimes.apply([], T0, [init], true)).toEqual({ ended: undefined, rows: [init], times: [T0] });
    const forked = row(50, T0 + 300);
    const unseen = row(51, T0 + 420);
    const out = lifetimes.apply([event('fork', 50, T0 + 300.25, { startTime: T0 + 300, ppid: 1 })], T0 + 1000, [init, forked, unseen], true);
    expect(out.times).toEqual([T0 + 1000, T0 + 300.25, T0 + 420]);
    expect(out.ended).toBeUndefined();
  });

  it('begins a changed command line at its exec', () => {
    const lifetimes = createLifetimes(userName);
    const sh = row(50, T0 - 5000);
    lifetimes.apply([], T0, [sh], true);
    const out = lifetimes.apply([event('exec', 50, T0 + 600.5, { startTime: T0 - 5000, argv: ['vi'] })], T0 + 1000, [row(50, T0 - 5000, { comm: 'vi', cmdline: 'vi' })], true);
    expect(out.times).toEqual([T0 + 600.5]);
  });

  it('ends what the last scan saw at its exit, leaves an exited zombie out of the snapshot, and builds one no scan saw from its fork and exec', () => {
    const lifetimes = createLifetimes(userName);
    const init = row(1, T0 - 100_000, { cmdline: '/sbin/init' });
    const sh = row(50, T0 - 5000);
    lifetimes.apply([], T0, [init, sh], true);
    const events = [
      event('fork', 60, T0 + 100, { startTime: T0 + 100, ppid: 1, comm: 'init', uid: 1000, gid: 1000, pgid: 60, sid: 60, ttyNr: 0 }),
      event('exec', 60, T0 + 101, { startTime: T0 + 100, comm: 'true', argv: ['/bin/true', '-x'] }),
      event('exit', 60, T0 + 102.5, { startTime: T0 + 100 }),
      // A fork that never execs runs its parent's command line.
      event('fork', 61, T0 + 200, { startTime: T0 + 200, ppid: 1, comm: 'init', uid: 0, gid: 0, pgid: 1, sid: 1, ttyNr: 0 }),
      event('exit', 61, T0 + 250, { startTime: T0 + 200 }),
      event('exit', 50, T0 + 700, { startTime: T0 - 5000 }),
    ];
    // The scan still lists the shell, a zombie not yet reaped.
    const out = lifetimes.apply(events, T0 + 1000, [init, sh], true);
    expect(out.rows).toEqual([init]);
    const ended = out.ended!;
    expect(ended).toMatchObject({ table: 'processes', ts: T0 + 1000, snapshot: false, times: [T0 + 100, T0 + 200, T0 + 700], ends: [T0 + 102.5, T0 + 250, T0 + 700] });
    expect(ended.rows[0]).toEqual({ pid: 60, start_time: T0 + 100, ppid: 1, pgid: 60, sid: 60, uid: 1000, gid: 1000, user: '1000', comm: 'true', cmdline: '/bin/true -x', exe: null, tty_nr: 0, kernel_thread: false });
    expect(ended.rows[1]).toMatchObject({ pid: 61, comm: 'init', cmdline: '/sbin/init' });
    expect(ended.rows[2]).toBe(sh);
    for (const built of ended.rows) expect(validateRow(PROCESSES_TABLE, built).message).toBe('');
    expect(validateTimes(PROCESSES_TABLE, ended).message).toBe('');
    // The next scan has nothing left to end.
    expect(lifetimes.apply([], T0 + 2000, [init], true).ended).toBeUndefined();
  });

  it('keeps the events of a scan that listed nothing: an exit ends its process, a fork times the next scan\'s row', () => {
    const lifetimes = createLifetimes(userName);
    const sh = row(50, T0 - 5000);
    lifetimes.apply([], T0, [sh], true);
    // /proc could not be listed (or the scan was stopped at once): no rows, the events all the same.
    const events = [event('exit', 50, T0 + 400, { startTime: T0 - 5000 }), event('fork', 80, T0 + 500.5, { startTime: T0 + 500, ppid: 1 })];
    const empty = lifetimes.apply(events, T0 + 1000, [], false);
    expect(empty.rows).toEqual([]);
    expect(empty.ended).toMatchObject({ rows: [sh], times: [T0 + 400], ends: [T0 + 400], snapshot: false });
    // The next scan finds the fork's child at its fork, and one whose fork it missed at its start
    // time, also when it started before the empty scan: that scan does not count as having seen it.
    const child = row(80, T0 + 500);
    const before = row(82, T0 + 700);
    const late = row(81, T0 + 1500);
    const out = lifetimes.apply([], T0 + 2000, [child, before, late], true);
    expect(out.times).toEqual([T0 + 500.5, T0 + 700, T0 + 1500]);
    expect(out.ended).toBeUndefined();
  });

  it('leaves out a process whose events lack what a row needs, and one it knows nothing of', () => {
    const lifetimes = createLifetimes(userName);
    lifetimes.apply([], T0, [], true);
    const events = [
      // Gone before its stat could be read: no process group or session.
      event('fork', 70, T0 + 10, { startTime: T0 + 10, ppid: 1, comm: 'x', uid: 0, gid: 0 }),
      event('exit', 70, T0 + 11, { startTime: T0 + 10 }),
      event('exit', 71, T0 + 12, { startTime: T0 - 1 }),
      event('exit', 72, T0 + 13),
    ];
    expect(lifetimes.apply(events, T0 + 1000, [], true).ended).toBeUndefined();
  });
});

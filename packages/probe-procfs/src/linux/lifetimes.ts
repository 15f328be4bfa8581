/**
 * Exact process lifetimes for the processes table, from the probe's process events: a scan
 * sees the processes alive at its instant, the events say when each one began and ended. Given
 * the events since the last scan and the scan's rows, this gives
 *
 * - each row's own time (`Batch.times`): a process's version begins at its fork (or, without its
 *   fork, at its start time when it started since the last scan), a changed command line at its
 *   exec, anything else at the scan;
 * - a partial batch of ends (`Batch.ends`), handed over before the snapshot: a process the last
 *   scan saw ends at its exit instead of at the next scan, and one that came and went between
 *   two scans is stored as a version from its fork to its exit, built from its fork and exec;
 * - the scan's rows without the processes whose exit already arrived (a zombie a scan still
 *   lists is gone for the store at its exit).
 *
 * Events lost to an overrun only leave those processes to the scans, as without events.
 */
import type { Batch, Row } from '@virtualeyes/core';
import type { ProcessEvent } from '../events/source.js';
import { Table } from '../tables.js';

/** What the events told of a process no scan has seen yet. */
interface Birth {
  /** Its fork, epoch ms; null when only its exec was seen. */
  forkAt: number | null;
  readonly pid: number;
  readonly startTime: number;
  ppid: number | null;
  comm: string | null;
  argv: readonly string[] | null;
  uid: number | null;
  gid: number | null;
  pgid: number | null;
  sid: number | null;
  ttyNr: number | null;
}

/** One scan's processes rows, as the processes table gets them. */
export interface LifetimeOutput {
  /** The ends of processes that exited since the last scan, to hand over before the snapshot; undefined when none did. */
  readonly ended: Batch | undefined;
  /** The scan's rows, less the processes known to have exited. */
  readonly rows: Row[];
  /** Each row's time, as {@link Batch.times}. */
  readonly times: number[];
}

/** Keeps what lifetimes need between scans: the last scan's rows and the births no scan saw yet. */
export interface Lifetimes {
  /** A scan listed `rows` (all processes when `complete`); `events` are those drained right after it, at `ts`. */
  apply(events: readonly ProcessEvent[], ts: number, rows: readonly Row[], complete: boolean): LifetimeOutput;
}

/** How long a birth no scan saw and no exit ended is remembered (its exit was lost). */
const FORGET_BIRTH_MS = 60_000;

/** Creates the lifetimes of one collector; `userName` names a uid as the scan does. */
export function createLifetimes(userName: (uid: number) => string): Lifetimes {
  let previous = new Map<string, Row>();
  let previousTs: number | undefined;
  const births = new Map<string, Birth>();

  return {
    apply(events, ts, rows, complete) {
      // The last scan's rows by pid, built only when a row of a process no scan saw needs its parent's.
      let byPid: Map<number, Row> | undefined;
      const parentOf = (ppid: number): Row | undefined => {
        if (byPid === undefined) {
          byPid = new Map();
          for (const row of previous.values()) byPid.set(row['pid'] as number, row);
        }
        return byPid.get(ppid);
      };
      const exits = new Map<string, number>();
      const execs = new Map<string, number>();
      for (const event of events) {
        if (event.startTime === null) continue;
        const key = keyOf(event.pid, event.startTime);
        const time = Math.min(event.time, ts);
        switch (event.kind) {
          case 'fork':
            births.set(key, {
              forkAt: time,
              pid: event.pid,
              startTime: event.startTime,
              ppid: event.ppid,
              comm: event.comm,
              argv: null,
              uid: event.uid,
              gid: event.gid,
              pgid: event.pgid,
              sid: event.sid,
              ttyNr: event.ttyNr,
            });
            break;
          case 'exec': {
            execs.set(key, time);
            const birth = births.get(key);
            if (birth === undefined) break;
            birth.comm = event.comm ?? birth.comm;
            birth.argv = event.argv;
            birth.ppid ??= event.ppid;
            birth.uid ??= event.uid;
            birth.gid ??= event.gid;
            break;
          }
          case 'uid':
          case 'gid':
          case 'comm': {
            const birth = births.get(key);
            if (birth === undefined) break;
            if (event.kind === 'uid') birth.uid = event.uid;
            else if (event.kind === 'gid') birth.gid = event.gid;
            else birth.comm = event.comm;
            break;
          }
          case 'exit':
            exits.set(key, time);
            break;
          default:
            break;
        }
      }

      // The ends: what the last scan saw closes at its exit; what no scan saw is built from its events.
      const endedRows: Row[] = [];
      const endedTimes: number[] = [];
      const ends: number[] = [];
      for (const [key, end] of exits) {
        const seen = previous.get(key);
        const birth = births.get(key);
        births.delete(key);
        const row = seen ?? (birth === undefined ? undefined : rowOf(birth, parentOf, userName));
        if (row === undefined) continue;
        endedRows.push(row);
        endedTimes.push(seen === undefined ? Math.min(birth?.forkAt ?? end, end) : end);
        ends.push(end);
      }

      const kept: Row[] = [];
      const times: number[] = [];
      const next = new Map<string, Row>();
      for (const row of rows) {
        const key = keyOf(row['pid'] as number, row['start_time'] as number);
        if (exits.has(key)) continue;
        kept.push(row);
        next.set(key, row);
        const birth = births.get(key);
        births.delete(key);
        const start = row['start_time'] as number;
        let time = ts;
        if (birth?.forkAt != null) time = birth.forkAt;
        else if (!previous.has(key) && previousTs !== undefined && start > previousTs) time = start;
        if (previous.has(key) && execs.has(key)) time = execs.get(key)!;
        times.push(Math.min(time, ts));
      }
      if (complete) {
        for (const [key, birth] of births) if ((birth.forkAt ?? ts) < ts - FORGET_BIRTH_MS) births.delete(key);
      }
      previous = complete ? next : new Map([...previous, ...next]);
      // A process a partial scan did not reach may have started before it: only a complete scan moves the mark.
      if (complete) previousTs = ts;
      const ended = endedRows.length === 0 ? undefined : { table: Table.PROCESSES, ts, rows: endedRows, times: endedTimes, ends, snapshot: false };
      return { ended, rows: kept, times };
    },
  };
}

function keyOf(pid: number, startTime: number): string {
  return `${pid}\u0000${startTime}`;
}

/** A processes row of a process no scan saw, from its events; undefined when they left out something the row needs. */
function rowOf(birth: Birth, parentOf: (ppid: number) => Row | undefined, userName: (uid: number) => string): Row | undefined {
  const { ppid, uid, gid, pgid, sid, ttyNr, comm } = birth;
  if (ppid === null || uid === null || gid === null || pgid === null || sid === null || ttyNr === null || comm === null) return undefined;
  // Without an exec it still runs its parent's program, with its parent's arguments.
  const cmdline = birth.argv === null ? ((parentOf(ppid)?.['cmdline'] as string | undefined) ?? '') : birth.argv.join(' ');
  return {
    pid: birth.pid,
    start_time: birth.startTime,
    ppid,
    pgid,
    sid,
    uid,
    gid,
    user: userName(uid),
    comm,
    cmdline,
    exe: null,
    tty_nr: ttyNr,
    kernel_thread: false,
  };
}

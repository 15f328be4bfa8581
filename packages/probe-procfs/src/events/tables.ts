/**
 * The events group's tables, declared once (src/tables.ts lists them after the core tables), and
 * each one's default time budget.
 */
import { column, type TableSchema } from '@virtualeyes/core';

/** Names of the group's tables. */
export const EventsTable = {
  PROCESS_EVENTS: 'process_events',
} as const;

/** Every fork, exec and exit (and id, session, name, ptrace and core-dump change) of a process, at the kernel's time. */
export const PROCESS_EVENTS_TABLE: TableSchema = {
  name: EventsTable.PROCESS_EVENTS,
  kind: 'event',
  description:
    "What happened to a process, from the kernel's process-events connector: one row per fork, exec, exit, uid, gid, sid, comm, ptrace or coredump event, at the time the kernel reported it (ts, microsecond precision). Threads are left out.",
  key: [],
  defaultIntervalMs: 1000,
  columns: [
    column.text('event', 'What happened: fork, exec, exit, uid, gid, sid, comm, ptrace or coredump.'),
    column.int32('pid', 'Process id.'),
    column.timestamp('start_time', "The process's start time, as processes.start_time has it: rows join processes on (pid, start_time).", { nullable: true }),
    column.int32('ppid', 'Parent process id: the forking process for fork, the parent at exit for exit.', { nullable: true }),
    column.text('comm', 'Command name: the parent\'s for fork (until exec), the new one for exec and comm.', { nullable: true }),
    column.text('cmdline', 'exec: the arguments joined with spaces, read from /proc/PID/cmdline as the event arrived (null if the process was already gone).', { nullable: true }),
    column.textList('argv', 'exec: the arguments, one per item.', { nullable: true }),
    column.int64('uid', 'Effective user id: of the process for fork and exec, the new one for uid.', { nullable: true }),
    column.int64('gid', 'Effective group id: of the process for fork and exec, the new one for gid.', { nullable: true }),
    column.int64('ruid', 'uid: the new real user id.', { nullable: true }),
    column.int64('rgid', 'gid: the new real group id.', { nullable: true }),
    column.int32('exit_code', 'exit: the exit status (0-255) when the process exited, null when a signal killed it.', { nullable: true }),
    column.int32('signal', 'exit: the signal that killed the process, null when it exited.', { nullable: true }),
    column.bool('core_dumped', 'exit: whether the killing signal dumped core.', { nullable: true }),
    column.float64('lifetime_ms', 'exit: time from its fork to its exit, by the kernel\'s clock, when the fork was seen.', { unit: 'ms', nullable: true }),
    column.int32('tracer_pid', 'ptrace: the tracing process, 0 when it detached.', { nullable: true }),
  ],
};

/** The group's tables. */
export const EVENTS_TABLES: readonly TableSchema[] = [PROCESS_EVENTS_TABLE];

/** Default budget per table, milliseconds. */
export const EVENTS_BUDGET_MS: Readonly<Record<string, number>> = { [EventsTable.PROCESS_EVENTS]: 1000 };

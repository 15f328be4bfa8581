/**
 * The tables this probe produces, declared once: names, kinds, keys, typed columns with units
 * and default intervals. The manifest lists them, the collectors fill them, and the README's
 * tables block is generated from them. Column names are a public contract.
 */
import { column, type ColumnDef, type TableSchema } from '@virtualeyes/core';

/** Names of the tables this probe produces. */
export const Table = {
  PERF_CPU: 'perf_cpu',
  PERF_PROCESS: 'perf_process',
  PERF_NUMA: 'perf_numa',
} as const;

/** One of the {@link Table} names. */
export type Table = (typeof Table)[keyof typeof Table];

/** The value columns perf_cpu and perf_process share, after their keys. */
function counterColumns(summed: string): ColumnDef[] {
  return [
    column.int64(
      'value',
      `The count scaled by time_enabled / time_running (the raw count when never multiplexed), cumulative since opened_at${summed}; nanoseconds for cpu-clock and task-clock. Null when the counter never ran (time_running 0).`,
      { nullable: true, counter: true },
    ),
    column.int64('raw', `The count as the kernel read it, unscaled, cumulative since opened_at${summed}.`, { counter: true }),
    column.int64('time_enabled', `Time the counter was enabled since opened_at${summed}.`, { unit: 'ns', counter: true }),
    column.int64('time_running', `Time the counter was actually counting on the PMU${summed}; less than time_enabled when multiplexed.`, { unit: 'ns', counter: true }),
    column.float64('scale', 'time_enabled / time_running, the factor applied to raw: 1 when never multiplexed, null when the counter never ran.', { nullable: true }),
    column.text('group_leader', 'The event leading the group this one was counted in (itself when counted alone): events of one group count over the same window, so their ratios are exact.'),
  ];
}

const openedAt = (what: string): ColumnDef =>
  column.timestamp('opened_at', `When ${what} opened and started from zero; a new value means the counters restarted (a new probe, a CPU back online, a process re-selected).`);

const event = column.text('event', 'Event name as perf spells it (aliases are stored under this canonical name: cs as context-switches).');

/** System-wide counters, one row per online CPU and event. */
export const PERF_CPU_TABLE: TableSchema = {
  name: Table.PERF_CPU,
  kind: 'metric',
  description: 'perf counters per online CPU and event, counting every task on that CPU (system-wide); raw, cumulative, with multiplexing times.',
  key: ['cpu', 'event'],
  defaultIntervalMs: 1000,
  columns: [column.int32('cpu', 'Logical CPU number.'), event, ...counterColumns(''), openedAt("this CPU's counters")],
};

/** Per-process counters, summed over each process's threads. */
export const PERF_PROCESS_TABLE: TableSchema = {
  name: Table.PERF_PROCESS,
  kind: 'metric',
  description: 'perf counters per selected process and event, summed over all its threads (those created later included); joins processes on (pid, start_time).',
  key: ['pid', 'start_time', 'event'],
  defaultIntervalMs: 5000,
  columns: [
    column.int32('pid', 'Process id.'),
    column.timestamp('start_time', 'When the process started (boot time plus starttime, as probe-procfs computes it); with pid, identifies it across pid reuse.'),
    event,
    ...counterColumns(', summed over the threads'),
    column.bool('user_only', 'Whether kernel events were excluded (an unprivileged agent at perf_event_paranoid 2 counts user space only).'),
    openedAt("this process's counters"),
  ],
};

const NUMASTAT: readonly (readonly [string, string])[] = [
  ['numa_hit', 'Pages allocated on this node as intended.'],
  ['numa_miss', 'Pages allocated on this node although intended for another (that one was short of memory).'],
  ['numa_foreign', 'Pages intended for this node but allocated on another.'],
  ['interleave_hit', 'Interleaved pages allocated on this node as intended.'],
  ['local_node', 'Pages allocated on this node by a process running on it.'],
  ['other_node', 'Pages allocated on this node by a process running on another node.'],
];

/** NUMA counters per node: the kernel's allocation statistics, plus perf's node-load events where the PMU has them. */
export const PERF_NUMA_TABLE: TableSchema = {
  name: Table.PERF_NUMA,
  kind: 'metric',
  description: 'Per NUMA node: page allocation counters from numastat (always there on a NUMA-capable kernel) and the perf node-load events summed over its CPUs where the PMU has them.',
  key: ['node'],
  defaultIntervalMs: 5000,
  columns: [
    column.int32('node', 'NUMA node number.'),
    ...NUMASTAT.map(([name, description]) => column.int64(name, `${description} Cumulative since boot (numastat).`, { unit: 'pages', counter: true })),
    column.int64('node_loads', "perf node-loads (memory loads served by a node) counted on this node's CPUs, scaled and summed; null where the event is unavailable or not configured.", { unit: 'count', nullable: true, counter: true }),
    column.int64('node_load_misses', "perf node-load-misses (loads served by a remote node) counted on this node's CPUs; null where unavailable.", { unit: 'count', nullable: true, counter: true }),
  ],
};

/** Every table, in manifest order. */
export const TABLES: readonly TableSchema[] = Object.freeze([PERF_CPU_TABLE, PERF_PROCESS_TABLE, PERF_NUMA_TABLE]);

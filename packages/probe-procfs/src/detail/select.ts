/**
 * Which processes a detail table reads: the effective filter of a table (detail, overridden by
 * detailTables field by field), compiled once per probe, then applied to the latest scan's
 * processes. Kernel threads and zombies are never selected: they have no maps, memory or fds.
 */
import type { ProcessInfo } from '../group.js';
import { globToRegExp } from './glob.js';
import type { DetailFilter, DetailOptions, TopBy } from './options.js';
import type { DetailTable } from './tables.js';

/** A filter with its globs compiled. */
export interface Selector {
  readonly comm: readonly RegExp[];
  readonly users: ReadonlySet<string>;
  readonly cgroup: readonly RegExp[];
  readonly top: number;
  readonly topBy: TopBy;
}

/** The compiled filter of `table`. */
export function selectorFor(options: DetailOptions, table: DetailTable): Selector {
  const filter: DetailFilter = { ...options.detail, ...options.detailTables[table] };
  return {
    comm: filter.comm.map(globToRegExp),
    users: new Set(filter.user),
    cgroup: filter.cgroup.map(globToRegExp),
    top: filter.top,
    topBy: filter.topBy,
  };
}

/** Whether the selector needs each process's cgroup paths. */
export function needsCgroups(selector: Selector): boolean {
  return selector.cgroup.length > 0;
}

/**
 * The processes `selector` keeps, ranked first by its metric when it keeps the top N (ties by
 * total CPU time, then pid); `cgroupsOf` gives a process's cgroup paths, undefined when unreadable
 * (the process is then left out).
 */
export function selectProcesses(processes: readonly ProcessInfo[], selector: Selector, cgroupsOf: (process: ProcessInfo) => readonly string[] | undefined): ProcessInfo[] {
  const kept: ProcessInfo[] = [];
  for (const process of processes) {
    if (process.kernelThread || process.state === 'Z') continue;
    if (selector.comm.length > 0 && !selector.comm.some((glob) => glob.test(process.comm))) continue;
    if (selector.users.size > 0 && !selector.users.has(process.user) && !selector.users.has(String(process.uid))) continue;
    if (selector.cgroup.length > 0) {
      const paths = cgroupsOf(process);
      if (paths === undefined || !paths.some((path) => selector.cgroup.some((glob) => glob.test(path)))) continue;
    }
    kept.push(process);
  }
  if (selector.top === 0 || kept.length <= selector.top) return kept;
  const metric = selector.topBy === 'rss' ? (p: ProcessInfo) => p.rss : (p: ProcessInfo) => p.cpuRecentMs;
  kept.sort((a, b) => metric(b) - metric(a) || b.cpuMs - a.cpuMs || a.pid - b.pid);
  return kept.slice(0, selector.top);
}

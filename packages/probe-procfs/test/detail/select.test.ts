/**
 * Tests of process selection: kernel threads and zombies skipped, comm globs, users by name or
 * uid, cgroup globs, top N by recent CPU or RSS with their tie-breaks, and per-table overrides
 * of the detail filter.
 */
import { describe, expect, it } from 'vitest';
import type { ProcessInfo } from '../../src/group.js';
import { selectorFor, selectProcesses } from '../../src/detail/select.js';
import { validOptions } from '../helpers.js';
import { raw, type RawOptions } from './fixture.js';

const proc = (pid: number, comm: string, extra: Partial<ProcessInfo> = {}): ProcessInfo => ({
  pid,
  startTime: 1000 + pid,
  comm,
  uid: 0,
  user: 'root',
  kernelThread: false,
  state: 'S',
  cpuMs: 0,
  cpuRecentMs: 0,
  rss: 0,
  ...extra,
});

const PROCESSES: ProcessInfo[] = [
  proc(1, 'init', { rss: 10, cpuRecentMs: 5, cpuMs: 500 }),
  proc(2, 'kthreadd', { kernelThread: true, cpuRecentMs: 99 }),
  proc(10, 'postgres', { uid: 106, user: 'postgres', rss: 500, cpuRecentMs: 1, cpuMs: 50 }),
  proc(11, 'postgres', { uid: 106, user: 'postgres', rss: 300, cpuRecentMs: 30, cpuMs: 900 }),
  proc(12, 'nginx', { uid: 33, user: 'www-data', rss: 200, cpuRecentMs: 30, cpuMs: 100 }),
  proc(13, 'defunct', { state: 'Z', rss: 0 }),
];
const CGROUPS: Record<number, string[]> = { 1: ['/init.scope'], 10: ['/system.slice/postgresql.service'], 11: ['/system.slice/postgresql.service'], 12: ['/system.slice/nginx.service'] };

const pids = (options: RawOptions, table: 'process_maps' | 'process_fds' = 'process_fds'): number[] =>
  selectProcesses(PROCESSES, selectorFor(validOptions(raw(options)), table), (p) => CGROUPS[p.pid]).map((p) => p.pid);

describe('selectProcesses', () => {
  it('keeps every user process by default for fds, never kernel threads or zombies', () => {
    expect(pids({})).toEqual([1, 10, 11, 12]);
  });

  it('keeps the 50 largest by RSS for maps by default', () => {
    expect(pids({}, 'process_maps')).toEqual([1, 10, 11, 12]);
    expect(pids({ detailTables: { process_maps: { top: 2, topBy: 'rss' } } }, 'process_maps')).toEqual([10, 11]);
    // A table given replaces its default override: topBy comes from detail again.
    expect(pids({ detailTables: { process_maps: { top: 2 } } }, 'process_maps')).toEqual([11, 12]);
  });

  it('matches comm globs, any of them', () => {
    expect(pids({ detail: { comm: ['post*'] } })).toEqual([10, 11]);
    expect(pids({ detail: { comm: ['ngin?', 'init'] } })).toEqual([1, 12]);
    expect(pids({ detail: { comm: ['kthreadd'] } })).toEqual([]);
  });

  it('matches users by name or uid', () => {
    expect(pids({ detail: { user: ['www-data'] } })).toEqual([12]);
    expect(pids({ detail: { user: ['106', 'root'] } })).toEqual([1, 10, 11]);
  });

  it('matches cgroup globs against the cgroup paths', () => {
    expect(pids({ detail: { cgroup: ['/system.slice/*'] } })).toEqual([10, 11, 12]);
    expect(pids({ detail: { cgroup: ['*/postgresql.service'], comm: ['postgres'] } })).toEqual([10, 11]);
  });

  it('keeps the top N by recent CPU, ties broken by total CPU then pid', () => {
    expect(pids({ detail: { top: 2, topBy: 'cpu' } })).toEqual([11, 12]);
    expect(pids({ detail: { top: 3, topBy: 'cpu' } })).toEqual([11, 12, 1]);
  });

  it('keeps the top N by RSS after the other filters', () => {
    expect(pids({ detail: { top: 1, topBy: 'rss', user: ['postgres'] } })).toEqual([10]);
  });

  it('lets a table override a field of detail and inherit the others', () => {
    const options = { detail: { comm: ['postgres'], top: 1, topBy: 'cpu' as const }, detailTables: { process_maps: { topBy: 'rss' as const } } };
    expect(pids(options, 'process_fds')).toEqual([11]);
    expect(pids(options, 'process_maps')).toEqual([10]);
  });
});

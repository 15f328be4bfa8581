/**
 * What this package gives the plugin kit: its identity, options schema, tables, configure and
 * the Linux implementation. A function of the system-call loader, so tests can run the real
 * probe, through the kit, over a scripted kernel; index.ts builds the module with the real one.
 */
import type { ProbeDefinition } from '@virtualeyes/core';
import { CONFIG_SCHEMA, configure, type PerfConfig, type PerfSettings } from './config.js';
import { identity } from './identity.js';
import type { PerfSyscallsLoader } from './linux/native.js';
import { linuxPlatform } from './platform/linux.js';
import { TABLES } from './tables.js';

/** The perf probe's definition; `loader` replaces the libc system calls (for tests). */
export function createPerfDefinition(loader?: PerfSyscallsLoader): ProbeDefinition<PerfConfig, PerfSettings> {
  return {
    identity,
    name: 'perf',
    description:
      'Counts Linux perf events (context switches, faults, cycles, cache and NUMA misses) per CPU and per selected process through perf_event_open, plus NUMA node statistics.',
    configSchema: CONFIG_SCHEMA,
    tables: TABLES,
    configure,
    platforms: { linux: linuxPlatform(loader) },
    unsupported: (platform) =>
      `perf counts through Linux's perf_event_open and cannot run on ${platform}; a probe for that platform's own counters (DTrace cpc on illumos, hwpmc on FreeBSD) would be needed`,
  };
}

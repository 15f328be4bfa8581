/**
 * Picks the platform implementation: Linux counts through perf_event_open; every other
 * platform gets one that reports UNSUPPORTED with what would be needed, and never crashes the
 * agent.
 */
import type { CollectResult, PluginDeps, Status } from '@virtualeyes/core';
import type { PerfConfig } from '../config.js';
import type { PerfSyscallsLoader } from '../linux/native.js';
import { linuxPlatform } from './linux.js';
import { unsupportedPlatform } from './unsupported.js';

/** The counters of one probe instance; never throws. */
export interface Collector {
  /** Opens the per-CPU counters; problems found are returned by the next collection. Safe to call twice. */
  start(): Promise<Status>;
  /** One collection of `tables` (starting first if start was never called). */
  collect(tables: readonly string[], signal: AbortSignal): Promise<CollectResult>;
  /** Closes every file descriptor; safe to call twice. */
  close(): Status;
}

/** What each platform provides. */
export interface PlatformImpl {
  /** OK when the probe can run here; UNSUPPORTED with a reason otherwise. No I/O. */
  readonly check: () => Status;
  /** Builds the collector of one probe instance; `loader` replaces the libc system calls in tests. */
  readonly createCollector: (config: PerfConfig, deps: PluginDeps, loader?: PerfSyscallsLoader) => Collector;
}

/** The implementation for `platform` (as `process.platform` spells it). */
export function selectPlatform(platform: string): PlatformImpl {
  return platform === 'linux' ? linuxPlatform : unsupportedPlatform(platform);
}

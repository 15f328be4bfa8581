/**
 * Picks the platform implementation: Linux reads procfs and sysfs; every other platform
 * gets one that reports UNSUPPORTED with what would be needed, and never crashes the agent.
 */
import type { CollectResult, PluginDeps, Status } from '@virtualeyes/core';
import type { ProcfsConfig } from '../config.js';
import { linuxPlatform } from './linux.js';
import { unsupportedPlatform } from './unsupported.js';

/** Collects due tables; never throws. */
export interface Collector {
  /** One collection of `tables`; stops early when `signal` aborts. */
  collect(tables: readonly string[], signal: AbortSignal): Promise<CollectResult>;
}

/** What each platform provides. */
export interface PlatformImpl {
  /** OK when the probe can run here; UNSUPPORTED with a reason otherwise. No I/O. */
  readonly check: () => Status;
  /** Builds the collector of one probe instance. */
  readonly createCollector: (config: ProcfsConfig, deps: PluginDeps) => Collector;
}

/** The implementation for `platform` (as `process.platform` spells it). */
export function selectPlatform(platform: string): PlatformImpl {
  return platform === 'linux' ? linuxPlatform : unsupportedPlatform(platform);
}

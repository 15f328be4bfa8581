/**
 * The probe's lifecycle around a platform collector: config checked at creation, platform
 * checked at init (no I/O), counters opened at start (or the first collection), collections
 * that never throw (a bug becomes an INTERNAL status), and an idempotent close that releases
 * every file descriptor, after which collections return a Status instead of rows.
 */
import { err, ok, statusFromError, type CollectResult, type PluginDeps, type Probe, type Result } from '@virtualeyes/core';
import { parseConfig, type PerfOptions } from './config.js';
import type { PerfSyscallsLoader } from './linux/native.js';
import { selectPlatform } from './platform/index.js';

/** Builds a perf probe for `platform`; INVALID_CONFIG when the options do not validate. `loader` is for tests. */
export function createPerfProbe(options: PerfOptions, deps: PluginDeps, platform: string, loader?: PerfSyscallsLoader): Result<Probe> {
  const config = parseConfig(options);
  if (!config.ok) return err(config.status);
  const impl = selectPlatform(platform);
  const collector = impl.createCollector(config.value, deps, loader);

  return ok({
    name: deps.name,
    init: () => impl.check(),
    async start() {
      try {
        return await collector.start();
      } catch (error) {
        return statusFromError(error, { op: 'start' });
      }
    },
    async collect(context): Promise<CollectResult> {
      try {
        return await collector.collect(context.tables, context.signal);
      } catch (error) {
        return { batches: [], errors: [statusFromError(error, { op: 'collect' })] };
      }
    },
    close() {
      try {
        return Promise.resolve(collector.close());
      } catch (error) {
        return Promise.resolve(statusFromError(error, { op: 'close' }));
      }
    },
  });
}

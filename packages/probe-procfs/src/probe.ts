/**
 * The probe's lifecycle around a platform collector: config checked at creation, platform
 * checked at init, collections that never throw (a bug becomes an INTERNAL status), and an
 * idempotent close after which collections return a Status instead of rows.
 */
import {
  err,
  fail,
  ok,
  OK,
  statusFromError,
  StatusCode,
  type CollectResult,
  type PluginDeps,
  type Probe,
  type Result,
} from '@virtualeyes/core';
import { parseConfig, type ProcfsOptions } from './config.js';
import { selectPlatform } from './platform/index.js';

/** Builds a procfs probe for `platform`; INVALID_CONFIG when the options do not validate. */
export function createProcfsProbe(options: ProcfsOptions, deps: PluginDeps, platform: string): Result<Probe> {
  const config = parseConfig(options);
  if (!config.ok) return err(config.status);
  const impl = selectPlatform(platform);
  const collector = impl.createCollector(config.value, deps);
  let closed = false;

  return ok({
    name: deps.name,
    init: () => impl.check(),
    async collect(context): Promise<CollectResult> {
      if (closed) {
        return { batches: [], errors: [fail(StatusCode.UNAVAILABLE, 'the probe is closed', { op: 'collect', retryable: false })] };
      }
      try {
        return await collector.collect(context.tables, context.signal);
      } catch (error) {
        return { batches: [], errors: [statusFromError(error, { op: 'collect' })] };
      }
    },
    close() {
      closed = true;
      return Promise.resolve(OK);
    },
  });
}

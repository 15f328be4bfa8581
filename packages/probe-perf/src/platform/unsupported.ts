/**
 * The implementation for platforms without perf_event_open: init, start and every collection
 * return UNSUPPORTED with a sentence saying what would be needed instead; close has nothing to do.
 */
import { fail, OK, StatusCode, type Status } from '@virtualeyes/core';
import type { PlatformImpl } from './index.js';

/** An implementation whose check, start and collections report UNSUPPORTED for `platform`. */
export function unsupportedPlatform(platform: string): PlatformImpl {
  const status = (): Status =>
    fail(
      StatusCode.UNSUPPORTED,
      `perf counts through Linux's perf_event_open and cannot run on ${platform}; a probe for that platform's own counters (DTrace cpc on illumos, hwpmc on FreeBSD) would be needed`,
      { op: 'init' },
    );
  return {
    check: status,
    createCollector: () => ({
      start: () => Promise.resolve(status()),
      collect: () => Promise.resolve({ batches: [], errors: [status()] }),
      close: () => OK,
    }),
  };
}

/**
 * The implementation for platforms without procfs in the Linux layout: init and every
 * collection return UNSUPPORTED with a sentence saying what would be needed instead.
 */
import { fail, StatusCode, type Status } from '@virtualeyes/core';
import type { PlatformImpl } from './index.js';

/** An implementation whose check and collections report UNSUPPORTED for `platform`. */
export function unsupportedPlatform(platform: string): PlatformImpl {
  const status = (): Status =>
    fail(
      StatusCode.UNSUPPORTED,
      `procfs reads Linux's /proc and /sys and cannot run on ${platform}; a probe for that platform's own interfaces (kstat on illumos, sysctl on BSD) would be needed`,
      { op: 'init' },
    );
  return {
    check: status,
    createCollector: () => ({
      collect: () => Promise.resolve({ batches: [], errors: [status()] }),
    }),
  };
}

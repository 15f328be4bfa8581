/**
 * libc through koffi, for the Linux plugins that call the kernel directly (perf_event_open,
 * ptrace, madvise): koffi is imported on first use, never at module load, the library is
 * loaded once per process, and errno numbers get their names. A separate entry point
 * (`@virtualeyes/linux/native`) so that plugins without native calls never need koffi.
 */
import { err, fail, messageOf, ok, StatusCode, type Result } from '@virtualeyes/core';
import type Koffi from 'koffi';
import type { LibraryHandle } from 'koffi';

/** The C library every binding is declared against. */
export const LIBC = 'libc.so.6';

/** The spelling kept where two errno names share a number (EAGAIN/EWOULDBLOCK, EOPNOTSUPP/ENOTSUP, EDEADLK/EDEADLOCK). */
const PREFERRED_NAMES: ReadonlySet<string> = new Set(['EAGAIN', 'EOPNOTSUPP', 'EDEADLK']);

/** A system call's value, or the errno name it failed with. */
export type SysResult = { readonly ok: true; readonly value: number } | { readonly ok: false; readonly errno: string };

/** Pseudo-errno for an exception from koffi itself (a bad argument, a missing symbol, a full async queue): a bug or an overload. */
export const FFI_ERRNO = 'EFFI';

/** libc as loaded through koffi. */
export interface Libc {
  /** koffi itself: to declare types and read errno after a call. */
  readonly koffi: typeof Koffi;
  /** The loaded library, to declare functions with `lib.func(...)`. */
  readonly lib: LibraryHandle;
  /** The name of an errno value (`EAGAIN`), or `E<n>` for one koffi does not know. */
  errnoName(code: number): string;
  /** Runs one bound libc call: a negative value becomes errno's name, a koffi exception FFI_ERRNO; never throws. */
  call(fn: () => unknown): SysResult;
}

let loaded: Promise<Result<Libc>> | undefined;

/** Loads koffi and libc once; UNAVAILABLE when koffi cannot load, UNSUPPORTED when libc cannot (no glibc). */
export function loadLibc(): Promise<Result<Libc>> {
  loaded ??= load();
  return loaded;
}

async function load(): Promise<Result<Libc>> {
  let koffi: typeof Koffi;
  try {
    koffi = (await import('koffi')).default;
  } catch (error) {
    return err(fail(StatusCode.UNAVAILABLE, `cannot load koffi: ${messageOf(error)}`, { op: 'load koffi', cause: error, retryable: false }));
  }
  try {
    const lib = koffi.load(LIBC);
    const names = new Map<number, string>();
    for (const [name, value] of Object.entries(koffi.os.errno)) {
      if (!names.has(value) || PREFERRED_NAMES.has(name)) names.set(value, name);
    }
    const errnoName = (code: number): string => names.get(code) ?? `E${code}`;
    const call = (fn: () => unknown): SysResult => {
      try {
        const value = Number(fn());
        if (value >= 0) return { ok: true, value };
        return { ok: false, errno: errnoName(koffi.errno()) };
      } catch {
        return { ok: false, errno: FFI_ERRNO };
      }
    };
    return ok({ koffi, lib, errnoName, call });
  } catch (error) {
    return err(fail(StatusCode.UNSUPPORTED, `cannot load ${LIBC} through koffi: ${messageOf(error)}`, { op: 'load libc', cause: error, retryable: false }));
  }
}

/**
 * The native edge: perf_event_open through libc's syscall(2), and read, ioctl and close, via
 * koffi. koffi is imported when a probe starts (never at module load), each call's failure
 * comes back as an errno name, and a koffi exception becomes the pseudo-errno EFFI, so
 * nothing native throws past this file.
 */
import { err, fail, messageOf, ok, StatusCode, type Result } from '@virtualeyes/core';
import { LIBC, loadLibc, type SysResult } from '@virtualeyes/linux/native';
import { PERF_EVENT_OPEN_SYSCALL, PERF_FLAG_FD_CLOEXEC } from '../constants.js';

/** The system calls the counters need; the real one wraps libc, tests may pass a fake. */
export interface PerfSyscalls {
  /** perf_event_open(attr, pid, cpu, groupFd, PERF_FLAG_FD_CLOEXEC): a new fd. */
  open(attr: Buffer, pid: number, cpu: number, groupFd: number): SysResult;
  /** read(fd, buffer, buffer.length): bytes read. */
  read(fd: number, buffer: Buffer): SysResult;
  /** ioctl(fd, request, arg) with an integer argument. */
  ioctl(fd: number, request: number, arg: number): SysResult;
  /** ioctl(fd, request, buffer) with a pointer argument the kernel writes to. */
  ioctlOut(fd: number, request: number, out: Buffer): SysResult;
  /** close(fd). */
  close(fd: number): SysResult;
}

/** Loads the system calls for this process; a Promise so the native addon loads only when needed. */
export type PerfSyscallsLoader = () => Promise<Result<PerfSyscalls>>;

/** Loads libc through koffi and binds the calls; UNSUPPORTED on an architecture without a known syscall number. */
export async function loadLibcSyscalls(arch: string = process.arch): Promise<Result<PerfSyscalls>> {
  const number = PERF_EVENT_OPEN_SYSCALL[arch];
  if (number === undefined) {
    return err(fail(StatusCode.UNSUPPORTED, `no perf_event_open syscall number is known for ${arch}`, { op: 'load libc' }));
  }
  const libc = await loadLibc();
  if (!libc.ok) return libc;
  const { lib, call } = libc.value;
  try {
    const syscall = lib.func('long syscall(long number, ...)');
    const read = lib.func('long read(int fd, void *buf, size_t count)');
    const ioctl = lib.func('int ioctl(int fd, unsigned long request, ...)');
    const close = lib.func('int close(int fd)');
    return ok({
      open: (attr, pid, cpu, groupFd) =>
        call(() => syscall(number, 'void *', attr, 'int', pid, 'int', cpu, 'int', groupFd, 'unsigned long', PERF_FLAG_FD_CLOEXEC)),
      read: (fd, buffer) => call(() => read(fd, buffer, buffer.length)),
      ioctl: (fd, request, arg) => call(() => ioctl(fd, request, 'unsigned long', arg)),
      ioctlOut: (fd, request, out) => call(() => ioctl(fd, request, 'void *', out)),
      close: (fd) => call(() => close(fd)),
    });
  } catch (error) {
    return err(fail(StatusCode.UNAVAILABLE, `cannot bind ${LIBC} through koffi: ${messageOf(error)}`, { op: 'load libc', cause: error, retryable: false }));
  }
}

/**
 * The native edge of the process-events reader: socket, bind, setsockopt, send, recv (in place,
 * or blocking on one of libuv's worker threads through koffi's async call), close and
 * clock_gettime, via koffi and @virtualeyes/linux's libc. Every failure comes back as an errno
 * name and a koffi exception as the pseudo-errno EFFI, so nothing native throws past this file.
 */
import { err, fail, messageOf, ok, StatusCode, type Result } from '@virtualeyes/core';
import { FFI_ERRNO, LIBC, loadLibc, type SysResult } from '@virtualeyes/linux/native';

/** Socket constants of <sys/socket.h> and <linux/netlink.h> that do not vary by architecture here. */
export const Socket = {
  AF_NETLINK: 16,
  SOCK_DGRAM: 2,
  /** O_CLOEXEC on every architecture koffi ships for except alpha, parisc and sparc. */
  SOCK_CLOEXEC: 0o2000000,
  NETLINK_CONNECTOR: 11,
  MSG_DONTWAIT: 0x40,
  /** sizeof(struct sockaddr_nl). */
  SOCKADDR_NL_BYTES: 12,
} as const;

/** SOL_SOCKET options, which MIPS and PowerPC number differently. */
interface SocketOptions {
  readonly SOL_SOCKET: number;
  readonly SO_RCVBUF: number;
  readonly SO_RCVBUFFORCE: number;
  readonly SO_RCVTIMEO: number;
}

const GENERIC: SocketOptions = { SOL_SOCKET: 1, SO_RCVBUF: 8, SO_RCVBUFFORCE: 33, SO_RCVTIMEO: 20 };
/** By process.arch; an architecture missing here is refused with UNSUPPORTED rather than guessed. */
const SOCKET_OPTIONS: Readonly<Record<string, SocketOptions>> = {
  x64: GENERIC,
  ia32: GENERIC,
  arm64: GENERIC,
  arm: GENERIC,
  riscv64: GENERIC,
  loong64: GENERIC,
  s390x: GENERIC,
  ppc64: { ...GENERIC, SO_RCVTIMEO: 18 },
};

/** The clocks read together to map kernel timestamps to wall time, nanoseconds. */
export interface ClockReading {
  /** CLOCK_MONOTONIC just before the wall clock. */
  readonly before: bigint;
  /** CLOCK_REALTIME. */
  readonly realtime: bigint;
  /** CLOCK_MONOTONIC just after. */
  readonly after: bigint;
  /** CLOCK_BOOTTIME right after: monotonic plus the time spent suspended. */
  readonly boottime: bigint;
}

/** The calls the reader needs, bound to libc. */
export interface ConnectorSyscalls {
  /** socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_CONNECTOR). */
  socket(): SysResult;
  /** bind() to port id 0 (the kernel assigns one) and the multicast `groups` bitmask. */
  bind(fd: number, groups: number): SysResult;
  /** The port id the kernel assigned (getsockname). */
  portId(fd: number): SysResult;
  /** SO_RCVBUFFORCE (root, CAP_NET_ADMIN) or SO_RCVBUF, in bytes. */
  setReceiveBuffer(fd: number, bytes: number, force: boolean): SysResult;
  /** The receive buffer the kernel granted (it doubles the request for its bookkeeping). */
  receiveBuffer(fd: number): SysResult;
  /** SO_RCVTIMEO: how long a blocking recv waits before EAGAIN. */
  setReceiveTimeout(fd: number, ms: number): SysResult;
  /** send(fd, message, length, 0). */
  send(fd: number, message: Buffer): SysResult;
  /** sendto() of `message` to the socket's own port id: wakes a blocked recv (root only; others get EPERM). */
  sendToSelf(fd: number, portId: number, message: Buffer): SysResult;
  /** recv(fd, buffer, length, MSG_DONTWAIT): one datagram, or EAGAIN. */
  receiveNow(fd: number, buffer: Buffer): SysResult;
  /** recv(fd, buffer, length, 0) on a libuv worker thread; `done` runs on the main thread, never throws. */
  receiveAsync(fd: number, buffer: Buffer, done: (result: SysResult) => void): void;
  /** close(fd). */
  close(fd: number): SysResult;
  /** The three clocks, read back to back. */
  clocks(): ClockReading;
  /** The name of an errno value (an ack carries one). */
  errnoName(code: number): string;
}

const CLOCK_REALTIME = 0;
const CLOCK_MONOTONIC = 1;
const CLOCK_BOOTTIME = 7;
const NS_PER_S = 1_000_000_000n;

/** Loads libc through koffi and binds the calls; UNSUPPORTED on an architecture whose socket options are not known here. */
export async function loadConnectorSyscalls(arch: string = process.arch): Promise<Result<ConnectorSyscalls>> {
  const options = SOCKET_OPTIONS[arch];
  if (options === undefined) {
    return err(fail(StatusCode.UNSUPPORTED, `process events: socket option numbers for ${arch} are not known to this probe`, { op: 'load libc', retryable: false }));
  }
  const libc = await loadLibc();
  if (!libc.ok) return libc;
  const { koffi, lib, errnoName, call } = libc.value;
  try {
    const socket = lib.func('int socket(int domain, int type, int protocol)');
    const bind = lib.func('int bind(int fd, const void *addr, uint32_t len)');
    const getsockname = lib.func('int getsockname(int fd, void *addr, void *len)');
    const setsockopt = lib.func('int setsockopt(int fd, int level, int name, const void *value, uint32_t len)');
    const getsockopt = lib.func('int getsockopt(int fd, int level, int name, void *value, void *len)');
    const send = lib.func('intptr_t send(int fd, const void *buf, size_t len, int flags)');
    const sendto = lib.func('intptr_t sendto(int fd, const void *buf, size_t len, int flags, const void *addr, uint32_t addrlen)');
    const recv = lib.func('intptr_t recv(int fd, void *buf, size_t len, int flags)');
    const close = lib.func('int close(int fd)');
    const clockGettime = lib.func('int clock_gettime(int clock, void *ts)');
    const longBytes = koffi.sizeof('long');

    const address = (portId: number, groups: number): Buffer => {
      const sockaddr = Buffer.alloc(Socket.SOCKADDR_NL_BYTES);
      sockaddr.writeUInt16LE(Socket.AF_NETLINK, 0);
      sockaddr.writeUInt32LE(portId >>> 0, 4);
      sockaddr.writeUInt32LE(groups >>> 0, 8);
      return sockaddr;
    };
    const int = Buffer.alloc(4);
    const intLength = Buffer.alloc(4);
    const timespec = Buffer.alloc(16);
    const read = (clock: number): bigint => {
      clockGettime(clock, timespec);
      return timespec.readBigInt64LE(0) * NS_PER_S + timespec.readBigInt64LE(8);
    };

    return ok({
      socket: () => call(() => socket(Socket.AF_NETLINK, Socket.SOCK_DGRAM | Socket.SOCK_CLOEXEC, Socket.NETLINK_CONNECTOR)),
      bind: (fd, groups) => call(() => bind(fd, address(0, groups), Socket.SOCKADDR_NL_BYTES)),
      portId(fd) {
        const sockaddr = Buffer.alloc(Socket.SOCKADDR_NL_BYTES);
        const length = Buffer.alloc(4);
        length.writeUInt32LE(Socket.SOCKADDR_NL_BYTES);
        const got = call(() => getsockname(fd, sockaddr, length));
        return got.ok ? { ok: true, value: sockaddr.readUInt32LE(4) } : got;
      },
      setReceiveBuffer(fd, bytes, force) {
        int.writeInt32LE(Math.min(bytes, 0x7fffffff));
        return call(() => setsockopt(fd, options.SOL_SOCKET, force ? options.SO_RCVBUFFORCE : options.SO_RCVBUF, int, 4));
      },
      receiveBuffer(fd) {
        intLength.writeUInt32LE(4);
        const got = call(() => getsockopt(fd, options.SOL_SOCKET, options.SO_RCVBUF, int, intLength));
        return got.ok ? { ok: true, value: int.readInt32LE(0) } : got;
      },
      setReceiveTimeout(fd, ms) {
        // struct timeval: two longs (seconds, microseconds).
        const timeval = Buffer.alloc(2 * longBytes);
        const seconds = Math.floor(ms / 1000);
        const micros = (ms % 1000) * 1000;
        if (longBytes === 8) {
          timeval.writeBigInt64LE(BigInt(seconds), 0);
          timeval.writeBigInt64LE(BigInt(micros), 8);
        } else {
          timeval.writeInt32LE(seconds, 0);
          timeval.writeInt32LE(micros, 4);
        }
        return call(() => setsockopt(fd, options.SOL_SOCKET, options.SO_RCVTIMEO, timeval, timeval.length));
      },
      send: (fd, message) => call(() => send(fd, message, message.length, 0)),
      sendToSelf: (fd, portId, message) => call(() => sendto(fd, message, message.length, 0, address(portId, 0), Socket.SOCKADDR_NL_BYTES)),
      receiveNow: (fd, buffer) => call(() => recv(fd, buffer, buffer.length, Socket.MSG_DONTWAIT)),
      receiveAsync(fd, buffer, done) {
        try {
          // koffi hands errno of the worker thread back to the callback's koffi.errno().
          recv.async(fd, buffer, buffer.length, 0, (error: unknown, value: unknown) => {
            if (error !== null && error !== undefined) {
              done({ ok: false, errno: FFI_ERRNO });
              return;
            }
            const count = Number(value);
            done(count >= 0 ? { ok: true, value: count } : { ok: false, errno: errnoName(koffi.errno()) });
          });
        } catch {
          queueMicrotask(() => done({ ok: false, errno: FFI_ERRNO }));
        }
      },
      close: (fd) => call(() => close(fd)),
      errnoName,
      clocks() {
        try {
          const before = read(CLOCK_MONOTONIC);
          const realtime = read(CLOCK_REALTIME);
          const after = read(CLOCK_MONOTONIC);
          return { before, realtime, after, boottime: read(CLOCK_BOOTTIME) };
        } catch {
          // Unreachable with a working libc; Node's own clocks are coarser (Date.now is in ms) but never fail.
          const now = process.hrtime.bigint();
          return { before: now, realtime: BigInt(Date.now()) * 1_000_000n, after: now, boottime: now };
        }
      },
    });
  } catch (error) {
    return err(fail(StatusCode.UNAVAILABLE, `cannot bind ${LIBC} through koffi: ${messageOf(error)}`, { op: 'load libc', cause: error, retryable: false }));
  }
}

/**
 * Decoder of the process-events connector's datagrams: netlink header, connector header and
 * `struct proc_event` (<linux/netlink.h>, <linux/connector.h>, <linux/cn_proc.h>), straight
 * from the bytes, plus the wait status an exit event carries. Pure: malformed input yields a
 * PARSE_ERROR Status, never a throw, and kinds this decoder does not know come back as such.
 */
import { ok, type Result } from '@virtualeyes/core';
import { parseError } from '@virtualeyes/linux';

/** Byte layout of one connector datagram, from the kernel headers (a test checks them against gcc). */
export const Layout = {
  /** sizeof(struct nlmsghdr). */
  NLMSG_HDRLEN: 16,
  /** Netlink messages are padded to this. */
  NLMSG_ALIGNTO: 4,
  /** Offset of struct cn_msg: right after the netlink header. */
  CN_MSG: 16,
  /** sizeof(struct cn_msg) without its data. */
  CN_MSG_HDRLEN: 20,
  /** Offset of struct proc_event (cn_msg.data). */
  PROC_EVENT: 36,
  /** Offset of proc_event.event_data, relative to the proc_event. */
  EVENT_DATA: 16,
  /** sizeof(struct proc_event) on every Linux since 2.6.15 (the union's largest member is 24 bytes). */
  PROC_EVENT_SIZE: 40,
} as const;

/** nlmsg_type values the connector uses (it sends every event as NLMSG_DONE). */
export const NlmsgType = { NOOP: 1, ERROR: 2, DONE: 3, OVERRUN: 4 } as const;

/** struct cb_id of the process-events connector. */
export const CN_IDX_PROC = 1;
/** struct cb_id of the process-events connector. */
export const CN_VAL_PROC = 1;

/** enum proc_cn_mcast_op. */
export const McastOp = { LISTEN: 1, IGNORE: 2 } as const;

/** enum what of struct proc_event. */
export const What = {
  NONE: 0x0,
  FORK: 0x1,
  EXEC: 0x2,
  UID: 0x4,
  GID: 0x40,
  SID: 0x80,
  PTRACE: 0x100,
  COMM: 0x200,
  COREDUMP: 0x40000000,
  EXIT: 0x80000000,
} as const;

/** What every decoded event carries: where and when the kernel reported it. */
interface KernelBase {
  /** CPU that reported it. */
  readonly cpu: number;
  /** The connector's sequence number, counted per CPU (gaps are lost events). */
  readonly seq: number;
  /** CLOCK_MONOTONIC nanoseconds (ktime_get_ns) when the kernel reported it. */
  readonly ns: bigint;
  /** Thread id the event is about (for fork: the new thread). */
  readonly pid: number;
  /** Its thread-group id: the process id; pid === tgid for a process's main thread. */
  readonly tgid: number;
}

/** One decoded message of the connector. */
export type KernelMessage =
  /**
   * The kernel's answer to a LISTEN or IGNORE: `err` is an errno value, 0 for success; `ack` is
   * the request's plus one. Since Linux 6.6 `seq` and `cpu` number it like an event; before, it
   * echoed the request's seq with cpu 0xffffffff.
   */
  | { readonly kind: 'ack'; readonly cpu: number; readonly seq: number; readonly ack: number; readonly err: number }
  | (KernelBase & { readonly kind: 'fork'; readonly parentPid: number; readonly parentTgid: number })
  | (KernelBase & { readonly kind: 'exec' })
  | (KernelBase & { readonly kind: 'uid' | 'gid'; readonly real: number; readonly effective: number })
  | (KernelBase & { readonly kind: 'sid' })
  | (KernelBase & { readonly kind: 'ptrace'; readonly tracerPid: number; readonly tracerTgid: number })
  | (KernelBase & { readonly kind: 'comm'; readonly comm: string })
  | (KernelBase & { readonly kind: 'coredump'; readonly parentPid: number; readonly parentTgid: number })
  | (KernelBase & {
      readonly kind: 'exit';
      /** task->exit_code: a wait status (see {@link decodeWaitStatus}). */
      readonly status: number;
      /** Signal sent to the parent (SIGCHLD), not the one that killed it. */
      readonly exitSignal: number;
      /** 0 on kernels before 4.18, which do not report it. */
      readonly parentPid: number;
      readonly parentTgid: number;
    })
  /** A `what` this decoder does not know (a newer kernel's event). */
  | { readonly kind: 'unknown'; readonly what: number; readonly cpu: number; readonly seq: number }
  /** A netlink message that is not a process event (NOOP, another connector): skipped. */
  | { readonly kind: 'other'; readonly type: number };

/** A wait status split as waitpid(2)'s macros would. */
export interface WaitStatus {
  /** WEXITSTATUS when the process exited, else null. */
  readonly exitCode: number | null;
  /** WTERMSIG when a signal killed it, else null. */
  readonly signal: number | null;
  /** WCOREDUMP when a signal killed it, else null. */
  readonly coreDumped: boolean | null;
}

const SOURCE = 'process events';
const SIGNAL_MASK = 0x7f;
const CORE_FLAG = 0x80;
const STOPPED = 0x7f;
const COMM_BYTES = 16;

/** Splits a wait status: exited (code, no signal), killed (signal, core flag), or neither for a stop status. */
export function decodeWaitStatus(status: number): WaitStatus {
  const low = status & SIGNAL_MASK;
  if (low === 0) return { exitCode: (status >> 8) & 0xff, signal: null, coreDumped: null };
  if (low !== STOPPED) return { exitCode: null, signal: low, coreDumped: (status & CORE_FLAG) !== 0 };
  return { exitCode: null, signal: null, coreDumped: null };
}

/** Decodes the netlink messages of one datagram of `length` bytes at the start of `buffer`. */
export function decodeDatagram(buffer: Buffer, length: number): Result<KernelMessage[]> {
  const messages: KernelMessage[] = [];
  const end = Math.min(length, buffer.length);
  let offset = 0;
  while (offset + Layout.NLMSG_HDRLEN <= end) {
    const size = buffer.readUInt32LE(offset);
    if (size < Layout.NLMSG_HDRLEN || offset + size > end) return parseError(SOURCE, `netlink message of ${size} bytes at offset ${offset} of a ${end}-byte datagram`);
    const type = buffer.readUInt16LE(offset + 4);
    if (type === NlmsgType.DONE) {
      const decoded = decodeConnector(buffer, offset, size);
      if (!decoded.ok) return decoded;
      messages.push(decoded.value);
    } else {
      messages.push({ kind: 'other', type });
    }
    offset += align(size);
  }
  if (offset < end && messages.length === 0) return parseError(SOURCE, `datagram of ${end} bytes is shorter than a netlink header`);
  return ok(messages);
}

/** The LISTEN (or IGNORE) request: netlink header, connector header to CN_IDX_PROC (the kernel's ack answers `ack` + 1), the op. */
export function encodeMcastOp(op: number, portId: number, seq: number, ack: number): Buffer {
  const size = Layout.PROC_EVENT + 4;
  const message = Buffer.alloc(size);
  message.writeUInt32LE(size, 0);
  message.writeUInt16LE(NlmsgType.DONE, 4);
  message.writeUInt16LE(0, 6);
  message.writeUInt32LE(seq >>> 0, 8);
  message.writeUInt32LE(portId >>> 0, 12);
  message.writeUInt32LE(CN_IDX_PROC, Layout.CN_MSG);
  message.writeUInt32LE(CN_VAL_PROC, Layout.CN_MSG + 4);
  message.writeUInt32LE(seq >>> 0, Layout.CN_MSG + 8);
  message.writeUInt32LE(ack >>> 0, Layout.CN_MSG + 12);
  message.writeUInt16LE(4, Layout.CN_MSG + 16);
  message.writeUInt16LE(0, Layout.CN_MSG + 18);
  message.writeUInt32LE(op, Layout.PROC_EVENT);
  return message;
}

function decodeConnector(buffer: Buffer, start: number, size: number): Result<KernelMessage> {
  if (size < Layout.NLMSG_HDRLEN + Layout.CN_MSG_HDRLEN) return parseError(SOURCE, `connector message of ${size} bytes has no connector header`);
  const cn = start + Layout.CN_MSG;
  const idx = buffer.readUInt32LE(cn);
  const val = buffer.readUInt32LE(cn + 4);
  if (idx !== CN_IDX_PROC || val !== CN_VAL_PROC) return ok({ kind: 'other', type: NlmsgType.DONE });
  const seq = buffer.readUInt32LE(cn + 8);
  const ack = buffer.readUInt32LE(cn + 12);
  const dataLength = buffer.readUInt16LE(cn + 16);
  const event = start + Layout.PROC_EVENT;
  if (dataLength < Layout.EVENT_DATA || Layout.PROC_EVENT + dataLength > size) {
    return parseError(SOURCE, `process event of ${dataLength} bytes in a ${size}-byte message`);
  }
  const what = buffer.readUInt32LE(event);
  const cpu = buffer.readUInt32LE(event + 4);
  const ns = buffer.readBigUInt64LE(event + 8);
  const data = event + Layout.EVENT_DATA;
  const available = dataLength - Layout.EVENT_DATA;
  const need = (bytes: number): Result<true> =>
    available >= bytes ? ok(true) : parseError(SOURCE, `process event 0x${what.toString(16)} has ${available} bytes of data, needs ${bytes}`);
  const i32 = (at: number): number => buffer.readInt32LE(data + at);
  const u32 = (at: number): number => buffer.readUInt32LE(data + at);

  switch (what) {
    case What.NONE: {
      const has = need(4);
      return has.ok ? ok({ kind: 'ack', cpu, seq, ack, err: u32(0) }) : has;
    }
    case What.FORK: {
      const has = need(16);
      return has.ok ? ok({ kind: 'fork', cpu, seq, ns, parentPid: i32(0), parentTgid: i32(4), pid: i32(8), tgid: i32(12) }) : has;
    }
    case What.EXEC:
    case What.SID: {
      const has = need(8);
      return has.ok ? ok({ kind: what === What.EXEC ? 'exec' : 'sid', cpu, seq, ns, pid: i32(0), tgid: i32(4) }) : has;
    }
    case What.UID:
    case What.GID: {
      const has = need(16);
      return has.ok ? ok({ kind: what === What.UID ? 'uid' : 'gid', cpu, seq, ns, pid: i32(0), tgid: i32(4), real: u32(8), effective: u32(12) }) : has;
    }
    case What.PTRACE: {
      const has = need(16);
      return has.ok ? ok({ kind: 'ptrace', cpu, seq, ns, pid: i32(0), tgid: i32(4), tracerPid: i32(8), tracerTgid: i32(12) }) : has;
    }
    case What.COMM: {
      const has = need(8 + COMM_BYTES);
      if (!has.ok) return has;
      const bytes = buffer.subarray(data + 8, data + 8 + COMM_BYTES);
      const nul = bytes.indexOf(0);
      return ok({ kind: 'comm', cpu, seq, ns, pid: i32(0), tgid: i32(4), comm: bytes.toString('utf8', 0, nul < 0 ? COMM_BYTES : nul) });
    }
    case What.COREDUMP: {
      // Kernels before 4.18 sent 8 bytes (no parent).
      const has = need(8);
      if (!has.ok) return has;
      const parent = available >= 16;
      return ok({ kind: 'coredump', cpu, seq, ns, pid: i32(0), tgid: i32(4), parentPid: parent ? i32(8) : 0, parentTgid: parent ? i32(12) : 0 });
    }
    case What.EXIT: {
      const has = need(16);
      if (!has.ok) return has;
      const parent = available >= 24;
      return ok({
        kind: 'exit',
        cpu,
        seq,
        ns,
        pid: i32(0),
        tgid: i32(4),
        status: u32(8),
        exitSignal: u32(12),
        parentPid: parent ? i32(16) : 0,
        parentTgid: parent ? i32(20) : 0,
      });
    }
    default:
      return ok({ kind: 'unknown', what, cpu, seq });
  }
}

function align(size: number): number {
  return (size + Layout.NLMSG_ALIGNTO - 1) & ~(Layout.NLMSG_ALIGNTO - 1);
}

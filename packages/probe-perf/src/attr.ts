/**
 * Encoding of struct perf_event_attr into the bytes perf_event_open reads: a zeroed buffer of
 * PERF_ATTR_SIZE_VER5 with type, size, config, read_format and the flag bits this probe uses
 * (counting only, never sampling). Little-endian, like every architecture the probe runs on.
 * Pure; the offsets live in constants.ts.
 */
import { AttrFlagBit, AttrOffset, PERF_ATTR_SIZE, READ_FORMAT } from './constants.js';

/** What varies between the counters this probe opens. */
export interface AttrSpec {
  /** perf_event_attr.type. */
  readonly type: number;
  /** perf_event_attr.config. */
  readonly config: number;
  /** Start disabled (a group leader, enabled once its members are attached). */
  readonly disabled: boolean;
  /** Count threads (and, without inheritThread, child processes) the target creates after the counter opened. */
  readonly inherit: boolean;
  /** With inherit: only new threads inherit, not child processes (Linux 5.13+; older kernels answer EINVAL). */
  readonly inheritThread: boolean;
  /** Count user space only (what an unprivileged process may count at perf_event_paranoid 2). */
  readonly excludeKernel: boolean;
}

/** Writes `spec` as a perf_event_attr into `into` (zeroing it first) and returns it. */
export function encodeAttr(spec: AttrSpec, into: Buffer = Buffer.alloc(PERF_ATTR_SIZE)): Buffer {
  into.fill(0, 0, PERF_ATTR_SIZE);
  into.writeUInt32LE(spec.type, AttrOffset.TYPE);
  into.writeUInt32LE(PERF_ATTR_SIZE, AttrOffset.SIZE);
  into.writeBigUInt64LE(BigInt(spec.config), AttrOffset.CONFIG);
  into.writeBigUInt64LE(BigInt(READ_FORMAT), AttrOffset.READ_FORMAT);
  let flags = 0n;
  if (spec.disabled) flags |= 1n << BigInt(AttrFlagBit.DISABLED);
  if (spec.inherit) flags |= 1n << BigInt(AttrFlagBit.INHERIT);
  if (spec.inherit && spec.inheritThread) flags |= 1n << BigInt(AttrFlagBit.INHERIT_THREAD);
  if (spec.excludeKernel) flags |= 1n << BigInt(AttrFlagBit.EXCLUDE_KERNEL);
  into.writeBigUInt64LE(flags, AttrOffset.FLAGS);
  return into;
}

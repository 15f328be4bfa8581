/**
 * The kernel's perf ABI as this package uses it: perf_event_attr field offsets and flag bits,
 * event types and configs, read formats, ioctl requests and syscall numbers, all from
 * <linux/perf_event.h> and checked against that header by a test that compiles it with gcc.
 */

/** Bytes of the perf_event_attr this package passes (PERF_ATTR_SIZE_VER5, Linux 4.1+). */
export const PERF_ATTR_SIZE = 112;

/** Byte offsets of the perf_event_attr fields this package writes. */
export const AttrOffset = {
  TYPE: 0,
  SIZE: 4,
  CONFIG: 8,
  SAMPLE_PERIOD: 16,
  SAMPLE_TYPE: 24,
  READ_FORMAT: 32,
  FLAGS: 40,
  WAKEUP_EVENTS: 48,
  BP_TYPE: 52,
  CONFIG1: 56,
  CONFIG2: 64,
} as const;

/** Bit numbers within the u64 of flag bitfields at {@link AttrOffset.FLAGS}. */
export const AttrFlagBit = {
  DISABLED: 0,
  INHERIT: 1,
  EXCLUDE_USER: 4,
  EXCLUDE_KERNEL: 5,
  EXCLUDE_HV: 6,
  ENABLE_ON_EXEC: 12,
  /** Linux 5.13+: with inherit, only threads inherit the counter, not child processes. */
  INHERIT_THREAD: 35,
} as const;

/** perf_type_id: which PMU family an event belongs to. */
export const PerfType = {
  HARDWARE: 0,
  SOFTWARE: 1,
  TRACEPOINT: 2,
  HW_CACHE: 3,
  RAW: 4,
} as const;

/** One of the {@link PerfType} numbers. */
export type PerfType = (typeof PerfType)[keyof typeof PerfType];

/** perf_sw_ids: configs of PERF_TYPE_SOFTWARE. */
export const SwConfig = {
  CPU_CLOCK: 0,
  TASK_CLOCK: 1,
  PAGE_FAULTS: 2,
  CONTEXT_SWITCHES: 3,
  CPU_MIGRATIONS: 4,
  PAGE_FAULTS_MIN: 5,
  PAGE_FAULTS_MAJ: 6,
} as const;

/** perf_hw_id: configs of PERF_TYPE_HARDWARE. */
export const HwConfig = {
  CPU_CYCLES: 0,
  INSTRUCTIONS: 1,
  CACHE_REFERENCES: 2,
  CACHE_MISSES: 3,
  BRANCH_INSTRUCTIONS: 4,
  BRANCH_MISSES: 5,
  BUS_CYCLES: 6,
  REF_CPU_CYCLES: 9,
} as const;

/** perf_hw_cache_id: the cache of a PERF_TYPE_HW_CACHE config (bits 0-7). */
export const HwCache = {
  L1D: 0,
  L1I: 1,
  LL: 2,
  DTLB: 3,
  ITLB: 4,
  BPU: 5,
  NODE: 6,
} as const;

/** perf_hw_cache_op_id: the operation (bits 8-15). */
export const HwCacheOp = {
  READ: 0,
  WRITE: 1,
  PREFETCH: 2,
} as const;

/** perf_hw_cache_op_result_id: the result (bits 16-23). */
export const HwCacheResult = {
  ACCESS: 0,
  MISS: 1,
} as const;

/** perf_event_read_format bits. */
export const ReadFormat = {
  TOTAL_TIME_ENABLED: 1,
  TOTAL_TIME_RUNNING: 2,
  ID: 4,
  GROUP: 8,
} as const;

/** The read format of every counter this package opens: one read() returns the whole group with times and ids. */
export const READ_FORMAT = ReadFormat.TOTAL_TIME_ENABLED | ReadFormat.TOTAL_TIME_RUNNING | ReadFormat.ID | ReadFormat.GROUP;

/** perf_event_open flags: the fd is closed on exec, so spawned children never inherit counters. */
export const PERF_FLAG_FD_CLOEXEC = 8;

/** ioctl requests on a perf fd, as encoded on the 64-bit architectures of {@link PERF_EVENT_OPEN_SYSCALL}. */
export const PerfIoctl = {
  ENABLE: 0x2400,
  DISABLE: 0x2401,
  RESET: 0x2403,
  /** _IOR('$', 7, __u64 *): the event's id as PERF_FORMAT_ID reports it. */
  ID: 0x80082407,
} as const;

/**
 * The perf_event_open syscall number per `process.arch`, for the 64-bit architectures whose
 * ioctl encoding is asm-generic (so {@link PerfIoctl} holds). A wrong number would call some
 * other syscall, so an architecture is listed only when its number is certain.
 */
export const PERF_EVENT_OPEN_SYSCALL: Readonly<Partial<Record<string, number>>> = {
  x64: 298,
  arm64: 241,
  riscv64: 241,
  loong64: 241,
};

/** A PERF_TYPE_HW_CACHE config from its cache, operation and result. */
export function hwCacheConfig(cache: number, op: number, result: number): number {
  return cache | (op << 8) | (result << 16);
}

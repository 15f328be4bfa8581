/**
 * perf_event_attr and the perf constants: the encoding is checked byte by byte without a
 * kernel, and every offset, flag bit and constant this package uses is compared with what gcc
 * computes from <linux/perf_event.h> (skipped locally without gcc or the header; CI installs
 * them and fails when they are missing).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { encodeAttr } from '../src/attr.js';
import {
  AttrFlagBit,
  AttrOffset,
  HwCache,
  HwCacheOp,
  HwCacheResult,
  HwConfig,
  PERF_ATTR_SIZE,
  PERF_EVENT_OPEN_SYSCALL,
  PERF_FLAG_FD_CLOEXEC,
  PerfIoctl,
  PerfType,
  ReadFormat,
  READ_FORMAT,
  SwConfig,
} from '../src/constants.js';
import { onPath, requires } from './helpers.js';

describe('encodeAttr', () => {
  it('writes type, size, config, read format and only the requested flag bits', () => {
    const attr = encodeAttr({ type: PerfType.HW_CACHE, config: 0x10002, disabled: true, inherit: true, inheritThread: true, excludeKernel: true });
    expect(attr.length).toBe(PERF_ATTR_SIZE);
    expect(attr.readUInt32LE(0)).toBe(3);
    expect(attr.readUInt32LE(4)).toBe(112);
    expect(attr.readBigUInt64LE(8)).toBe(0x10002n);
    expect(attr.readBigUInt64LE(32)).toBe(15n);
    expect(attr.readBigUInt64LE(40)).toBe((1n << 35n) | 0b100011n);
    const rest = Buffer.concat([attr.subarray(16, 32), attr.subarray(48)]);
    expect(rest.every((byte) => byte === 0)).toBe(true);
  });

  it('sets inherit_thread only together with inherit', () => {
    const attr = encodeAttr({ type: PerfType.SOFTWARE, config: 0, disabled: false, inherit: false, inheritThread: true, excludeKernel: false });
    expect(attr.readBigUInt64LE(40)).toBe(0n);
  });

  it('clears a reused buffer', () => {
    const buffer = Buffer.alloc(PERF_ATTR_SIZE, 0xff);
    encodeAttr({ type: PerfType.SOFTWARE, config: SwConfig.CONTEXT_SWITCHES, disabled: false, inherit: false, inheritThread: false, excludeKernel: false }, buffer);
    expect(buffer.readBigUInt64LE(40)).toBe(0n);
    expect(buffer.subarray(48).every((byte) => byte === 0)).toBe(true);
  });
});

const HEADER = '/usr/include/linux/perf_event.h';
const available = requires('gcc and <linux/perf_event.h> (linux-libc-dev)', process.platform === 'linux' && onPath('gcc') && existsSync(HEADER));

/** Every value the package takes from the header, under the name the C program prints. */
const EXPECTED: Readonly<Record<string, number>> = {
  PERF_ATTR_SIZE_VER5: PERF_ATTR_SIZE,
  OFF_type: AttrOffset.TYPE,
  OFF_size: AttrOffset.SIZE,
  OFF_config: AttrOffset.CONFIG,
  OFF_sample_period: AttrOffset.SAMPLE_PERIOD,
  OFF_sample_type: AttrOffset.SAMPLE_TYPE,
  OFF_read_format: AttrOffset.READ_FORMAT,
  OFF_wakeup_events: AttrOffset.WAKEUP_EVENTS,
  OFF_bp_type: AttrOffset.BP_TYPE,
  OFF_config1: AttrOffset.CONFIG1,
  OFF_config2: AttrOffset.CONFIG2,
  FLAGS_OFF_disabled: AttrOffset.FLAGS,
  FLAGS_OFF_inherit: AttrOffset.FLAGS,
  FLAGS_OFF_exclude_user: AttrOffset.FLAGS,
  FLAGS_OFF_exclude_kernel: AttrOffset.FLAGS,
  FLAGS_OFF_exclude_hv: AttrOffset.FLAGS,
  FLAGS_OFF_enable_on_exec: AttrOffset.FLAGS,
  FLAGS_OFF_inherit_thread: AttrOffset.FLAGS,
  BIT_disabled: AttrFlagBit.DISABLED,
  BIT_inherit: AttrFlagBit.INHERIT,
  BIT_exclude_user: AttrFlagBit.EXCLUDE_USER,
  BIT_exclude_kernel: AttrFlagBit.EXCLUDE_KERNEL,
  BIT_exclude_hv: AttrFlagBit.EXCLUDE_HV,
  BIT_enable_on_exec: AttrFlagBit.ENABLE_ON_EXEC,
  BIT_inherit_thread: AttrFlagBit.INHERIT_THREAD,
  PERF_TYPE_HARDWARE: PerfType.HARDWARE,
  PERF_TYPE_SOFTWARE: PerfType.SOFTWARE,
  PERF_TYPE_TRACEPOINT: PerfType.TRACEPOINT,
  PERF_TYPE_HW_CACHE: PerfType.HW_CACHE,
  PERF_TYPE_RAW: PerfType.RAW,
  PERF_COUNT_SW_CPU_CLOCK: SwConfig.CPU_CLOCK,
  PERF_COUNT_SW_TASK_CLOCK: SwConfig.TASK_CLOCK,
  PERF_COUNT_SW_PAGE_FAULTS: SwConfig.PAGE_FAULTS,
  PERF_COUNT_SW_CONTEXT_SWITCHES: SwConfig.CONTEXT_SWITCHES,
  PERF_COUNT_SW_CPU_MIGRATIONS: SwConfig.CPU_MIGRATIONS,
  PERF_COUNT_SW_PAGE_FAULTS_MIN: SwConfig.PAGE_FAULTS_MIN,
  PERF_COUNT_SW_PAGE_FAULTS_MAJ: SwConfig.PAGE_FAULTS_MAJ,
  PERF_COUNT_HW_CPU_CYCLES: HwConfig.CPU_CYCLES,
  PERF_COUNT_HW_INSTRUCTIONS: HwConfig.INSTRUCTIONS,
  PERF_COUNT_HW_CACHE_REFERENCES: HwConfig.CACHE_REFERENCES,
  PERF_COUNT_HW_CACHE_MISSES: HwConfig.CACHE_MISSES,
  PERF_COUNT_HW_BRANCH_INSTRUCTIONS: HwConfig.BRANCH_INSTRUCTIONS,
  PERF_COUNT_HW_BRANCH_MISSES: HwConfig.BRANCH_MISSES,
  PERF_COUNT_HW_BUS_CYCLES: HwConfig.BUS_CYCLES,
  PERF_COUNT_HW_REF_CPU_CYCLES: HwConfig.REF_CPU_CYCLES,
  PERF_COUNT_HW_CACHE_L1D: HwCache.L1D,
  PERF_COUNT_HW_CACHE_L1I: HwCache.L1I,
  PERF_COUNT_HW_CACHE_LL: HwCache.LL,
  PERF_COUNT_HW_CACHE_DTLB: HwCache.DTLB,
  PERF_COUNT_HW_CACHE_ITLB: HwCache.ITLB,
  PERF_COUNT_HW_CACHE_BPU: HwCache.BPU,
  PERF_COUNT_HW_CACHE_NODE: HwCache.NODE,
  PERF_COUNT_HW_CACHE_OP_READ: HwCacheOp.READ,
  PERF_COUNT_HW_CACHE_OP_WRITE: HwCacheOp.WRITE,
  PERF_COUNT_HW_CACHE_OP_PREFETCH: HwCacheOp.PREFETCH,
  PERF_COUNT_HW_CACHE_RESULT_ACCESS: HwCacheResult.ACCESS,
  PERF_COUNT_HW_CACHE_RESULT_MISS: HwCacheResult.MISS,
  PERF_FORMAT_TOTAL_TIME_ENABLED: ReadFormat.TOTAL_TIME_ENABLED,
  PERF_FORMAT_TOTAL_TIME_RUNNING: ReadFormat.TOTAL_TIME_RUNNING,
  PERF_FORMAT_ID: ReadFormat.ID,
  PERF_FORMAT_GROUP: ReadFormat.GROUP,
  READ_FORMAT_USED: READ_FORMAT,
  PERF_FLAG_FD_CLOEXEC: PERF_FLAG_FD_CLOEXEC,
  PERF_EVENT_IOC_ENABLE: PerfIoctl.ENABLE,
  PERF_EVENT_IOC_DISABLE: PerfIoctl.DISABLE,
  PERF_EVENT_IOC_RESET: PerfIoctl.RESET,
  PERF_EVENT_IOC_ID: PerfIoctl.ID,
};

/** Prints `NAME value` for every entry of EXPECTED (and the syscall number), computed by the compiler. */
const PROGRAM = String.raw`
#include <linux/perf_event.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>

#define OFF(f) printf("OFF_%s %zu\n", #f, offsetof(struct perf_event_attr, f))
#define VAL(c) printf("%s %llu\n", #c, (unsigned long long)(c))
/* Sets one bitfield in a zeroed attr and reports which 8-byte word and which bit changed. */
#define FLAG(f) do { \
  struct perf_event_attr a; unsigned long long w[sizeof a / 8]; \
  memset(&a, 0, sizeof a); a.f = 1; memcpy(w, &a, sizeof w); \
  for (size_t i = 0; i < sizeof w / 8; i++) if (w[i]) { \
    printf("FLAGS_OFF_%s %zu\nBIT_%s %d\n", #f, i * 8, #f, __builtin_ctzll(w[i])); break; } \
} while (0)

int main(void) {
  VAL(PERF_ATTR_SIZE_VER5);
  OFF(type); OFF(size); OFF(config); OFF(sample_period); OFF(sample_type); OFF(read_format);
  OFF(wakeup_events); OFF(bp_type); OFF(config1); OFF(config2);
  FLAG(disabled); FLAG(inherit); FLAG(exclude_user); FLAG(exclude_kernel); FLAG(exclude_hv); FLAG(enable_on_exec); FLAG(inherit_thread);
  VAL(PERF_TYPE_HARDWARE); VAL(PERF_TYPE_SOFTWARE); VAL(PERF_TYPE_TRACEPOINT); VAL(PERF_TYPE_HW_CACHE); VAL(PERF_TYPE_RAW);
  VAL(PERF_COUNT_SW_CPU_CLOCK); VAL(PERF_COUNT_SW_TASK_CLOCK); VAL(PERF_COUNT_SW_PAGE_FAULTS);
  VAL(PERF_COUNT_SW_CONTEXT_SWITCHES); VAL(PERF_COUNT_SW_CPU_MIGRATIONS);
  VAL(PERF_COUNT_SW_PAGE_FAULTS_MIN); VAL(PERF_COUNT_SW_PAGE_FAULTS_MAJ);
  VAL(PERF_COUNT_HW_CPU_CYCLES); VAL(PERF_COUNT_HW_INSTRUCTIONS); VAL(PERF_COUNT_HW_CACHE_REFERENCES);
  VAL(PERF_COUNT_HW_CACHE_MISSES); VAL(PERF_COUNT_HW_BRANCH_INSTRUCTIONS); VAL(PERF_COUNT_HW_BRANCH_MISSES);
  VAL(PERF_COUNT_HW_BUS_CYCLES); VAL(PERF_COUNT_HW_REF_CPU_CYCLES);
  VAL(PERF_COUNT_HW_CACHE_L1D); VAL(PERF_COUNT_HW_CACHE_L1I); VAL(PERF_COUNT_HW_CACHE_LL);
  VAL(PERF_COUNT_HW_CACHE_DTLB); VAL(PERF_COUNT_HW_CACHE_ITLB); VAL(PERF_COUNT_HW_CACHE_BPU); VAL(PERF_COUNT_HW_CACHE_NODE);
  VAL(PERF_COUNT_HW_CACHE_OP_READ); VAL(PERF_COUNT_HW_CACHE_OP_WRITE); VAL(PERF_COUNT_HW_CACHE_OP_PREFETCH);
  VAL(PERF_COUNT_HW_CACHE_RESULT_ACCESS); VAL(PERF_COUNT_HW_CACHE_RESULT_MISS);
  VAL(PERF_FORMAT_TOTAL_TIME_ENABLED); VAL(PERF_FORMAT_TOTAL_TIME_RUNNING); VAL(PERF_FORMAT_ID); VAL(PERF_FORMAT_GROUP);
  printf("READ_FORMAT_USED %d\n", PERF_FORMAT_TOTAL_TIME_ENABLED | PERF_FORMAT_TOTAL_TIME_RUNNING | PERF_FORMAT_ID | PERF_FORMAT_GROUP);
  VAL(PERF_FLAG_FD_CLOEXEC);
  VAL(PERF_EVENT_IOC_ENABLE); VAL(PERF_EVENT_IOC_DISABLE); VAL(PERF_EVENT_IOC_RESET); VAL(PERF_EVENT_IOC_ID);
  VAL(__NR_perf_event_open);
  return 0;
}
`;

describe.skipIf(!available)('constants against <linux/perf_event.h> (skipped without gcc and linux-libc-dev)', () => {
  it('matches every offset, flag bit and constant gcc computes, and the syscall number of this architecture', () => {
    const dir = mkdtempSync(join(tmpdir(), 've-perf-header-'));
    try {
      writeFileSync(join(dir, 'layout.c'), PROGRAM);
      execFileSync('gcc', ['-Wall', '-Werror', '-o', join(dir, 'layout'), join(dir, 'layout.c')]);
      const output = execFileSync(join(dir, 'layout'), { encoding: 'utf8' });
      const actual = Object.fromEntries(output.trim().split('\n').map((line) => line.split(' ')).map(([name, value]) => [name!, Number(value)]));
      const { __NR_perf_event_open: syscall, ...constants } = actual;
      expect(constants).toEqual(EXPECTED);
      expect(PERF_EVENT_OPEN_SYSCALL[process.arch]).toBe(syscall);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

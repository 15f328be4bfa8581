/**
 * Parser of /proc/stat: CPU times per logical CPU and in total (in clock ticks), boot time,
 * and the system-wide counters (context switches, forks, interrupts, runnable and blocked
 * tasks). See proc_stat(5).
 */
import { ok, type Result } from '@virtualeyes/core';
import { clip, fieldEnd, MAX_BTIME, MAX_TICKS, parseError, readCount, readUint, skipBlanks, type Count } from '@virtualeyes/linux';

/** CPU times of one `cpu` line, in clock ticks (USER_HZ). */
export interface CpuTicks {
  /** 'all' for the summary line, else the CPU number ('0', '1'…). */
  readonly cpu: string;
  readonly user: number;
  readonly nice: number;
  readonly system: number;
  readonly idle: number;
  readonly iowait: number;
  readonly irq: number;
  readonly softirq: number;
  /** Null on kernels before 2.6.11. */
  readonly steal: number | null;
  /** Null on kernels before 2.6.24. */
  readonly guest: number | null;
  /** Null on kernels before 2.6.33. */
  readonly guestNice: number | null;
}

/** What /proc/stat says. */
export interface ProcStat {
  /** The summary line first, then one entry per online CPU in file order. */
  readonly cpus: readonly CpuTicks[];
  /** Boot time, seconds since the epoch. */
  readonly btime: number;
  /** Context switches since boot. */
  readonly ctxt: Count;
  /** Tasks created since boot. */
  readonly processes: Count;
  /** Runnable tasks now. */
  readonly procsRunning: number;
  /** Tasks blocked on I/O now. */
  readonly procsBlocked: number;
  /** Interrupts serviced since boot. */
  readonly intr: Count;
  /** Soft interrupts serviced since boot; null on kernels before 2.6.31. */
  readonly softirq: Count | null;
}

const SOURCE = '/proc/stat';
const REQUIRED_CPU_FIELDS = 7;
const INT32_MAX = 2147483647;

/** Parses /proc/stat; PARSE_ERROR when a needed line is missing or malformed. */
export function parseProcStat(text: string): Result<ProcStat> {
  const cpus: CpuTicks[] = [];
  const seen = new Set<string>();
  let btime = -1;
  let ctxt: Count | undefined;
  let processes: Count | undefined;
  let procsRunning = -1;
  let procsBlocked = -1;
  let intr: Count | undefined;
  let softirq: Count | null = null;

  // Lines are found with indexOf rather than split: the intr line alone holds hundreds of
  // numbers, of which only the first (the total) is stored.
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    const lineStart = start;
    start = end + 1;
    if (end === lineStart) continue;
    const nameEnd = Math.min(fieldEnd(text, lineStart), end);
    const name = text.slice(lineStart, nameEnd);
    if (name.startsWith('cpu')) {
      const line = text.slice(lineStart, end);
      const cpu = cpuTicks(name, line.split(' ').filter((field) => field !== ''));
      if (cpu === undefined) return parseError(SOURCE, `malformed line '${clip(line)}'`);
      if (cpu.cpu === 'all' ? cpus.length > 0 : cpus.length === 0) return parseError(SOURCE, 'the cpu summary line is not first');
      if (seen.has(cpu.cpu)) return parseError(SOURCE, `${name} appears twice`);
      seen.add(cpu.cpu);
      cpus.push(cpu);
      continue;
    }
    const firstStart = skipBlanks(text, nameEnd);
    const firstEnd = Math.min(fieldEnd(text, firstStart), end);
    const malformed = (): Result<ProcStat> => parseError(SOURCE, `malformed ${name} '${clip(text.slice(lineStart, end))}'`);
    switch (name) {
      case 'btime':
        btime = readUint(text, firstStart, firstEnd);
        if (btime < 0 || btime > MAX_BTIME) return malformed();
        break;
      case 'ctxt':
        ctxt = readCount(text, firstStart, firstEnd);
        if (ctxt === undefined) return malformed();
        break;
      case 'processes':
        processes = readCount(text, firstStart, firstEnd);
        if (processes === undefined) return malformed();
        break;
      case 'procs_running':
        procsRunning = readUint(text, firstStart, firstEnd);
        if (procsRunning < 0 || procsRunning > INT32_MAX) return malformed();
        break;
      case 'procs_blocked':
        procsBlocked = readUint(text, firstStart, firstEnd);
        if (procsBlocked < 0 || procsBlocked > INT32_MAX) return malformed();
        break;
      case 'intr':
        intr = readCount(text, firstStart, firstEnd);
        if (intr === undefined) return malformed();
        break;
      case 'softirq': {
        const value = readCount(text, firstStart, firstEnd);
        if (value === undefined) return malformed();
        softirq = value;
        break;
      }
      default:
        // page, swap, disk_io and other lines of old kernels carry nothing we store.
        break;
    }
  }
  if (cpus.length === 0) return parseError(SOURCE, 'no cpu line');
  if (btime < 0) return parseError(SOURCE, 'no btime line');
  if (ctxt === undefined) return parseError(SOURCE, 'no ctxt line');
  if (processes === undefined) return parseError(SOURCE, 'no processes line');
  if (intr === undefined) return parseError(SOURCE, 'no intr line');
  if (procsRunning < 0 || procsBlocked < 0) return parseError(SOURCE, 'no procs_running or procs_blocked line');
  return ok({ cpus, btime, ctxt, processes, procsRunning, procsBlocked, intr, softirq });
}

function cpuTicks(name: string, fields: readonly string[]): CpuTicks | undefined {
  let cpu: string;
  if (name === 'cpu') {
    cpu = 'all';
  } else {
    cpu = name.slice(3);
    if (readUint(cpu, 0, cpu.length) < 0 || (cpu.length > 1 && cpu.startsWith('0'))) return undefined;
  }
  if (fields.length < 1 + REQUIRED_CPU_FIELDS || fields.length > 11) return undefined;
  const values: number[] = [];
  for (let i = 1; i < fields.length; i += 1) {
    const field = fields[i]!;
    const value = readUint(field, 0, field.length);
    if (value < 0 || value > MAX_TICKS) return undefined;
    values.push(value);
  }
  const optional = (index: number): number | null => values[index] ?? null;
  return {
    cpu,
    user: values[0]!,
    nice: values[1]!,
    system: values[2]!,
    idle: values[3]!,
    iowait: values[4]!,
    irq: values[5]!,
    softirq: values[6]!,
    steal: optional(7),
    guest: optional(8),
    guestNice: optional(9),
  };
}

/**
 * Parsers for cpu_info and numa_nodes: the per-processor blocks of /proc/cpuinfo (model, vendor,
 * microcode, flags, topology ids), sysfs CPU lists (`0-3,8`) and cache sizes (`32K`).
 */
import { ok, type Result } from '@virtualeyes/core';
import { clip, parseError } from '@virtualeyes/linux';

/** What /proc/cpuinfo says about one logical CPU. */
export interface CpuEntry {
  readonly cpu: number;
  readonly model: string | null;
  readonly vendor: string | null;
  readonly microcode: string | null;
  /** The flags (x86 `flags`, arm64 `Features`) in file order; null when the architecture lists none. */
  readonly flags: readonly string[] | null;
  /** `physical id`, where the architecture reports it. */
  readonly physicalId: number | null;
  /** `core id`, where the architecture reports it. */
  readonly coreId: number | null;
}

const SOURCE = '/proc/cpuinfo';
/** Keys naming the CPU model, best first: x86 and arm32, MIPS, POWER. */
const MODEL_KEYS: readonly string[] = ['model name', 'cpu model', 'cpu'];
const VENDOR_KEYS: readonly string[] = ['vendor_id', 'vendor', 'CPU implementer'];
const FLAG_KEYS: readonly string[] = ['flags', 'Features'];

/** Parses /proc/cpuinfo into one entry per `processor` block; PARSE_ERROR on a line without a colon or no processor. */
export function parseCpuEntries(text: string): Result<CpuEntry[]> {
  const entries: CpuEntry[] = [];
  let current: { cpu: number; model: string | null; rank: number; vendor: string | null; microcode: string | null; flags: string[] | null; physicalId: number | null; coreId: number | null } | undefined;
  const end = (): void => {
    if (current === undefined) return;
    const { rank: _rank, ...entry } = current;
    entries.push(entry);
  };
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const colon = line.indexOf(':');
    if (colon < 0) return parseError(SOURCE, `line without a colon: '${clip(line)}'`);
    const key = line.slice(0, colon).trim();
    const value = line.slice(colon + 1).trim();
    if (key === 'processor') {
      const cpu = /^\d+$/.test(value) ? Number(value) : Number.NaN;
      if (!Number.isSafeInteger(cpu)) return parseError(SOURCE, `malformed processor line '${clip(line)}'`);
      if (cpu === current?.cpu || entries.some((entry) => entry.cpu === cpu)) return parseError(SOURCE, `processor ${cpu} appears twice`);
      end();
      current = { cpu, model: null, rank: MODEL_KEYS.length, vendor: null, microcode: null, flags: null, physicalId: null, coreId: null };
      continue;
    }
    // Lines before the first processor (s390's header, arm32's trailing Hardware lines) describe no CPU.
    if (current === undefined || value === '') continue;
    const rank = MODEL_KEYS.indexOf(key);
    if (rank >= 0 && rank < current.rank) {
      current.model = value;
      current.rank = rank;
    } else if (VENDOR_KEYS.includes(key)) current.vendor ??= value;
    else if (key === 'microcode') current.microcode = value;
    else if (FLAG_KEYS.includes(key)) current.flags = value.split(/\s+/);
    else if (key === 'physical id') current.physicalId = smallInt(value);
    else if (key === 'core id') current.coreId = smallInt(value);
  }
  end();
  if (entries.length === 0) return parseError(SOURCE, 'no processor entry');
  return ok(entries);
}

function smallInt(text: string): number | null {
  return /^\d{1,9}$/.test(text) ? Number(text) : null;
}

/** More CPUs than any kernel supports (NR_CPUS tops out at 8192): a list naming more is garbage. */
const MAX_CPUS = 65536;

/** Parses a sysfs CPU list (`0-3,8,10-11`) into CPU numbers; PARSE_ERROR naming `source` when malformed. Empty is an empty list. */
export function parseCpuList(text: string, source: string): Result<number[]> {
  const trimmed = text.trim();
  const cpus: number[] = [];
  if (trimmed === '') return ok(cpus);
  for (const part of trimmed.split(',')) {
    const match = /^(\d{1,6})(?:-(\d{1,6}))?$/.exec(part);
    const first = match === null ? Number.NaN : Number(match[1]);
    const last = match?.[2] === undefined ? first : Number(match[2]);
    if (Number.isNaN(first) || last < first) return parseError(source, `malformed CPU list '${clip(trimmed)}'`);
    if (cpus.length + last - first >= MAX_CPUS) return parseError(source, `more than ${MAX_CPUS} CPUs in '${clip(trimmed)}'`);
    for (let cpu = first; cpu <= last; cpu += 1) cpus.push(cpu);
  }
  return ok(cpus);
}

const SIZE_UNITS: Readonly<Record<string, number>> = { '': 1, K: 1024, M: 1024 * 1024, G: 1024 * 1024 * 1024 };

/** Parses a cache size as sysfs writes it (`32K`, `1024K`, `32M`) into bytes; PARSE_ERROR naming `source`. */
export function parseCacheSize(text: string, source: string): Result<number> {
  const match = /^(\d{1,9})([KMG]?)$/.exec(text.trim());
  if (match === null) return parseError(source, `malformed size '${clip(text.trim())}'`);
  return ok(Number(match[1]) * SIZE_UNITS[match[2]!]!);
}

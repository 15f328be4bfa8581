/**
 * Parser of /proc/cpuinfo: `key<tab>: value` lines in one block per logical CPU. Keeps the
 * model and vendor names and counts logical CPUs, physical cores and sockets where the
 * architecture reports them (x86 does; arm64 has no model name or topology lines).
 */
import { ok, type Result } from '@virtualeyes/core';
import { parseError } from '@virtualeyes/linux';

/** What /proc/cpuinfo says about the CPUs. */
export interface CpuInfo {
  /** Logical CPUs listed. */
  readonly processors: number;
  /** Model name of the first CPU that has one. */
  readonly model: string | null;
  /** Vendor id of the first CPU that has one. */
  readonly vendor: string | null;
  /** Distinct (physical id, core id) pairs, or null when the file has no topology. */
  readonly cores: number | null;
  /** Distinct physical ids, or null when the file has no topology. */
  readonly sockets: number | null;
}

const SOURCE = '/proc/cpuinfo';
/** Keys naming the CPU model, by architecture: x86 and arm32, MIPS, POWER. */
const MODEL_KEYS: readonly string[] = ['model name', 'cpu model', 'cpu'];
/** Keys naming the vendor: x86, s390. */
const VENDOR_KEYS: readonly string[] = ['vendor_id', 'vendor'];

/** Parses /proc/cpuinfo; PARSE_ERROR on a non-empty line without a colon or no processor entry. */
export function parseCpuinfo(text: string): Result<CpuInfo> {
  let processors = 0;
  let model: string | null = null;
  let modelRank = MODEL_KEYS.length;
  let vendor: string | null = null;
  const sockets = new Set<string>();
  const cores = new Set<string>();
  let topology = true;
  let socket: string | undefined;
  let core: string | undefined;

  const endBlock = (): void => {
    if (socket === undefined || core === undefined) topology = false;
    else {
      sockets.add(socket);
      cores.add(`${socket}/${core}`);
    }
    socket = undefined;
    core = undefined;
  };

  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const colon = line.indexOf(':');
    if (colon < 0) return parseError(SOURCE, `line without a colon: '${line.length > 60 ? `${line.slice(0, 60)}…` : line}'`);
    const key = line.slice(0, colon).trim();
    const value = line.slice(colon + 1).trim();
    if (key === 'processor' || /^processor \d+$/.test(key)) {
      if (processors > 0) endBlock();
      processors += 1;
      continue;
    }
    const rank = MODEL_KEYS.indexOf(key);
    if (rank >= 0 && rank < modelRank && value !== '') {
      model = value;
      modelRank = rank;
    } else if (vendor === null && VENDOR_KEYS.includes(key) && value !== '') {
      vendor = value;
    } else if (key === 'physical id') {
      socket = value;
    } else if (key === 'core id') {
      core = value;
    }
  }
  if (processors === 0) return parseError(SOURCE, 'no processor entry');
  endBlock();
  return ok({
    processors,
    model,
    vendor,
    cores: topology ? cores.size : null,
    sockets: topology ? sockets.size : null,
  });
}

/**
 * Parser of the kernel's CPU list format (`0-3,8,10-11`), as in
 * /sys/devices/system/cpu/online and /sys/devices/system/node/nodeN/cpulist. An empty list
 * (a memory-only NUMA node) is valid.
 */
import { ok, type Result } from '@virtualeyes/core';
import { clip, parseError, readUint } from '@virtualeyes/linux';

const SOURCE = 'cpu list';
/** More CPUs than Linux supports (CONFIG_NR_CPUS tops out at 8192). */
const MAX_CPU = 65535;

/** CPU numbers in ascending order without duplicates; PARSE_ERROR when the text is not a CPU list. */
export function parseCpuList(text: string): Result<number[]> {
  const body = text.endsWith('\n') ? text.slice(0, -1) : text;
  if (body === '') return ok([]);
  const cpus = new Set<number>();
  for (const part of body.split(',')) {
    const dash = part.indexOf('-');
    const first = readUint(part, 0, dash < 0 ? part.length : dash);
    const last = dash < 0 ? first : readUint(part, dash + 1, part.length);
    if (first < 0 || last < 0 || last < first || last > MAX_CPU) return parseError(SOURCE, `malformed range '${clip(part)}'`);
    for (let cpu = first; cpu <= last; cpu += 1) cpus.add(cpu);
  }
  return ok([...cpus].sort((a, b) => a - b));
}

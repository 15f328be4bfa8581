/**
 * perf_numa: per NUMA node, the kernel's page-allocation counters from numastat, which every
 * NUMA-capable kernel has, beside perf's node-loads and node-load-misses summed over the
 * node's CPUs where the PMU has those events (most VMs do not: the columns are null there).
 */
import { fail, StatusCode, type FileReader, type Row, type Status } from '@virtualeyes/core';
import { findEvent, type EventDef } from '../events.js';
import { parseCpuList } from '../parse/cpulist.js';
import { readUint, type Count } from '@virtualeyes/linux';
import { parseNumastat } from '../parse/numastat.js';
import { scaleCount } from '../scale.js';
import type { CpuReading } from './cpus.js';

const SYS = '/sys';
/** Read through the FileReader, which maps /sys to the host's sysfs. */
const NODES = '/sys/devices/system/node';
const NODE_LOADS = findEvent('node-loads');
const NODE_LOAD_MISSES = findEvent('node-load-misses');

/** Reads the rows of perf_numa; `readings` are this collection's per-CPU counter readings. */
export function numaRows(
  files: FileReader,
  readings: readonly CpuReading[],
  errors: Status[],
  once: (key: string, status: Status) => void,
): Row[] {
  const listed = files.readDir(NODES);
  if (!listed.ok) {
    once(
      'numa:nodes',
      listed.status.code === StatusCode.NOT_FOUND
        ? fail(StatusCode.UNSUPPORTED, `no ${files.resolve(NODES)}: this kernel was built without NUMA support (or sysfs is not at ${files.resolve(SYS)}); perf_numa stays empty`, {
            op: `list ${NODES}`,
          })
        : listed.status,
    );
    return [];
  }
  const nodes = listed.value
    .filter((name) => name.startsWith('node'))
    .map((name) => readUint(name, 4, name.length))
    .filter((node) => node >= 0)
    .sort((a, b) => a - b);
  const byCpu = new Map(readings.map((reading) => [reading.cpu, reading]));
  const rows: Row[] = [];
  for (const node of nodes) {
    const dir = `${NODES}/node${node}`;
    const text = files.readText(`${dir}/numastat`);
    const stat = text.ok ? parseNumastat(text.value) : text;
    if (!stat.ok) {
      errors.push(stat.status);
      continue;
    }
    let loads: Count | null = null;
    let misses: Count | null = null;
    if (readings.length > 0) {
      const cpulist = files.readText(`${dir}/cpulist`);
      const cpus = cpulist.ok ? parseCpuList(cpulist.value) : cpulist;
      if (cpus.ok) {
        const readingsOfNode = cpus.value.map((cpu) => byCpu.get(cpu)).filter((reading) => reading !== undefined);
        loads = sumScaled(readingsOfNode, NODE_LOADS);
        misses = sumScaled(readingsOfNode, NODE_LOAD_MISSES);
      } else {
        errors.push(cpus.status);
      }
    }
    const s = stat.value;
    rows.push({
      node,
      numa_hit: s.numaHit,
      numa_miss: s.numaMiss,
      numa_foreign: s.numaForeign,
      interleave_hit: s.interleaveHit,
      local_node: s.localNode,
      other_node: s.otherNode,
      node_loads: loads,
      node_load_misses: misses,
    });
  }
  return rows;
}

/** An event's scaled values summed over CPUs that counted it; null when none did. */
function sumScaled(readings: readonly CpuReading[], event: EventDef | undefined): Count | null {
  if (event === undefined) return null;
  let sum = 0n;
  let counted = false;
  for (const reading of readings) {
    const total = reading.totals.get(event);
    if (total === undefined) continue;
    const { value } = scaleCount(total.raw, total.timeEnabled, total.timeRunning);
    if (value === null) continue;
    sum += BigInt(value);
    counted = true;
  }
  if (!counted) return null;
  return sum <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(sum) : sum;
}

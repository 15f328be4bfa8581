/**
 * vmstat and pressure: the chosen /proc/vmstat counters (see VMSTAT_FIELDS) and PSI from
 * /proc/pressure. A kernel without PSI (CONFIG_PSI off, or psi=0) has no folder, and irq
 * pressure needs CONFIG_IRQ_TIME_ACCOUNTING: each missing file is reported once.
 */
import { type Batch, type Row } from '@virtualeyes/core';
import type { Count } from '@virtualeyes/linux';
import { isMissing, missingSource, type Io } from './io.js';
import { parseKeyed } from './parse/keyed.js';
import { parsePressure } from './parse/pressure.js';
import { SystemTable, VMSTAT_FIELDS } from './tables.js';

const VMSTAT = '/proc/vmstat';
/** PSI resources, in row order. */
export const PRESSURE_RESOURCES: readonly string[] = ['cpu', 'io', 'memory', 'irq'];

/** The vmstat row. */
export function collectVmstat(io: Io): Batch | undefined {
  const ts = io.clock.now();
  const text = io.host(VMSTAT);
  const parsed = text.ok ? parseKeyed(text.value, VMSTAT) : text;
  if (!parsed.ok) {
    io.errors.push(parsed.status);
    return undefined;
  }
  return { table: SystemTable.VMSTAT, ts, rows: [vmstatRow(parsed.value)], snapshot: true };
}

/** The vmstat row from the parsed file: allocstall summed over zones on 4.10+. */
export function vmstatRow(values: ReadonlyMap<string, Count>): Row {
  const row: Record<string, Count | null> = {};
  for (const [name] of VMSTAT_FIELDS) row[name] = values.get(name) ?? null;
  if (row.allocstall === null) {
    let sum: bigint | undefined;
    for (const [name, value] of values) if (name.startsWith('allocstall_')) sum = (sum ?? 0n) + BigInt(value);
    if (sum !== undefined) row.allocstall = sum <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(sum) : sum;
  }
  return row;
}

/** pressure rows: some and full per resource present. */
export function collectPressure(io: Io): Batch | undefined {
  const ts = io.clock.now();
  const rows: Row[] = [];
  let absent = 0;
  for (const resource of PRESSURE_RESOURCES) {
    const path = `/proc/pressure/${resource}`;
    const text = io.files.readText(path);
    const parsed = text.ok ? parsePressure(text.value, path) : text;
    if (!parsed.ok) {
      if (!isMissing(parsed.status)) io.errors.push(parsed.status);
      // Without PSI at all, one status says so; otherwise each missing file gets its own.
      else if (resource === 'cpu' && !io.files.readDir('/proc/pressure').ok) {
        io.once('psi', missingSource(SystemTable.PRESSURE, 'no /proc/pressure (a kernel without CONFIG_PSI, or booted with psi=0)'));
        return undefined;
      } else {
        absent += 1;
        io.once(`psi-${resource}`, missingSource(SystemTable.PRESSURE, `no ${path}${resource === 'irq' ? ' (needs CONFIG_IRQ_TIME_ACCOUNTING, 6.1+)' : ''}; its rows stay out`));
      }
      continue;
    }
    for (const line of parsed.value) rows.push({ resource, kind: line.kind, avg10: line.avg10, avg60: line.avg60, avg300: line.avg300, total: line.total });
  }
  if (absent === PRESSURE_RESOURCES.length) return undefined;
  return { table: SystemTable.PRESSURE, ts, rows, snapshot: true };
}

/**
 * The detail fixtures (test/fixtures/detail; host-b/SOURCE.md says what each is): where they are, and the pids
 * and sockets of the processes captured in host-b.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DetailFilter } from '../../src/detail/options.js';
import type { DetailTable } from '../../src/detail/tables.js';
import type { ProcfsOptions } from '../../src/index.js';
import { FIXTURES } from '../helpers.js';

/** test/fixtures/detail. */
export const DETAIL_FIXTURES = join(FIXTURES, 'detail');

/** A step folder of host-b. */
export const hostB = (step: 'step0' | 'step1'): string => join(DETAIL_FIXTURES, 'host-b', step);

/** A file of a host-b step, as text. */
export const hostBText = (step: 'step0' | 'step1', path: string): string => readFileSync(join(hostB(step), path), 'utf8');

/** The child in the host's network namespace, as it reported itself (child.mjs). */
export const CHILD = { pid: 13785, files: 3, tcp: 45477, tcp6: 40403, client: 39156, udp: 36343, unix: '/tmp/ve-detail-13785.sock', netns: 4026531833 } as const;

/** The child in a network namespace of its own. */
export const NS_CHILD = { pid: 13813, files: 1, tcp: 37745, tcp6: 42795, client: 47252, udp: 41829, unix: '/tmp/ve-detail-13813.sock', netns: 4026532177 } as const;

/** Mappings of `pmap -X`: start address (hex, no 0x) and size in kB, from its table lines. */
export function pmapMappings(text: string): { start: string; kib: number }[] {
  const out: { start: string; kib: number }[] = [];
  for (const line of text.split('\n').slice(2)) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 7 || !/^[0-9a-f]+$/.test(fields[0]!) || !/^[r-][w-][x-][ps]$/.test(fields[1]!)) continue;
    out.push({ start: fields[0]!, kib: Number(fields[5]) });
  }
  return out;
}

/** The totals line of `pmap -X` by column name (kB). */
export function pmapTotals(text: string): Map<string, number> {
  const lines = text.split('\n');
  const header = lines[1]!.trim().split(/\s+/);
  const totals = lines.filter((line) => /^\s+\d+(\s+\d+)+\s+KB\s*$/.test(line)).at(-1)!.trim().split(/\s+/).slice(0, -1).map(Number);
  // The totals start at Size: the columns before it (Address … Inode) have none.
  const from = header.indexOf('Size');
  return new Map(totals.map((value, i) => [header[from + i]!, value]));
}

/** Options as a config file may write them: the detail filters partial at every level (the schema fills the rest). */
export type RawOptions = Omit<ProcfsOptions, 'detail' | 'detailTables'> & {
  readonly detail?: Partial<DetailFilter>;
  readonly detailTables?: Partial<Record<DetailTable, Partial<DetailFilter>>>;
};

/** Raw options typed as what parseConfig and probeOver take (they validate and default them). */
export const raw = (options: RawOptions): ProcfsOptions => options as ProcfsOptions;

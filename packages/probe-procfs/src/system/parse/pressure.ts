/**
 * Parser of a /proc/pressure/{cpu,io,memory,irq} file (PSI): `some` and `full` lines of
 * `avg10=… avg60=… avg300=… total=…`; irq has only `full`. See Documentation/accounting/psi.rst.
 */
import { ok, type Result } from '@virtualeyes/core';
import { clip, parseError, readCount, type Count } from '@virtualeyes/linux';

/** One line of a pressure file. */
export interface PressureLine {
  readonly kind: 'some' | 'full';
  /** Share of time stalled over the last 10, 60 and 300 s, percent. */
  readonly avg10: number;
  readonly avg60: number;
  readonly avg300: number;
  /** Total stall time since boot, microseconds. */
  readonly total: Count;
}

const LINE = /^(some|full) avg10=(\d+\.\d+) avg60=(\d+\.\d+) avg300=(\d+\.\d+) total=(\d+)$/;

/** Parses a pressure file named `source`; PARSE_ERROR on another line shape or no line. */
export function parsePressure(text: string, source: string): Result<PressureLine[]> {
  const out: PressureLine[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const match = LINE.exec(line.trim());
    const total = match === null ? undefined : readCount(match[5]!, 0, match[5]!.length);
    if (match === null || total === undefined) return parseError(source, `malformed line '${clip(line)}'`);
    if (out.some((seen) => seen.kind === match[1])) return parseError(source, `two ${match[1]} lines`);
    out.push({ kind: match[1] as 'some' | 'full', avg10: Number(match[2]), avg60: Number(match[3]), avg300: Number(match[4]), total });
  }
  if (out.length === 0) return parseError(source, 'empty');
  return ok(out);
}

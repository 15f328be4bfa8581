/**
 * The key of every per-process table: a process is (pid, start_time), never a pid alone, so a
 * reused pid is another process.
 */
import { column, type ColumnDef } from '@virtualeyes/core';

/** The key columns, first in every per-process table. */
export const PROCESS_KEY: readonly ColumnDef[] = [
  column.int32('pid', 'Process id.'),
  column.timestamp('start_time', 'When the process started; with pid, identifies it across pid reuse.'),
];

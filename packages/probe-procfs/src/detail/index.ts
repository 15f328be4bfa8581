/**
 * The detail table group (see ../group.ts): per-process memory maps, smaps_rollup memory, NUMA
 * placement, open descriptors and sockets, each for the processes its filter selects (options.ts)
 * and within its own budget (tables.ts). The collector is in collector.ts.
 */
import type { TableGroup } from '../group.js';
import { createDetailCollector } from './collector.js';
import { DETAIL_BUDGET_MS, DETAIL_TABLES } from './tables.js';

/** The detail tables, their budgets and their collector. */
export const DETAIL_GROUP: TableGroup = {
  tables: DETAIL_TABLES,
  budgetMs: DETAIL_BUDGET_MS,
  create: createDetailCollector,
};

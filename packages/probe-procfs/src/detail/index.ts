/**
 * The detail table group (see ../group.ts): its collector. Empty until its tables land.
 */
import type { TableGroup } from '../group.js';
import { DETAIL_BUDGET_MS, DETAIL_TABLES } from './tables.js';

/** The detail tables, their budgets and their collector. */
export const DETAIL_GROUP: TableGroup = {
  tables: DETAIL_TABLES,
  budgetMs: DETAIL_BUDGET_MS,
  create: () => ({ collect: () => ({ batches: [], errors: [] }) }),
};

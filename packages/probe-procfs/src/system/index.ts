/**
 * The system table group (see ../group.ts): its collector. Empty until its tables land.
 */
import type { TableGroup } from '../group.js';
import { SYSTEM_BUDGET_MS, SYSTEM_TABLES } from './tables.js';

/** The system tables, their budgets and their collector. */
export const SYSTEM_GROUP: TableGroup = {
  tables: SYSTEM_TABLES,
  budgetMs: SYSTEM_BUDGET_MS,
  create: () => ({ collect: () => ({ batches: [], errors: [] }) }),
};

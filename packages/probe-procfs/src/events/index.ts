/**
 * The events table group (see ../group.ts): its collector. Empty until its tables land.
 */
import type { TableGroup } from '../group.js';
import { EVENTS_BUDGET_MS, EVENTS_TABLES } from './tables.js';

/** The events tables, their budgets and their collector. */
export const EVENTS_GROUP: TableGroup = {
  tables: EVENTS_TABLES,
  budgetMs: EVENTS_BUDGET_MS,
  create: () => ({ collect: () => ({ batches: [], errors: [] }) }),
};

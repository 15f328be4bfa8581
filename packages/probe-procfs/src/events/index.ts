/**
 * The events table group (see ../group.ts): process_events from the kernel's process-events
 * connector, and the cursor API through which the core collector can learn births and exits
 * at their exact times.
 */
import type { TableGroup } from '../group.js';
import { createEventsCollector } from './collector.js';
import { EVENTS_BUDGET_MS, EVENTS_TABLES } from './tables.js';

export { createEventsCollector } from './collector.js';
export type { EventsCollector } from './collector.js';
export type { EventCursor, EventSourceStats, ProcessEvent, ProcessEventKind } from './source.js';

/** The events tables, their budgets and their collector. */
export const EVENTS_GROUP: TableGroup = {
  tables: EVENTS_TABLES,
  budgetMs: EVENTS_BUDGET_MS,
  create: (context) => createEventsCollector(context),
};

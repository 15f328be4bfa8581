/**
 * The detail group's tables, declared once (src/tables.ts lists them after the core tables), and
 * each one's default time budget.
 */
import type { TableSchema } from '@virtualeyes/core';

/** The group's tables. */
export const DETAIL_TABLES: readonly TableSchema[] = [];

/** Default budget per table, milliseconds. */
export const DETAIL_BUDGET_MS: Readonly<Record<string, number>> = {};

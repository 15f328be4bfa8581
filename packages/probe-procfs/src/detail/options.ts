/**
 * The detail group's options: their JSON Schema properties (merged into the probe's CONFIG_SCHEMA,
 * the single source of defaults) and their type (part of ProcfsConfig).
 */
import type { JsonSchema } from '@virtualeyes/core';

/** The detail group's options, after defaults. */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- filled as the group's tables land
export interface DetailOptions {}

/** Defaults of {@link DetailOptions}. */
export const DETAIL_DEFAULTS: DetailOptions = {};

/** JSON Schema properties of {@link DetailOptions}. */
export const DETAIL_OPTIONS: Readonly<Record<string, JsonSchema>> = {};

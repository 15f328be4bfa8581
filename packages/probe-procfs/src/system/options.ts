/**
 * The system group's options: their JSON Schema properties (merged into the probe's CONFIG_SCHEMA,
 * the single source of defaults) and their type (part of ProcfsConfig).
 */
import type { JsonSchema } from '@virtualeyes/core';

/** The system group's options, after defaults. */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- filled as the group's tables land
export interface SystemOptions {}

/** Defaults of {@link SystemOptions}. */
export const SYSTEM_DEFAULTS: SystemOptions = {};

/** JSON Schema properties of {@link SystemOptions}. */
export const SYSTEM_OPTIONS: Readonly<Record<string, JsonSchema>> = {};

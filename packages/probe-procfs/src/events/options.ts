/**
 * The events group's options: their JSON Schema properties (merged into the probe's CONFIG_SCHEMA,
 * the single source of defaults) and their type (part of ProcfsConfig).
 */
import type { JsonSchema } from '@virtualeyes/core';

/** The events group's options, after defaults. */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- filled as the group's tables land
export interface EventsOptions {}

/** Defaults of {@link EventsOptions}. */
export const EVENTS_DEFAULTS: EventsOptions = {};

/** JSON Schema properties of {@link EventsOptions}. */
export const EVENTS_OPTIONS: Readonly<Record<string, JsonSchema>> = {};

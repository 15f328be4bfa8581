/**
 * A sink that keeps nothing but a count, for tests that run a real agent and need somewhere to
 * write: load it by name, `{ "use": "@virtualeyes/core/testing/memory-sink" }`, and capture the
 * batches with `agent.hooks.beforeWrite`. Built with the plugin kit, so it refuses undeclared
 * tables like any sink.
 */
import { defineSink } from '../kit.js';
import { ok, OK } from '../status.js';
import { CORE_VERSION } from '../version.js';

/** The memory sink's module: `manifest` and `createSink`, as the loader expects. */
export const { manifest, createSink } = defineSink<Record<string, never>>({
  identity: { packageName: '@virtualeyes/core/testing/memory-sink', version: CORE_VERSION, coreRange: `^${CORE_VERSION}` },
  name: 'memory',
  description: 'Accepts every batch of a declared table and keeps only the count, for tests.',
  configSchema: { type: 'object', additionalProperties: false, properties: {} },
  platforms: { any: () => ok({ start: () => OK, write: () => ({ status: OK }) }) },
});

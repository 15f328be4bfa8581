/**
 * Test helpers for plugin authors: a fake clock, fixture file readers, test deps and the
 * probe and sink contract suites. Import from `@virtualeyes/core/testing` in tests only.
 */
export { createFakeClock } from './fake-clock.js';
export type { FakeClock } from './fake-clock.js';
export { createFixtureReader, createMemoryLogger, createTestDeps } from './deps.js';
export type { MemoryLogger } from './deps.js';
export { CONTRACT_TABLES, probeContractSuite, sinkContractSuite } from './contract.js';
export type { ProbeContractOptions, ProbeExports, SinkContractOptions, SinkExports } from './contract.js';

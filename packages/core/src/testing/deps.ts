/**
 * Ready-made deps for plugin tests: a fixture file reader that maps /proc, /sys and /etc
 * into a folder, a logger that keeps its records, and a full PluginDeps with a fake clock.
 */
import { join } from 'node:path';
import { createFileReader, type FileReader } from '../files.js';
import { createHooks } from '../hooks.js';
import { createLogger, type LogLevel, type LogRecord, type Logger } from '../logger.js';
import type { PluginDeps } from '../plugin.js';
import { createFakeClock } from './fake-clock.js';

/** A file reader whose `/proc`, `/sys` and `/etc` are subfolders of `fixtureDir`. */
export function createFixtureReader(fixtureDir: string, prefixes: readonly string[] = ['/proc', '/sys', '/etc']): FileReader {
  return createFileReader({ roots: Object.fromEntries(prefixes.map((prefix) => [prefix, join(fixtureDir, prefix)])) });
}

/** A logger that keeps every record in `records`. */
export interface MemoryLogger extends Logger {
  /** Everything logged so far, by this logger and its children. */
  readonly records: LogRecord[];
}

/** Creates a logger that records instead of printing. */
export function createMemoryLogger(level: LogLevel = 'debug', name = 'test'): MemoryLogger {
  const records: LogRecord[] = [];
  const logger = createLogger({ level, name, write: (record) => records.push(record) });
  return Object.assign(Object.create(logger) as Logger, logger, { records }) as MemoryLogger;
}

/** Builds PluginDeps for a test, with a fake clock, a memory logger and the real file system. */
export function createTestDeps(overrides: Partial<PluginDeps> = {}): PluginDeps {
  return {
    name: 'test',
    clock: createFakeClock(),
    logger: createMemoryLogger(),
    files: createFileReader(),
    hooks: createHooks(),
    host: 'test-host',
    dataDir: '/nonexistent/virtualeyes-test',
    platform: process.platform,
    ...overrides,
  };
}

import { describe, expect, it } from 'vitest';
import { createLogger, fail, formatLogRecord, type LogRecord } from '../src/index.js';

describe('logger', () => {
  it('filters by level and scopes children by name', () => {
    const records: LogRecord[] = [];
    const logger = createLogger({ level: 'info', name: 'vwatchd', write: (r) => records.push(r), clock: { now: () => 0 } });
    logger.debug('hidden');
    logger.child('procfs').warn('visible', { pid: 1 });
    expect(records).toEqual([{ time: 0, level: 'warn', name: 'vwatchd.procfs', message: 'visible', fields: { pid: 1 } }]);
    expect(formatLogRecord(records[0]!)).toBe('1970-01-01T00:00:00.000Z WARN  vwatchd.procfs: visible pid=1');
  });

  it('logs identical failing statuses once per window and counts the repeats', () => {
    const records: LogRecord[] = [];
    let now = 0;
    const logger = createLogger({ level: 'debug', write: (r) => records.push(r), clock: { now: () => now }, repeatWindowMs: 1000 });
    const status = fail('PERMISSION_DENIED', 'read /proc/1/io', { source: 'procfs', op: 'read io' });
    for (let i = 0; i < 5; i += 1) logger.status(status);
    now = 1500;
    logger.status(status);
    expect(records).toHaveLength(2);
    expect(records[0]!.level).toBe('warn');
    expect(records[1]!.fields).toEqual({ repeated: 4 });
  });

  it('logs vanished entities (NOT_FOUND) at debug only', () => {
    const records: LogRecord[] = [];
    const logger = createLogger({ level: 'info', write: (r) => records.push(r) });
    logger.status(fail('NOT_FOUND', 'pid 5 exited', { source: 'procfs' }));
    expect(records).toEqual([]);
  });
});

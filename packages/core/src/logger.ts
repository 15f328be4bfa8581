/**
 * Name-scoped, single-line logging. Plugins log only through the logger core hands them;
 * repeated identical failing statuses are rate-limited and counted instead of flooding.
 */
import type { Clock } from './clock.js';
import { formatStatus, isOk, type StatusCode, type Status } from './status.js';

/** Log levels, lowest first. */
export const LogLevel = {
  DEBUG: 'debug',
  INFO: 'info',
  WARN: 'warn',
  ERROR: 'error',
  SILENT: 'silent',
} as const;

/** One of the {@link LogLevel} strings. */
export type LogLevel = (typeof LogLevel)[keyof typeof LogLevel];

const RANK: Readonly<Record<LogLevel, number>> = { debug: 10, info: 20, warn: 30, error: 40, silent: 99 };

/** Extra key/value context appended to a log line. */
export type LogFields = Readonly<Record<string, string | number | boolean | null | undefined>>;

/** A name-scoped logger. */
export interface Logger {
  /** The scope name printed on every line (`procfs`, `core.scheduler`). */
  readonly name: string;
  /** Detail useful when debugging; off by default. */
  debug(message: string, fields?: LogFields): void;
  /** Normal operation worth a line. */
  info(message: string, fields?: LogFields): void;
  /** Something is wrong but work goes on. */
  warn(message: string, fields?: LogFields): void;
  /** Something failed. */
  error(message: string, fields?: LogFields): void;
  /** Logs a failing Status at a level chosen by its code, rate-limited per source/code/op. */
  status(status: Status): void;
  /** A logger for a sub-scope, sharing level, output and rate limiter. */
  child(name: string): Logger;
}

/** One formatted record handed to the output. */
export interface LogRecord {
  /** Epoch milliseconds. */
  readonly time: number;
  /** Severity. */
  readonly level: Exclude<LogLevel, 'silent'>;
  /** Scope name. */
  readonly name: string;
  /** The message, one line. */
  readonly message: string;
  /** Extra context. */
  readonly fields?: LogFields;
}

/** Options for {@link createLogger}. */
export interface LoggerOptions {
  /** Lowest level written. @default 'info' */
  readonly level?: LogLevel;
  /** Scope name of the root logger. @default 'vwatchd' */
  readonly name?: string;
  /** Where records go. @default a single line on stderr */
  readonly write?: (record: LogRecord) => void;
  /** Clock for timestamps and the rate limiter. */
  readonly clock?: Pick<Clock, 'now'>;
  /** Window in which identical statuses are logged once. @default 60000 */
  readonly repeatWindowMs?: number;
}

/** Levels at which failing statuses of each code are logged; NOT_FOUND is normal on live hosts. */
const STATUS_LEVEL: Readonly<Record<StatusCode, Exclude<LogLevel, 'silent'>>> = {
  OK: 'debug',
  NOT_FOUND: 'debug',
  INVALID_ARGUMENT: 'warn',
  INVALID_CONFIG: 'error',
  PERMISSION_DENIED: 'warn',
  UNSUPPORTED: 'info',
  UNAVAILABLE: 'warn',
  TIMEOUT: 'warn',
  PARSE_ERROR: 'warn',
  INTERNAL: 'error',
};

/** Formats a record as `TIME LEVEL name: message k=v`. */
export function formatLogRecord(record: LogRecord): string {
  const fields = Object.entries(record.fields ?? {})
    .filter(([, value]) => value !== undefined)
    .map(([key, value]) => ` ${key}=${typeof value === 'string' && /\s/.test(value) ? JSON.stringify(value) : String(value)}`)
    .join('');
  return `${new Date(record.time).toISOString()} ${record.level.toUpperCase().padEnd(5)} ${record.name}: ${record.message}${fields}`;
}

/** Creates a root logger. */
export function createLogger(options: LoggerOptions = {}): Logger {
  const threshold = RANK[options.level ?? 'info'];
  const now = options.clock?.now ?? Date.now;
  const write = options.write ?? ((record: LogRecord) => process.stderr.write(`${formatLogRecord(record)}\n`));
  const windowMs = options.repeatWindowMs ?? 60_000;
  const repeats = new Map<string, { until: number; suppressed: number }>();

  const make = (name: string): Logger => {
    const emit = (level: Exclude<LogLevel, 'silent'>, message: string, fields?: LogFields): void => {
      if (RANK[level] < threshold) return;
      const record: LogRecord =
        fields === undefined ? { time: now(), level, name, message } : { time: now(), level, name, message, fields };
      write(record);
    };
    return {
      name,
      debug: (message, fields) => emit('debug', message, fields),
      info: (message, fields) => emit('info', message, fields),
      warn: (message, fields) => emit('warn', message, fields),
      error: (message, fields) => emit('error', message, fields),
      status(status) {
        if (isOk(status)) return;
        const level = STATUS_LEVEL[status.code];
        if (RANK[level] < threshold) return;
        const key = `${status.source ?? name}\u0000${status.code}\u0000${status.op ?? ''}`;
        const time = now();
        const seen = repeats.get(key);
        if (seen !== undefined && time < seen.until) {
          seen.suppressed += 1;
          return;
        }
        const suppressed = seen?.suppressed ?? 0;
        repeats.set(key, { until: time + windowMs, suppressed: 0 });
        emit(level, formatStatus(status), suppressed > 0 ? { repeated: suppressed } : undefined);
      },
      child: (child) => make(`${name}.${child}`),
    };
  };
  return make(options.name ?? 'vwatchd');
}

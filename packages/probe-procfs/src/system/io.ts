/**
 * What every system table's reader shares: the file reader, the clock, the collection's error
 * list, and a memory of optional sources already reported missing, so a host without PSI or
 * NUMA hears about it once, not every collection.
 */
import { err, fail, formatStatus, StatusCode, type Clock, type FileReader, type Logger, type Result, type Status } from '@virtualeyes/core';
import { classifyHostRead } from '../classify.js';

/** A table reader's access to the host, for one collection. */
export interface Io {
  readonly files: FileReader;
  readonly clock: Clock;
  /** This collection's statuses. */
  readonly errors: Status[];
  /** Reads a file every host has (/proc/diskstats); a missing one is UNAVAILABLE naming the root to check. */
  host(path: string): Result<string>;
  /** A sysfs attribute's text without its trailing newline, or null when it cannot be read (absent, EINVAL for a down link's speed…). */
  attribute(path: string): string | null;
  /** Reports `status` the first time `key` is seen in the probe's lifetime; afterwards logs it at debug only. */
  once(key: string, status: Status): void;
}

/** The per-probe part of {@link Io}: what outlives one collection. */
export interface IoState {
  readonly files: FileReader;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Keys already reported by {@link Io.once}. */
  readonly reported: Set<string>;
}

/** An Io over `state` for one collection, appending to `errors`. */
export function createIo(state: IoState, errors: Status[]): Io {
  const { files, clock, logger, reported } = state;
  return {
    files,
    clock,
    errors,
    host(path) {
      const text = files.readText(path);
      return text.ok ? text : err(classifyHostRead(text.status, files.resolve(path.split('/').slice(0, 2).join('/'))));
    },
    attribute(path) {
      const text = files.readText(path);
      if (!text.ok) return null;
      return text.value.endsWith('\n') ? text.value.slice(0, -1) : text.value;
    },
    once(key, status) {
      if (reported.has(key)) {
        logger.debug(formatStatus(status));
        return;
      }
      reported.add(key);
      errors.push(status);
    },
  };
}

/** The Status for an optional source this host lacks: UNSUPPORTED, saying what is missing and what stays empty. */
export function missingSource(table: string, what: string): Status {
  return fail(StatusCode.UNSUPPORTED, `${table}: ${what}; reported once`, { op: `collect ${table}`, retryable: false });
}

/** True when a failed read means the file or folder is not there. */
export function isMissing(status: Status): boolean {
  return status.code === StatusCode.NOT_FOUND;
}

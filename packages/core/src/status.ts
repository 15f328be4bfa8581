/**
 * The Status error model: plain data with string codes, so that a plugin bundling its own
 * copy of core still interoperates (no classes, enums or instanceof). Library exceptions
 * are converted here, once, at the I/O edge; nothing throws across a package boundary.
 */

/** The closed set of status codes; `docs/status-codes.md` has a row for each. */
export const StatusCode = {
  OK: 'OK',
  INVALID_ARGUMENT: 'INVALID_ARGUMENT',
  INVALID_CONFIG: 'INVALID_CONFIG',
  NOT_FOUND: 'NOT_FOUND',
  PERMISSION_DENIED: 'PERMISSION_DENIED',
  UNSUPPORTED: 'UNSUPPORTED',
  UNAVAILABLE: 'UNAVAILABLE',
  TIMEOUT: 'TIMEOUT',
  PARSE_ERROR: 'PARSE_ERROR',
  INTERNAL: 'INTERNAL',
} as const;

/** One of the {@link StatusCode} strings. */
export type StatusCode = (typeof StatusCode)[keyof typeof StatusCode];

/** The outcome of an operation: `code: 'OK'` or a failure with a one-line message. */
export interface Status {
  /** What kind of outcome this is. */
  readonly code: StatusCode;
  /** One line for a human; empty for OK. */
  readonly message: string;
  /** Whether trying the same operation again later may succeed. */
  readonly retryable: boolean;
  /** The plugin (or core component) that produced the status. */
  readonly source?: string;
  /** The operation that failed, such as `read /proc/1/stat` or `write`. */
  readonly op?: string;
  /** The original error, kept for debugging; never shown as the message. */
  readonly cause?: unknown;
  /** For a retryable refusal (a full query queue): how long to wait before trying again, ms. */
  readonly retryAfterMs?: number;
}

/** A value or the Status saying why there is none. */
export type Result<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly status: Status };

/** Optional fields of a failing {@link Status}. */
export interface StatusOptions {
  /** Overrides the default retryability of the code. */
  readonly retryable?: boolean;
  /** Plugin or component name. */
  readonly source?: string;
  /** Operation name. */
  readonly op?: string;
  /** Underlying error. */
  readonly cause?: unknown;
  /** Suggested wait before a retry, milliseconds. */
  readonly retryAfterMs?: number;
}

/** The one OK status; compare codes, not identity. */
export const OK: Status = Object.freeze({ code: StatusCode.OK, message: '', retryable: false });

const RETRYABLE_BY_DEFAULT: ReadonlySet<StatusCode> = new Set<StatusCode>([
  StatusCode.UNAVAILABLE,
  StatusCode.TIMEOUT,
]);

const CODES: ReadonlySet<string> = new Set(Object.values(StatusCode));

/** Builds a failing Status; retryable defaults to true only for UNAVAILABLE and TIMEOUT. */
export function fail(code: StatusCode, message: string, options: StatusOptions = {}): Status {
  const status: {
    code: StatusCode;
    message: string;
    retryable: boolean;
    source?: string;
    op?: string;
    cause?: unknown;
    retryAfterMs?: number;
  } = {
    code,
    message: oneLine(message),
    retryable: options.retryable ?? RETRYABLE_BY_DEFAULT.has(code),
  };
  if (options.source !== undefined) status.source = options.source;
  if (options.op !== undefined) status.op = options.op;
  if (options.cause !== undefined) status.cause = options.cause;
  if (options.retryAfterMs !== undefined) status.retryAfterMs = options.retryAfterMs;
  return Object.freeze(status);
}

/** Wraps a value in a successful Result. */
export function ok<T>(value: T): Result<T> {
  return { ok: true, value };
}

/** Wraps a failing Status in a Result. */
export function err<T = never>(status: Status): Result<T> {
  return { ok: false, status };
}

/** True when the status is OK. */
export function isOk(status: Status): boolean {
  return status.code === StatusCode.OK;
}

/** True when `value` looks like a Status from any copy of core (structural check). */
export function isStatus(value: unknown): value is Status {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as { code?: unknown; message?: unknown; retryable?: unknown };
  return (
    typeof candidate.code === 'string' &&
    CODES.has(candidate.code) &&
    typeof candidate.message === 'string' &&
    typeof candidate.retryable === 'boolean'
  );
}

/** Returns a copy of `status` with `source` (and `op`, when given) filled in if missing. */
export function withSource(status: Status, source: string, op?: string): Status {
  if (isOk(status)) return status;
  if (status.source !== undefined && (op === undefined || status.op !== undefined)) return status;
  return fail(status.code, status.message, {
    retryable: status.retryable,
    source: status.source ?? source,
    op: status.op ?? op,
    cause: status.cause,
    ...(status.retryAfterMs === undefined ? {} : { retryAfterMs: status.retryAfterMs }),
  });
}

/** Formats a Status as one line: `CODE source op: message`. */
export function formatStatus(status: Status): string {
  if (isOk(status)) return 'OK';
  const where = [status.source, status.op].filter((part) => part !== undefined && part !== '').join(' ');
  return where === '' ? `${status.code}: ${status.message}` : `${status.code} ${where}: ${status.message}`;
}

/** Errno names mapped to status codes; shared by every package that does file or socket I/O. */
const ERRNO_CODES: Readonly<Record<string, StatusCode>> = {
  ENOENT: StatusCode.NOT_FOUND,
  ESRCH: StatusCode.NOT_FOUND,
  ENOTDIR: StatusCode.NOT_FOUND,
  EACCES: StatusCode.PERMISSION_DENIED,
  EPERM: StatusCode.PERMISSION_DENIED,
  EROFS: StatusCode.PERMISSION_DENIED,
  EAGAIN: StatusCode.UNAVAILABLE,
  EINTR: StatusCode.UNAVAILABLE,
  EBUSY: StatusCode.UNAVAILABLE,
  ECONNREFUSED: StatusCode.UNAVAILABLE,
  ECONNRESET: StatusCode.UNAVAILABLE,
  EPIPE: StatusCode.UNAVAILABLE,
  ENOSPC: StatusCode.UNAVAILABLE,
  EMFILE: StatusCode.UNAVAILABLE,
  ENFILE: StatusCode.UNAVAILABLE,
  ETIMEDOUT: StatusCode.TIMEOUT,
  EINVAL: StatusCode.INVALID_ARGUMENT,
  ENOSYS: StatusCode.UNSUPPORTED,
  EOPNOTSUPP: StatusCode.UNSUPPORTED,
  ENOTSUP: StatusCode.UNSUPPORTED,
  ENODEV: StatusCode.UNSUPPORTED,
};

/** The errno name carried by a Node system error (`err.code`), if any. */
export function errnoOf(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}

/** Classifies an exception from Node's fs/net APIs into a Status (errno → code). */
export function classifyErrno(error: unknown, op: string, source?: string): Status {
  const errno = errnoOf(error);
  const code = (errno !== undefined ? ERRNO_CODES[errno] : undefined) ?? StatusCode.INTERNAL;
  const options: StatusOptions = source === undefined ? { op, cause: error } : { op, source, cause: error };
  return fail(code, messageOf(error), options);
}

/** Converts any thrown value into a Status of the given code (default INTERNAL). */
export function statusFromError(
  error: unknown,
  options: StatusOptions & { readonly code?: StatusCode } = {},
): Status {
  if (isStatus(error)) return error;
  return fail(options.code ?? StatusCode.INTERNAL, messageOf(error), { ...options, cause: error });
}

/** Runs a synchronous I/O call and converts a throw with `classify`. */
export function fromThrowable<T>(fn: () => T, classify: (error: unknown) => Status): Result<T> {
  try {
    return ok(fn());
  } catch (error) {
    return err(classify(error));
  }
}

/** Awaits a promise from a library and converts a rejection with `classify`. */
export async function fromPromise<T>(
  promise: PromiseLike<T> | (() => PromiseLike<T>),
  classify: (error: unknown) => Status,
): Promise<Result<T>> {
  try {
    const value = await (typeof promise === 'function' ? promise() : promise);
    return ok(value);
  } catch (error) {
    return err(classify(error));
  }
}

/** The message of an error-like value, on one line. */
export function messageOf(error: unknown): string {
  if (typeof error === 'object' && error !== null && 'message' in error) {
    const message = (error as { message: unknown }).message;
    if (typeof message === 'string') return oneLine(message);
  }
  return oneLine(String(error));
}

/** Collapses whitespace runs (including newlines) so a message stays on one line. */
function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

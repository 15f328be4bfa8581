/**
 * How the CLI reaches the recording: through the running daemon's Unix socket, or, when no
 * daemon answers, by opening the store itself read-only (the store package named in the
 * host config, sink-duckdb by default). Both sides answer the same questions.
 */
import { dirname } from 'node:path';
import { request } from 'node:http';
import { fileURLToPath } from 'node:url';
import {
  ApiRoute,
  classifyErrno,
  createLogger,
  createOptionsValidator,
  createSystemClock,
  err,
  fail,
  formatStatus,
  importPlugin,
  isOk,
  isStatus,
  messageOf,
  ok,
  StatusCode,
  type DaemonStatus,
  type HostConfig,
  type QueryRequest,
  type QueryResult,
  type Result,
  type Status,
  type StoredTable,
  type StoreInfo,
  type StoreReader,
  type SinkModule,
} from '@virtualeyes/core';

/** What the CLI can ask, wherever the answer comes from. */
export interface Backend {
  /** `daemon` when talking to vwatchd, `offline` when reading the store file directly. */
  readonly kind: 'daemon' | 'offline';
  /** Runs a read-only query. */
  query(request: QueryRequest): Promise<Result<QueryResult>>;
  /** Lists recorded tables. */
  tables(): Promise<Result<readonly StoredTable[]>>;
  /** The daemon's status (daemon backend only). */
  status(): Promise<Result<DaemonStatus>>;
  /** Store facts. */
  info(): Promise<Result<StoreInfo>>;
  /** Releases connections. */
  close(): Promise<void>;
}

/** Sends one request over the Unix socket and parses the JSON answer (errors carry a Status). */
export function callDaemon<T>(socket: string, method: 'GET' | 'POST', path: string, body?: unknown, timeoutMs = 600_000): Promise<Result<T>> {
  return new Promise((resolve) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = request(
      {
        socketPath: socket,
        method,
        path,
        headers: payload === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) },
        timeout: timeoutMs,
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', (error) => resolve(err(classifyErrno(error, `${method} ${path}`, 'virtualeyes'))));
        response.on('end', () => {
          let parsed: unknown;
          try {
            parsed = JSON.parse(Buffer.concat(chunks).toString('utf8'));
          } catch (error) {
            resolve(err(fail(StatusCode.INTERNAL, `vwatchd sent a reply that is not JSON: ${messageOf(error)}`, { op: path })));
            return;
          }
          const status = (parsed as { status?: unknown }).status;
          if ((response.statusCode ?? 500) >= 400) {
            resolve(err(isStatus(status) ? status : fail(StatusCode.INTERNAL, `HTTP ${response.statusCode ?? '?'} from vwatchd`, { op: path })));
            return;
          }
          resolve(ok(parsed as T));
        });
      },
    );
    req.on('timeout', () => {
      req.destroy();
      resolve(err(fail(StatusCode.TIMEOUT, `vwatchd did not answer within ${timeoutMs} ms`, { op: path })));
    });
    req.on('error', (error) => resolve(err(classifyErrno(error, `connect ${socket}`, 'virtualeyes'))));
    if (payload !== undefined) req.write(payload);
    req.end();
  });
}

/** How often a call the daemon refused as busy (retryable, with a Retry-After) is tried again. */
export const BUSY_RETRIES = 5;

/** Longest wait before one retry, whatever the daemon asks. */
const MAX_RETRY_WAIT_MS = 5000;

/**
 * Calls the daemon, and while it answers "busy" (a retryable refusal with `retryAfterMs`, as
 * when its query slots and queue are full) waits as long as it asks and tries again, up to
 * {@link BUSY_RETRIES} times; the last refusal is the answer.
 */
async function callPatiently<T>(socket: string, method: 'GET' | 'POST', path: string, body?: unknown): Promise<Result<T>> {
  for (let attempt = 0; ; attempt += 1) {
    const result = await callDaemon<T>(socket, method, path, body);
    const wait = result.ok ? undefined : result.status.retryable ? result.status.retryAfterMs : undefined;
    if (wait === undefined || attempt >= BUSY_RETRIES) return result;
    await new Promise((resolve) => setTimeout(resolve, Math.min(Math.max(wait, 0), MAX_RETRY_WAIT_MS)));
  }
}

/** A backend over the daemon's socket. */
export function daemonBackend(socket: string): Backend {
  return {
    kind: 'daemon',
    query: (body) => callPatiently<QueryResult>(socket, 'POST', ApiRoute.QUERY, body),
    tables: async () => {
      const result = await callPatiently<{ tables: StoredTable[] }>(socket, 'GET', ApiRoute.TABLES);
      return result.ok ? ok(result.value.tables) : result;
    },
    status: () => callDaemon<DaemonStatus>(socket, 'GET', ApiRoute.STATUS),
    info: async () => {
      const status = await callDaemon<DaemonStatus>(socket, 'GET', ApiRoute.STATUS);
      if (!status.ok) return status;
      return status.value.store === null ? err(fail(StatusCode.UNAVAILABLE, 'the daemon runs no queryable store')) : ok(status.value.store);
    },
    close: async () => undefined,
  };
}

/** A backend reading the store file directly, read-only. */
export function offlineBackend(reader: StoreReader): Backend {
  return {
    kind: 'offline',
    query: (body) => reader.query(body),
    tables: () => reader.tables(),
    status: async () => err(fail(StatusCode.UNAVAILABLE, 'vwatchd is not running')),
    info: () => reader.info(),
    close: async () => {
      await reader.close();
    },
  };
}

/** Opens the first sink of the host config that can read its store, read-only. */
export async function openOfflineReader(config: HostConfig): Promise<Result<StoreReader>> {
  const resolveFrom = [process.cwd(), dirname(fileURLToPath(import.meta.url))];
  const failures: Status[] = [];
  for (const spec of config.agent.sinks) {
    const imported = await importPlugin(spec.use, { resolveFrom });
    if (!imported.ok) {
      failures.push(imported.status);
      continue;
    }
    const module = imported.value as Partial<SinkModule>;
    if (module.createReader === undefined || module.manifest === undefined) continue;
    const options = createOptionsValidator().validate<Record<string, unknown>>(module.manifest.configSchema, spec.options ?? {});
    if (!options.ok) return options;
    const clock = createSystemClock();
    return module.createReader(options.value, {
      clock,
      logger: createLogger({ level: 'warn', name: 'virtualeyes' }),
      dataDir: config.agent.dataDir,
    });
  }
  const why = failures.map((status) => formatStatus(status)).join('; ');
  return err(fail(StatusCode.NOT_FOUND, `no store to read: no configured sink can be opened read-only${why === '' ? '' : ` (${why})`}`, { op: 'open store' }));
}

/** Connects to the daemon if its socket answers, else opens the store read-only. */
export async function connect(config: HostConfig): Promise<Result<Backend>> {
  const health = await callDaemon<{ ok: boolean }>(config.api.socket, 'GET', ApiRoute.HEALTH, undefined, 2000);
  if (health.ok) return ok(daemonBackend(config.api.socket));
  if (health.status.code === StatusCode.PERMISSION_DENIED) {
    // The socket and the data directory are private to the daemon's user and group by design.
    return err(
      fail(StatusCode.PERMISSION_DENIED, `permission denied on ${config.api.socket}: only vwatchd's user and group may query it; run as one of them or join its group`, {
        op: 'connect',
      }),
    );
  }
  const reader = await openOfflineReader(config);
  if (reader.ok) return ok(offlineBackend(reader.value));
  // Say both why the daemon did not answer and why the file could not be opened.
  const daemon = health.status.code === StatusCode.NOT_FOUND || health.status.code === StatusCode.UNAVAILABLE ? `vwatchd is not running (no answer on ${config.api.socket})` : formatStatus(health.status);
  const status = reader.status;
  return err(isOk(status) ? status : { ...status, message: `${daemon}; ${status.message}` });
}

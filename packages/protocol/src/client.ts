/**
 * The client side of the daemon's API: one HTTP call over the Unix socket, and a StoreReader
 * that asks a running vwatchd, so a tool holding a StoreReader cannot tell the daemon from an
 * offline store. Every answer, refusals included, is a Result; nothing throws.
 */
import { request } from 'node:http';
import {
  classifyErrno,
  err,
  fail,
  isStatus,
  messageOf,
  ok,
  OK,
  StatusCode,
  type QueryRequest,
  type QueryResult,
  type Result,
  type Samples,
  type SamplesRequest,
  type StatesRequest,
  type Status,
  type StoredTable,
  type StoreInfo,
  type StoreReader,
  type VersionsRequest,
} from '@virtualeyes/core';
import { ApiRoute, type DaemonStatus } from './api.js';

/** Status source of the client's own refusals. */
const SOURCE = 'virtualeyes';

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
        response.on('error', (error) => resolve(err(classifyErrno(error, `${method} ${path}`, SOURCE))));
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
    req.on('error', (error) => resolve(err(classifyErrno(error, `connect ${socket}`, SOURCE))));
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

/** A StoreReader over a running daemon's socket, which can also ask for the daemon's status. */
export interface DaemonClient extends StoreReader {
  /** The socket it talks to. */
  readonly socket: string;
  /** The daemon's status. */
  status(): Promise<Result<DaemonStatus>>;
}

/** A client of the daemon listening on `socket`. It holds no connection between calls, so closing it only stops further calls. */
export function createDaemonClient(socket: string): DaemonClient {
  let closed = false;
  const open = <T>(op: string, call: () => Promise<Result<T>>): Promise<Result<T>> =>
    closed ? Promise.resolve(err(fail(StatusCode.UNAVAILABLE, 'the daemon client is closed', { source: SOURCE, op }))) : call();
  const status = (): Promise<Result<DaemonStatus>> => open('status', () => callDaemon<DaemonStatus>(socket, 'GET', ApiRoute.STATUS));
  return {
    socket,
    status,
    query: (body: QueryRequest) => open('query', () => callPatiently<QueryResult>(socket, 'POST', ApiRoute.QUERY, body)),
    samples: (body: SamplesRequest) => open('samples', () => callPatiently<Samples>(socket, 'POST', ApiRoute.SAMPLES, body)),
    states: (body: StatesRequest) => open('states', () => callPatiently<QueryResult>(socket, 'POST', ApiRoute.STATES, body)),
    versions: (body: VersionsRequest) => open('versions', () => callPatiently<QueryResult>(socket, 'POST', ApiRoute.VERSIONS, body)),
    tables: () =>
      open('list tables', async () => {
        const result = await callPatiently<{ tables: StoredTable[] }>(socket, 'GET', ApiRoute.TABLES);
        return result.ok ? ok(result.value.tables) : result;
      }),
    info: () =>
      open('store info', async (): Promise<Result<StoreInfo>> => {
        const daemon = await status();
        if (!daemon.ok) return daemon;
        return daemon.value.store === null ? err(fail(StatusCode.UNAVAILABLE, 'the daemon runs no queryable store', { source: SOURCE, op: 'store info' })) : ok(daemon.value.store);
      }),
    close: async (): Promise<Status> => {
      closed = true;
      return OK;
    },
  };
}

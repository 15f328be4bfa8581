/**
 * The client side of the daemon's API: one HTTP call over the Unix socket (or over the TCP
 * listener, with its bearer token), and a StoreReader that asks a running vwatchd, so a tool
 * holding a StoreReader cannot tell the daemon from an offline store. Every answer, refusals
 * included, is a Result; nothing throws.
 */
import { request, type IncomingMessage, type RequestOptions } from 'node:http';
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
  type SlicePage,
  type SlicePlan,
  type SlicePlanRequest,
  type SliceRequest,
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

/** A daemon's TCP listener: its base URL (`http://host:port`) and the bearer token it requires. */
export interface DaemonEndpoint {
  /** `http://host:port`, optionally with a path prefix. */
  readonly url: string;
  /** The token from the daemon's `api.tcp.tokenFile`. */
  readonly token: string;
}

/** Where a daemon answers: the path of its Unix socket, or its TCP listener. */
export type DaemonTarget = string | DaemonEndpoint;

/** How a target is named in messages: the socket path or the URL, never the token. */
function nameOf(target: DaemonTarget): string {
  return typeof target === 'string' ? target : target.url;
}

/** Node's request options for `path` on `target`, or why the target is unusable. */
function connectionOf(target: DaemonTarget, path: string): Result<RequestOptions> {
  if (typeof target === 'string') return ok({ socketPath: target, path });
  let url: URL;
  try {
    url = new URL(target.url);
  } catch {
    return err(fail(StatusCode.INVALID_ARGUMENT, `not an http://host:port URL: ${target.url}`, { source: SOURCE, op: 'connect' }));
  }
  if (url.protocol !== 'http:') {
    return err(fail(StatusCode.INVALID_ARGUMENT, `vwatchd serves http:// only, not ${url.protocol}//: ${target.url}`, { source: SOURCE, op: 'connect' }));
  }
  if (url.username !== '' || url.password !== '') {
    return err(fail(StatusCode.INVALID_ARGUMENT, 'the URL must not hold credentials; the token goes in the bearer header', { source: SOURCE, op: 'connect' }));
  }
  if (target.token === '' || /\s/.test(target.token)) {
    return err(fail(StatusCode.INVALID_ARGUMENT, 'the token is empty or holds whitespace', { source: SOURCE, op: 'connect' }));
  }
  return ok({
    // URL keeps an IPv6 host in brackets; the socket layer wants the bare address.
    host: url.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: url.port === '' ? 80 : Number(url.port),
    path: `${url.pathname.replace(/\/+$/, '')}${path}`,
    headers: { authorization: `Bearer ${target.token}` },
  });
}

/**
 * Sends one request to the daemon, over its Unix socket (`target` a path) or its TCP listener
 * (`target` a URL and token), and parses the JSON answer (errors carry a Status).
 */
export function callDaemon<T>(target: DaemonTarget, method: 'GET' | 'POST', path: string, body?: unknown, timeoutMs = 600_000): Promise<Result<T>> {
  return new Promise((resolve) => {
    const connection = connectionOf(target, path);
    if (!connection.ok) {
      resolve(connection);
      return;
    }
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const headers = {
      ...(connection.value.headers as Record<string, string> | undefined),
      ...(payload === undefined ? {} : { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(payload)) }),
    };
    const onResponse = (response: IncomingMessage): void => {
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
    };
    let req: ReturnType<typeof request>;
    try {
      req = request({ ...connection.value, method, headers, timeout: timeoutMs }, onResponse);
    } catch (error) {
      // Node refuses some options (a header character, a port out of range) synchronously.
      resolve(err(fail(StatusCode.INVALID_ARGUMENT, `cannot call ${nameOf(target)}: ${messageOf(error)}`, { source: SOURCE, op: 'connect' })));
      return;
    }
    req.on('timeout', () => {
      req.destroy();
      resolve(err(fail(StatusCode.TIMEOUT, `vwatchd did not answer within ${timeoutMs} ms`, { op: path })));
    });
    req.on('error', (error) => resolve(err(classifyErrno(error, `connect ${nameOf(target)}`, SOURCE))));
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
async function callPatiently<T>(target: DaemonTarget, method: 'GET' | 'POST', path: string, body?: unknown): Promise<Result<T>> {
  for (let attempt = 0; ; attempt += 1) {
    const result = await callDaemon<T>(target, method, path, body);
    const wait = result.ok ? undefined : result.status.retryable ? result.status.retryAfterMs : undefined;
    if (wait === undefined || attempt >= BUSY_RETRIES) return result;
    await new Promise((resolve) => setTimeout(resolve, Math.min(Math.max(wait, 0), MAX_RETRY_WAIT_MS)));
  }
}

/** A StoreReader over a running daemon's socket or TCP listener, which can also ask for the daemon's status. */
export interface DaemonClient extends StoreReader {
  /** The socket path, or the URL, it talks to (never the token). */
  readonly socket: string;
  /** The daemon's status. */
  status(): Promise<Result<DaemonStatus>>;
  /** What a slice holds: the daemon's store answers, or UNSUPPORTED when it cannot export. */
  slicePlan(request: SlicePlanRequest): Promise<Result<SlicePlan>>;
  /** One page of a slice part. */
  slice(request: SliceRequest): Promise<Result<SlicePage>>;
}

/**
 * A client of the daemon listening on `target`: a socket path, or `{ url, token }` for its TCP
 * listener. It holds no connection between calls, so closing it only stops further calls.
 */
export function createDaemonClient(target: DaemonTarget): DaemonClient {
  // A copy, so a caller's later change to the object cannot redirect the token.
  const to: DaemonTarget = typeof target === 'string' ? target : { url: target.url, token: target.token };
  let closed = false;
  const open = <T>(op: string, call: () => Promise<Result<T>>): Promise<Result<T>> =>
    closed ? Promise.resolve(err(fail(StatusCode.UNAVAILABLE, 'the daemon client is closed', { source: SOURCE, op }))) : call();
  const status = (): Promise<Result<DaemonStatus>> => open('status', () => callDaemon<DaemonStatus>(to, 'GET', ApiRoute.STATUS));
  return {
    socket: nameOf(to),
    status,
    query: (body: QueryRequest) => open('query', () => callPatiently<QueryResult>(to, 'POST', ApiRoute.QUERY, body)),
    samples: (body: SamplesRequest) => open('samples', () => callPatiently<Samples>(to, 'POST', ApiRoute.SAMPLES, body)),
    states: (body: StatesRequest) => open('states', () => callPatiently<QueryResult>(to, 'POST', ApiRoute.STATES, body)),
    versions: (body: VersionsRequest) => open('versions', () => callPatiently<QueryResult>(to, 'POST', ApiRoute.VERSIONS, body)),
    slicePlan: (body: SlicePlanRequest) => open('slice plan', () => callPatiently<SlicePlan>(to, 'POST', ApiRoute.SLICE_PLAN, body)),
    slice: (body: SliceRequest) => open('slice', () => callPatiently<SlicePage>(to, 'POST', ApiRoute.SLICE, body)),
    tables: () =>
      open('list tables', async () => {
        const result = await callPatiently<{ tables: StoredTable[] }>(to, 'GET', ApiRoute.TABLES);
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

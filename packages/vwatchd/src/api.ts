/**
 * The daemon's local API: HTTP over a Unix socket (mode 0660, never world-writable) and, when
 * the config turns it on, over TCP with a bearer token, both served by one request handler:
 * health, status, the table catalogue, read-only queries, the samples, states and versions
 * questions every store answers, and slices (a plan, then pages) for `virtualeyes export`. Request bodies are size-limited and validated; every failure
 * answers `{ "status": Status }` with a matching HTTP status.
 */
import { chmodSync, unlinkSync } from 'node:fs';
import { createConnection, type AddressInfo } from 'node:net';
import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';
import {
  ApiRoute,
  httpStatusOf,
  QUERY_REQUEST_SCHEMA,
  SAMPLES_REQUEST_SCHEMA,
  SLICE_PLAN_REQUEST_SCHEMA,
  SLICE_REQUEST_SCHEMA,
  STATES_REQUEST_SCHEMA,
  VERSIONS_REQUEST_SCHEMA,
  type DaemonStatus,
} from '@virtualeyes/protocol';
import {
  classifyErrno,
  createOptionsValidator,
  err,
  errnoOf,
  fail,
  isStatus,
  messageOf,
  ok,
  OK,
  StatusCode,
  type Cell,
  type Logger,
  type QueryRequest,
  type Result,
  type SamplesRequest,
  type SlicePlanRequest,
  type SliceRequest,
  type StatesRequest,
  type Status,
  type StoreReader,
  type VersionsRequest,
} from '@virtualeyes/core';
import type { ApiToken } from './token.js';

/** Largest request body accepted, bytes. */
export const MAX_BODY_BYTES = 1024 * 1024;

/**
 * How much of an oversized body is still read (and discarded) after the refusal was sent, so
 * the client finishes sending and reads the JSON error instead of a reset; past it, the
 * connection is cut.
 */
const MAX_DISCARD_BYTES = 64 * 1024 * 1024;

/** Socket permissions: owner and group may connect, others may not. */
export const SOCKET_MODE = 0o660;

/** HTTP status of a TCP request without the right bearer token. */
export const HTTP_UNAUTHORIZED = 401;

/** The challenge a refused TCP request gets (RFC 6750). */
const BEARER_CHALLENGE = 'Bearer realm="vwatchd"';

/** What the API serves from. */
export interface ApiDeps {
  /** The store to query, if any sink offers one. */
  readonly reader: () => StoreReader | undefined;
  /** True while the daemon is still opening its sinks. */
  readonly starting: () => boolean;
  /** The daemon status snapshot (store facts filled in by the server). */
  readonly status: () => Omit<DaemonStatus, 'store'>;
  /** Daemon logger. */
  readonly logger: Logger;
  /** Daemon version. */
  readonly version: string;
  /** Told the number of requests in flight (both listeners together) each time it changes. */
  readonly requests?: (inFlight: number) => void;
}

/** The TCP listener opened beside the socket: where it binds, and the token every request must carry. */
export interface TcpListenOptions {
  /** Address to bind (the config has already refused a remote one unless allowed). */
  readonly host: string;
  /** Port to bind; 0 lets the kernel pick one, read back from {@link ApiServer.tcp}. */
  readonly port: number;
  /** The bearer token requests are compared against. */
  readonly token: ApiToken;
}

/** A listening API server. */
export interface ApiServer {
  /** `host:port` the TCP listener is bound to (`[::1]:port` for IPv6), or undefined when there is none. */
  readonly tcp: string | undefined;
  /** Stops accepting connections on both listeners, cuts open ones (a running query's client included) and removes the socket file. */
  close(): Promise<void>;
}

/**
 * Listens on `socketPath`, and on TCP when `tcp` is given; refuses when another daemon answers
 * on the socket, replaces a stale socket. Nothing is left listening when either listener
 * fails: a daemon serving half its configured API would hide the mistake.
 */
export async function startApiServer(socketPath: string, deps: ApiDeps, tcp?: TcpListenOptions): Promise<Result<ApiServer>> {
  if (await socketAnswers(socketPath)) {
    return err(fail(StatusCode.UNAVAILABLE, `another vwatchd is already serving ${socketPath}`, { source: 'vwatchd', op: 'listen', retryable: false }));
  }
  try {
    unlinkSync(socketPath);
  } catch {
    // No stale socket to remove.
  }
  const serve = createRequestHandler(deps);
  const server = configure(createServer(serve));
  // The socket is created 0660 (umask) and chmod-ed again below; its folder is 0750 as well.
  const previous = process.umask(0o117);
  const listening = await new Promise<Status>((resolve) => {
    server.once('error', (error) => resolve(classifyErrno(error, `listen ${socketPath}`, 'vwatchd')));
    server.listen(socketPath, () => resolve(OK));
  });
  process.umask(previous);
  if (listening.code !== StatusCode.OK) return err(listening);
  const closeSocket = (): Promise<void> => closeServer(server, () => removeSocket(socketPath));
  try {
    chmodSync(socketPath, SOCKET_MODE);
  } catch (error) {
    await closeSocket();
    return err(classifyErrno(error, `chmod ${socketPath}`, 'vwatchd'));
  }
  if (tcp === undefined) return ok({ tcp: undefined, close: closeSocket });
  const network = configure(createServer(requireBearer(tcp.token, serve)));
  const bound = await listenTcp(network, tcp.host, tcp.port);
  if (!bound.ok) {
    await closeSocket();
    return bound;
  }
  return ok({
    tcp: bound.value,
    close: async () => {
      await Promise.all([closeSocket(), closeServer(network)]);
    },
  });
}

/** The limits both listeners share. */
function configure(server: Server): Server {
  server.keepAliveTimeout = 5000;
  server.requestTimeout = 10 * 60 * 1000;
  return server;
}

/** Stops `server`, cutting its open connections, then runs `after`. */
function closeServer(server: Server, after?: () => void): Promise<void> {
  return new Promise<void>((resolve) => {
    server.close(() => resolve());
    // A client waiting for a long query must not hold the shutdown: its query is interrupted
    // when the store closes, and the client sees the connection end.
    server.closeAllConnections();
    after?.();
  });
}

function removeSocket(socketPath: string): void {
  try {
    unlinkSync(socketPath);
  } catch {
    // Already gone.
  }
}

/** Binds `server` to `host:port`; the bound address as `host:port`, or a Status naming the address and what to change. */
function listenTcp(server: Server, host: string, port: number): Promise<Result<string>> {
  const where = `${host.includes(':') ? `[${host}]` : host}:${port}`;
  return new Promise((resolve) => {
    server.once('error', (error) => {
      const errno = errnoOf(error);
      const refuse = (code: StatusCode, why: string): Status => fail(code, `cannot listen on ${where}: ${why}`, { source: 'vwatchd', op: 'listen', retryable: false, cause: error });
      if (errno === 'EADDRINUSE') resolve(err(refuse(StatusCode.UNAVAILABLE, 'the port is in use; choose another api.tcp.port')));
      else if (errno === 'EADDRNOTAVAIL' || errno === 'ENOTFOUND' || errno === 'EAI_AGAIN') {
        resolve(err(refuse(StatusCode.INVALID_CONFIG, `${host} is not an address of this machine; fix api.tcp.host`)));
      } else resolve(err(refuse(classifyErrno(error, 'listen').code, messageOf(error))));
    });
    server.listen({ host, port }, () => {
      const address = server.address() as AddressInfo;
      resolve(ok(address.family === 'IPv6' ? `[${address.address}]:${address.port}` : `${address.address}:${address.port}`));
    });
  });
}

/**
 * Lets through only requests with `Authorization: Bearer <token>`; the others get 401 with a
 * challenge and a Status that says what is missing, never anything about the token. Bodies of
 * refused requests are not read, and their connection is closed.
 */
function requireBearer(token: ApiToken, serve: RequestListener): RequestListener {
  return (request, response) => {
    const header = request.headers.authorization;
    const presented = header === undefined ? undefined : /^Bearer +(\S+) *$/i.exec(header)?.[1];
    if (presented !== undefined && token.matches(presented)) {
      serve(request, response);
      return;
    }
    const status =
      header === undefined
        ? fail(StatusCode.PERMISSION_DENIED, 'this listener needs an "Authorization: Bearer <token>" header, with the token from the daemon\'s api.tcp.tokenFile', { source: 'vwatchd', op: 'authorize' })
        : fail(StatusCode.PERMISSION_DENIED, 'the bearer token was not accepted', { source: 'vwatchd', op: 'authorize' });
    const challenge = header === undefined ? BEARER_CHALLENGE : `${BEARER_CHALLENGE}, error="invalid_token"`;
    send(response, HTTP_UNAUTHORIZED, { status }, { 'www-authenticate': challenge, connection: 'close' });
  };
}

/** The one request handler of both listeners: counts requests in flight and answers each. */
function createRequestHandler(deps: ApiDeps): RequestListener {
  const validator = createOptionsValidator();
  let inFlight = 0;
  return (request, response) => {
    inFlight += 1;
    deps.requests?.(inFlight);
    response.once('close', () => {
      inFlight -= 1;
      deps.requests?.(inFlight);
    });
    void handle(request, response, deps, validator).catch((error: unknown) => {
      deps.logger.error(`API request failed: ${messageOf(error)}`);
      send(response, httpStatusOf(StatusCode.INTERNAL), { status: fail(StatusCode.INTERNAL, 'internal error') });
    });
  };
}

async function handle(
  request: IncomingMessage,
  response: ServerResponse,
  deps: ApiDeps,
  validator: ReturnType<typeof createOptionsValidator>,
): Promise<void> {
  const route = (request.url ?? '').split('?')[0];
  const method = request.method ?? 'GET';
  const reject = (status: Status, code = httpStatusOf(status.code)): void => {
    // A retryable refusal (the query queue is full) says when to come back.
    const headers: Record<string, string> = {};
    if (status.retryAfterMs !== undefined) headers['retry-after'] = String(Math.max(1, Math.ceil(status.retryAfterMs / 1000)));
    if (code === HTTP_PAYLOAD_TOO_LARGE) headers.connection = 'close';
    send(response, code, { status: publicStatus(status) }, headers);
  };

  if (route === ApiRoute.HEALTH && method === 'GET') {
    send(response, 200, { ok: true, pid: process.pid, version: deps.version });
    return;
  }
  if (route === ApiRoute.STATUS && method === 'GET') {
    const reader = deps.reader();
    const info = reader === undefined ? undefined : await reader.info();
    const body: DaemonStatus = { ...deps.status(), store: info?.ok === true ? info.value : null };
    send(response, 200, body);
    return;
  }
  if (route === ApiRoute.TABLES && method === 'GET') {
    const reader = deps.reader();
    if (reader === undefined) return reject(noStore(deps.starting()));
    const tables = await reader.tables();
    if (!tables.ok) return reject(tables.status);
    send(response, 200, { tables: tables.value });
    return;
  }
  if (method === 'POST' && (route === ApiRoute.SLICE_PLAN || route === ApiRoute.SLICE)) {
    await handleSlice(route, request, response, deps, validator, reject);
    return;
  }
  if (method === 'POST' && (route === ApiRoute.QUERY || route === ApiRoute.SAMPLES || route === ApiRoute.STATES || route === ApiRoute.VERSIONS)) {
    const op = route === ApiRoute.QUERY ? 'query' : route === ApiRoute.SAMPLES ? 'samples' : route === ApiRoute.STATES ? 'states' : 'versions';
    const body = await readJson(request);
    if (!body.ok) return reject(body.status, body.status.op === TOO_LARGE_OP ? HTTP_PAYLOAD_TOO_LARGE : undefined);
    const reader = (): StoreReader | Status => deps.reader() ?? noStore(deps.starting());
    const started = performance.now();
    const answered = (ok: boolean): void => deps.logger.debug('Query answered', { op, ms: Math.round(performance.now() - started), ok });
    if (route === ApiRoute.SAMPLES) {
      const asked = validator.validate<SamplesRequest>(SAMPLES_REQUEST_SCHEMA, body.value, '$');
      if (!asked.ok) return reject(fail(StatusCode.INVALID_ARGUMENT, asked.status.message, { op }));
      const store = reader();
      if (isStatus(store)) return reject(store);
      const result = await store.samples(asked.value);
      answered(result.ok);
      if (!result.ok) return reject(result.status);
      await sendResults(response, { current: result.value.current, previous: result.value.previous });
      return;
    }
    const schema = route === ApiRoute.QUERY ? QUERY_REQUEST_SCHEMA : route === ApiRoute.STATES ? STATES_REQUEST_SCHEMA : VERSIONS_REQUEST_SCHEMA;
    const asked = validator.validate<QueryRequest & StatesRequest & VersionsRequest>(schema, body.value, '$');
    if (!asked.ok) return reject(fail(StatusCode.INVALID_ARGUMENT, asked.status.message, { op }));
    const store = reader();
    if (isStatus(store)) return reject(store);
    const result =
      route === ApiRoute.QUERY ? await store.query(asked.value) : route === ApiRoute.STATES ? await store.states(asked.value) : await store.versions(asked.value);
    answered(result.ok);
    if (!result.ok) return reject(result.status);
    await sendResults(response, { result: result.value });
    return;
  }
  const known = (Object.values(ApiRoute) as string[]).includes(route ?? '');
  reject(
    known
      ? fail(StatusCode.INVALID_ARGUMENT, `${method} is not allowed on ${route ?? ''}`, { op: 'route' })
      : fail(StatusCode.NOT_FOUND, `no such endpoint: ${route ?? ''}`, { op: 'route' }),
  );
}

/**
 * A slice's plan or one of its pages. The daemon only reads: the client writes the files. A page
 * is at most the store's maxRows rows and ends early at about its maxResultBytes, so a big slice
 * is many small answers, each streamed like a query result.
 */
async function handleSlice(
  route: string,
  request: IncomingMessage,
  response: ServerResponse,
  deps: ApiDeps,
  validator: ReturnType<typeof createOptionsValidator>,
  reject: (status: Status, code?: number) => void,
): Promise<void> {
  const plan = route === ApiRoute.SLICE_PLAN;
  const op = plan ? 'slice plan' : 'slice';
  const body = await readJson(request);
  if (!body.ok) return reject(body.status, body.status.op === TOO_LARGE_OP ? HTTP_PAYLOAD_TOO_LARGE : undefined);
  const asked = validator.validate<SlicePlanRequest & SliceRequest>(plan ? SLICE_PLAN_REQUEST_SCHEMA : SLICE_REQUEST_SCHEMA, body.value, '$');
  if (!asked.ok) return reject(fail(StatusCode.INVALID_ARGUMENT, asked.status.message, { op }));
  const store = deps.reader();
  if (store === undefined) return reject(noStore(deps.starting()));
  if (store.slicePlan === undefined || store.slice === undefined) return reject(fail(StatusCode.UNSUPPORTED, 'the running store cannot export slices', { op }));
  const started = performance.now();
  if (plan) {
    const planned = await store.slicePlan(asked.value);
    deps.logger.debug('Query answered', { op, ms: Math.round(performance.now() - started), ok: planned.ok });
    if (!planned.ok) return reject(planned.status);
    send(response, 200, planned.value);
    return;
  }
  const page = await store.slice(asked.value);
  deps.logger.debug('Query answered', { op, ms: Math.round(performance.now() - started), ok: page.ok });
  if (!page.ok) return reject(page.status);
  await sendResults(response, { result: page.value });
}

function noStore(starting: boolean): Status {
  return starting
    ? fail(StatusCode.UNAVAILABLE, 'vwatchd is still starting (opening its store); try again in a moment', { op: 'query' })
    : fail(StatusCode.UNAVAILABLE, 'no queryable store is running (is a store sink configured and started?)', { op: 'query' });
}

/** A Status without its `cause` (which may hold library internals) for sending to clients. */
function publicStatus(status: Status): Omit<Status, 'cause'> {
  const { cause: _cause, ...rest } = status;
  return rest;
}

/** The `op` of the status refusing an oversized body (answered 413). */
const TOO_LARGE_OP = 'read request';
const HTTP_PAYLOAD_TOO_LARGE = 413;

function readJson(request: IncomingMessage): Promise<Result<unknown>> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (result: Result<unknown>): void => {
      if (done) return;
      done = true;
      resolve(result);
    };
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (done) {
        // Refused already: discard the rest, up to a bound, so the client can read the answer.
        if (size > MAX_BODY_BYTES + MAX_DISCARD_BYTES) request.socket.destroy();
        return;
      }
      if (size > MAX_BODY_BYTES) {
        chunks.length = 0;
        finish(err(fail(StatusCode.INVALID_ARGUMENT, `request body over ${MAX_BODY_BYTES} bytes`, { op: TOO_LARGE_OP })));
        return;
      }
      chunks.push(chunk);
    });
    request.on('error', (error) => finish(err(classifyErrno(error, 'read request', 'vwatchd'))));
    request.on('end', () => {
      if (done) return;
      try {
        finish(ok(JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown));
      } catch (error) {
        finish(err(fail(StatusCode.INVALID_ARGUMENT, `request body is not JSON: ${messageOf(error)}`, { op: 'query' })));
      }
    });
  });
}

/** An answer holding rows (a QueryResult, a slice page): its other fields go first, then the rows. */
interface RowsAnswer {
  readonly rows: readonly (readonly Cell[])[];
}

/** Rows serialized per piece of a streamed query answer. */
const ROWS_PER_PIECE = 1000;

/**
 * Writes query answers as JSON, but piece by piece, waiting for the socket to drain: one JSON
 * string of a 16 MiB result (and the buffer it is built in) would double the heap the rows
 * already take. `{ result }` is sent as the bare answer; several results (the two of a
 * samples answer) as an object with one field per result.
 */
async function sendResults(response: ServerResponse, results: Readonly<Record<string, RowsAnswer>>): Promise<void> {
  if (response.headersSent) return;
  response.writeHead(200, { 'content-type': 'application/json' });
  const write = (text: string): Promise<void> =>
    response.write(text) ? Promise.resolve() : new Promise((resolve) => {
      const done = (): void => {
        response.off('drain', done);
        response.off('close', done);
        resolve();
      };
      response.once('drain', done);
      response.once('close', done);
    });
  const writeResult = async (result: RowsAnswer): Promise<void> => {
    const { rows, ...rest } = result;
    const head = JSON.stringify(rest);
    // `rest` is a non-empty object: its JSON ends with `}`, and the rows go in as the last field.
    await write(`${head.slice(0, -1)},"rows":[`);
    for (let start = 0; start < rows.length && !response.destroyed; start += ROWS_PER_PIECE) {
      const piece = JSON.stringify(rows.slice(start, start + ROWS_PER_PIECE));
      await write(`${start === 0 ? '' : ','}${piece.slice(1, -1)}`);
    }
    await write(']}');
  };
  const entries = Object.entries(results);
  if (entries.length === 1 && entries[0]![0] === 'result') {
    await writeResult(entries[0]![1]);
  } else {
    for (const [index, [name, result]] of entries.entries()) {
      await write(`${index === 0 ? '{' : ','}${JSON.stringify(name)}:`);
      await writeResult(result);
    }
    await write('}');
  }
  response.end();
}

function send(response: ServerResponse, code: number, body: unknown, headers: Record<string, string> = {}): void {
  if (response.headersSent) return;
  const text = JSON.stringify(body);
  response.writeHead(code, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  response.end(text);
}

/** True when something accepts connections on the socket. */
export function socketAnswers(path: string, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection(path);
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(false);
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.end();
      resolve(true);
    });
    socket.once('error', () => {
      clearTimeout(timer);
      resolve(false);
    });
  });
}

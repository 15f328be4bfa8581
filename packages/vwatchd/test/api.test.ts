// The local API's edges, over a real Unix socket with a real DuckDB store behind it:
// routes, methods, malformed and oversized bodies, request validation, the status-to-HTTP
// mapping, a second daemon on the same socket, and the "still starting" answer.
import { request } from 'node:http';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFileReader, createHooks, createLogger, createSystemClock, type PluginDeps, type Sink } from '@virtualeyes/core';
import { createSink, parseConfig } from '@virtualeyes/sink-duckdb';
import { MAX_BODY_BYTES, startApiServer, type ApiServer } from '../src/index.js';

interface Reply {
  status: number;
  body: unknown;
}

function call(socket: string, method: string, path: string, body?: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: socket, method, path, headers: body === undefined ? {} : { 'content-type': 'application/json' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown }));
    });
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

describe('local API', () => {
  const dir = mkdtempSync(join(tmpdir(), 've-api-'));
  const socket = join(dir, 'vwatchd.sock');
  const logger = createLogger({ level: 'silent' });
  const deps: PluginDeps = { name: 'duckdb', clock: createSystemClock(), logger, files: createFileReader(), hooks: createHooks(), host: 'api-test', dataDir: dir, platform: process.platform };
  let sink: Sink;
  let server: ApiServer;
  let starting = true;
  const inFlight: number[] = [];

  beforeAll(async () => {
    const options = parseConfig({});
    if (!options.ok) throw new Error(options.status.message);
    const created = createSink(options.value, deps);
    if (!created.ok) throw new Error(created.status.message);
    sink = created.value;
    const listening = await startApiServer(socket, {
      reader: () => (starting ? undefined : sink.reader?.()),
      starting: () => starting,
      logger,
      version: '9.9.9',
      status: () => ({ version: '9.9.9', pid: process.pid, configSource: 'test', dataDir: dir, socket, agent: {} as never }),
      requests: (count) => inFlight.push(count),
    });
    if (!listening.ok) throw new Error(listening.status.message);
    server = listening.value;
  });

  afterAll(async () => {
    await server.close();
    await sink.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers "still starting" before the store is open, then queries once it is', async () => {
    const early = await call(socket, 'POST', '/v1/query', JSON.stringify({ sql: 'select 1 as one' }));
    expect(early.status).toBe(503);
    expect(early.body).toMatchObject({ status: { code: 'UNAVAILABLE', message: expect.stringContaining('still starting') } });
    expect((await sink.start({ tables: [] })).code).toBe('OK');
    starting = false;
    const ready = await call(socket, 'POST', '/v1/query', JSON.stringify({ sql: 'select 1 as one' }));
    expect(ready).toMatchObject({ status: 200, body: { columns: [{ name: 'one', type: 'INTEGER' }], rows: [[1]], truncated: false } });
  });

  it('tells the daemon how many requests are in flight, down to none once all are answered', async () => {
    inFlight.length = 0;
    // A query whose body is still being sent stays in flight while a health check comes and goes.
    const pending = new Promise<number>((resolve, reject) => {
      const held = request({ socketPath: socket, method: 'POST', path: '/v1/query', headers: { 'content-type': 'application/json' } }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      held.on('error', reject);
      held.write('{"sql": ');
      const finish = (): void => {
        if (inFlight.includes(1)) {
          void call(socket, 'GET', '/v1/health').then(() => held.end('"select 2 as two"}'));
        } else setTimeout(finish, 10);
      };
      finish();
    });
    expect(await pending).toBe(200);
    expect(inFlight.slice(0, 3)).toEqual([1, 2, 1]);
    expect(inFlight.at(-1)).toBe(0);
  });

  it('streams a result of several pieces as one JSON document', async () => {
    const reply = await call(socket, 'POST', '/v1/query', JSON.stringify({ sql: "select range as n, 'r' || range as s from range(2500)" }));
    expect(reply.status).toBe(200);
    const body = reply.body as { columns: { name: string }[]; rows: unknown[][]; truncated: boolean; maxRows: number };
    expect(body.columns.map((column) => column.name)).toEqual(['n', 's']);
    expect(body.rows).toHaveLength(2500);
    expect(body.rows.map(([n]) => n)).toEqual(Array.from({ length: 2500 }, (_, index) => index));
    expect(body.rows[2499]).toEqual([2499, 'r2499']);
    expect(body).toMatchObject({ truncated: false, maxRows: 100_000 });
    const empty = await call(socket, 'POST', '/v1/query', JSON.stringify({ sql: 'select 1 as one where false' }));
    expect(empty).toMatchObject({ status: 200, body: { rows: [], truncated: false } });
  });

  it('creates the socket with mode 0660', () => {
    expect(statSync(socket).mode & 0o777).toBe(0o660);
  });

  it.each([
    ['GET', '/v1/nope', undefined, 404, 'NOT_FOUND', 'no such endpoint: /v1/nope'],
    ['DELETE', '/v1/query', undefined, 400, 'INVALID_ARGUMENT', 'DELETE is not allowed on /v1/query'],
    ['POST', '/v1/query', '{"sql": ', 400, 'INVALID_ARGUMENT', 'request body is not JSON'],
    ['POST', '/v1/query', '{"sql": "select 1", "at": "yesterday"}', 400, 'INVALID_ARGUMENT', '$.at: must be number'],
    ['POST', '/v1/query', '{"query": "select 1"}', 400, 'INVALID_ARGUMENT', '$.sql: is required'],
    ['POST', '/v1/query', '{"sql": "drop table x"}', 400, 'INVALID_ARGUMENT', 'only one read-only SELECT statement is allowed'],
    ['POST', '/v1/query', '{"sql": "select * from no_such_table"}', 400, 'INVALID_ARGUMENT', 'no_such_table'],
  ])('%s %s %s → %i %s', async (method, path, body, http, code, message) => {
    const reply = await call(socket, method, path, body);
    expect(reply.status).toBe(http);
    const status = (reply.body as { status: { code: string; message: string; cause?: unknown } }).status;
    expect(status.code).toBe(code);
    expect(status.message).toContain(message);
    expect(status.cause).toBeUndefined();
  });

  it.each([
    ['just over the limit', MAX_BODY_BYTES + 100],
    ['20 times the limit', 20 * MAX_BODY_BYTES],
  ])('refuses a body %s with a JSON 413, not a reset', async (_name, bytes) => {
    const big = JSON.stringify({ sql: `select '${'x'.repeat(bytes)}'` });
    const reply = await call(socket, 'POST', '/v1/query', big);
    expect(reply).toMatchObject({ status: 413, body: { status: { code: 'INVALID_ARGUMENT', message: `request body over ${MAX_BODY_BYTES} bytes` } } });
    const after = await call(socket, 'GET', '/v1/health');
    expect(after).toMatchObject({ status: 200, body: { ok: true, version: '9.9.9' } });
  });

  it('answers the status and tables endpoints', async () => {
    const status = await call(socket, 'GET', '/v1/status');
    expect(status).toMatchObject({ status: 200, body: { version: '9.9.9', pid: process.pid, store: { path: join(dir, 'vwatchd.db') } } });
    const tables = await call(socket, 'GET', '/v1/tables');
    expect(tables).toMatchObject({ status: 200, body: { tables: [] } });
  });

  it('refuses to serve a socket another server already answers on', async () => {
    const second = await startApiServer(socket, {
      reader: () => undefined,
      starting: () => false,
      logger,
      version: '0',
      status: () => ({}) as never,
    });
    expect(second.ok ? 'started' : second.status.message).toBe(`another vwatchd is already serving ${socket}`);
    expect((await call(socket, 'GET', '/v1/health')).status).toBe(200);
  });
});

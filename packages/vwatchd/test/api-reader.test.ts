// The reader questions over the socket: protocol's daemon client asks a real API server with
// a real DuckDB store behind it for samples, states and versions, and gets what the store's own reader
// answers; requests the schema does not allow, and tables the store does not hold or holds as
// another kind, are refused with INVALID_ARGUMENT before or by the store.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFileReader, createHooks, createLogger, createSystemClock, type PluginDeps, type QueryResult, type Sink, type StoreReader } from '@virtualeyes/core';
import { CONTRACT_TABLES } from '@virtualeyes/core/testing';
import { callDaemon, createDaemonClient, type DaemonClient } from '@virtualeyes/protocol';
import { createSink, parseConfig } from '@virtualeyes/sink-duckdb';
import { startApiServer, type ApiServer } from '../src/index.js';

/** A result without its timing, which differs between two askings. */
const rowsOf = (result: QueryResult): Pick<QueryResult, 'columns' | 'rows' | 'truncated'> => ({ columns: result.columns, rows: result.rows, truncated: result.truncated });

describe('samples and states over the socket', () => {
  const dir = mkdtempSync(join(tmpdir(), 've-api-reader-'));
  const socket = join(dir, 'vwatchd.sock');
  const logger = createLogger({ level: 'silent' });
  const deps: PluginDeps = { name: 'duckdb', clock: createSystemClock(), logger, files: createFileReader(), hooks: createHooks(), host: 'api-test', dataDir: dir, platform: process.platform };
  const t0 = Date.now() - 60_000;
  let sink: Sink;
  let store: StoreReader;
  let server: ApiServer;
  let client: DaemonClient;

  beforeAll(async () => {
    const options = parseConfig({});
    if (!options.ok) throw new Error(options.status.message);
    const created = createSink(options.value, deps);
    if (!created.ok) throw new Error(created.status.message);
    sink = created.value;
    expect((await sink.start({ tables: CONTRACT_TABLES })).code).toBe('OK');
    const written = await sink.write([
      { table: 'contract_metric', ts: t0, snapshot: true, rows: [{ id: 1, value: 1, total: 10 }, { id: 2, value: 2, total: 20 }] },
      { table: 'contract_metric', ts: t0 + 1000, snapshot: true, rows: [{ id: 1, value: 3, total: 30 }, { id: 2, value: 4, total: 40 }] },
      { table: 'contract_state', ts: t0, snapshot: true, rows: [{ id: 1, label: 'a', tags: null, seen: null, flag: true }] },
    ]);
    expect(written.status.code).toBe('OK');
    store = sink.reader!()!;
    const listening = await startApiServer(socket, {
      reader: () => store,
      starting: () => false,
      logger,
      version: '9.9.9',
      status: () => ({ version: '9.9.9', pid: process.pid, configSource: 'test', dataDir: dir, socket, agent: {} as never }),
    });
    if (!listening.ok) throw new Error(listening.status.message);
    server = listening.value;
    client = createDaemonClient(socket);
  });

  afterAll(async () => {
    await client.close();
    await server.close();
    await sink.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers samples as the store does: the last sample and the one before it', async () => {
    const request = { table: 'contract_metric', at: t0 + 1500, stalenessMs: 60_000 };
    const [remote, local] = await Promise.all([client.samples(request), store.samples(request)]);
    expect(remote.ok && local.ok).toBe(true);
    if (!remote.ok || !local.ok) return;
    expect(rowsOf(remote.value.current)).toEqual(rowsOf(local.value.current));
    expect(rowsOf(remote.value.previous)).toEqual(rowsOf(local.value.previous));
    expect(remote.value.current.rows).toHaveLength(2);
    expect(remote.value.previous.rows).toHaveLength(2);
  });

  it('answers states as the store does, for one host or all', async () => {
    for (const request of [{ table: 'contract_state', at: t0 + 1 }, { table: 'contract_state', at: t0 + 1, host: 'api-test' }, { table: 'contract_state', at: t0 + 1, host: 'other' }]) {
      const [remote, local] = await Promise.all([client.states(request), store.states(request)]);
      expect(remote.ok && local.ok).toBe(true);
      if (remote.ok && local.ok) expect(rowsOf(remote.value)).toEqual(rowsOf(local.value));
    }
    const other = await client.states({ table: 'contract_state', at: t0 + 1, host: 'other' });
    expect(other.ok && other.value.rows).toEqual([]);
  });

  it('answers versions as the store does', async () => {
    const request = { table: 'contract_state', from: t0 - 1000, to: t0 + 1000 };
    const [remote, local] = await Promise.all([client.versions(request), store.versions(request)]);
    expect(remote.ok && local.ok).toBe(true);
    if (remote.ok && local.ok) expect(rowsOf(remote.value)).toEqual(rowsOf(local.value));
    const refused = await callDaemon<unknown>(socket, 'POST', '/v1/versions', { table: 'contract_state', from: t0 });
    expect(refused.ok ? '' : refused.status.message).toContain('$.to');
  });

  it.each([
    ['a table name that is not an identifier', { table: `x"; DROP TABLE history.contract_state; --`, at: t0 }, '$.table'],
    ['an unknown field', { table: 'contract_metric', at: t0, sql: 'select 1' }, '$.sql'],
    ['a missing instant', { table: 'contract_metric' }, '$.at'],
    ['a negative staleness', { table: 'contract_metric', at: t0, stalenessMs: -1 }, '$.stalenessMs'],
  ])('refuses %s before the store sees it', async (_what, body, path) => {
    const refused = await callDaemon<unknown>(socket, 'POST', '/v1/samples', body);
    expect(refused.ok).toBe(false);
    if (!refused.ok) {
      expect(refused.status.code).toBe('INVALID_ARGUMENT');
      expect(refused.status.message).toContain(path);
    }
  });

  it('passes on the store refusing a table of the wrong kind or one it does not hold', async () => {
    for (const refused of [await client.samples({ table: 'contract_state', at: t0 }), await client.states({ table: 'contract_metric', at: t0 }), await client.states({ table: 'nope', at: t0 })]) {
      expect(refused.ok ? 'OK' : refused.status.code).toBe('INVALID_ARGUMENT');
    }
    // Nothing was dropped by the hostile name above.
    const states = await client.states({ table: 'contract_state', at: t0 + 1 });
    expect(states.ok && states.value.rows).toHaveLength(1);
  });

  it('says the client is closed once it is', async () => {
    const closed = createDaemonClient(socket);
    await closed.close();
    const answer = await closed.states({ table: 'contract_state', at: t0 });
    expect(answer.ok ? 'OK' : answer.status.code).toBe('UNAVAILABLE');
  });
});

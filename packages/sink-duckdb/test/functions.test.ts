// Every function of the installed DuckDB has a decision: allowed or refused, never both, never
// neither (after a DuckDB upgrade this names the new ones). Each refused function really is
// refused by the gate, as a table function and as a call, and every allowed name passes it.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { ALLOWED_FUNCTIONS, ALLOWED_TABLE_FUNCTIONS, checkQuery, parseConfig, REFUSED_FUNCTIONS } from '../src/index.js';
import { AccessMode, openInstance } from '../src/store.js';
import { useTempDir } from './helpers.js';

const newPath = useTempDir('sink-duckdb-functions-');
let instance: DuckDBInstance;
let connection: DuckDBConnection;
/** function_name -> its function_type values, as the store's own instance reports them. */
const installed = new Map<string, Set<string>>();

beforeAll(async () => {
  const path = newPath();
  mkdirSync(dirname(path), { recursive: true });
  const config = parseConfig({ path });
  if (!config.ok) expect.fail(config.status.message);
  const opened = await openInstance(path, config.value, AccessMode.READ_WRITE);
  if (!opened.ok) expect.fail(opened.status.message);
  instance = opened.value;
  connection = await instance.connect();
  const reader = await connection.runAndReadAll('SELECT DISTINCT function_name, function_type FROM duckdb_functions()');
  for (const [name, type] of reader.getRowsJS()) {
    const types = installed.get(String(name)) ?? new Set<string>();
    types.add(String(type));
    installed.set(String(name), types);
  }
});

afterAll(() => {
  connection.disconnectSync();
  instance.closeSync();
});

const quoted = (name: string): string => `"${name.replace(/"/g, '""')}"`;

describe('function decisions', () => {
  it('decides every installed function exactly once', () => {
    const allowed = new Set(ALLOWED_FUNCTIONS);
    const refused = new Set(REFUSED_FUNCTIONS);
    expect(installed.size).toBeGreaterThan(500);
    const undecided = [...installed.keys()].filter((name) => !allowed.has(name) && !refused.has(name)).sort();
    expect(undecided, `undecided functions (add each to ALLOWED_FUNCTIONS or REFUSED_FUNCTIONS in src/functions.ts): ${undecided.join(' ')}`).toEqual([]);
    expect([...allowed].filter((name) => refused.has(name))).toEqual([]);
    expect(ALLOWED_FUNCTIONS).toHaveLength(allowed.size);
    expect(REFUSED_FUNCTIONS).toHaveLength(refused.size);
  });

  it('lists only installed functions, so a removed one is noticed too', () => {
    expect([...ALLOWED_FUNCTIONS, ...REFUSED_FUNCTIONS].filter((name) => !installed.has(name))).toEqual([]);
  });

  it('allows as table functions only allowed functions that are table functions', () => {
    for (const name of ALLOWED_TABLE_FUNCTIONS) {
      expect(ALLOWED_FUNCTIONS, name).toContain(name);
      expect([...(installed.get(name) ?? [])], name).toContain('table');
    }
  });

  it('refuses each refused table function and table macro in FROM', async () => {
    const tables = REFUSED_FUNCTIONS.filter((name) => [...(installed.get(name) ?? [])].some((type) => type === 'table' || type === 'table_macro'));
    expect(tables).toEqual(expect.arrayContaining(['enable_logging', 'duckdb_logs', 'query', 'read_csv', 'checkpoint', 'which_secret']));
    for (const name of tables) {
      const refusal = await checkQuery(connection, `SELECT * FROM ${quoted(name)}()`, new Set());
      expect(refusal, name).toMatchObject({ code: 'INVALID_ARGUMENT', message: `function ${name} is not allowed in queries`, source: 'duckdb', op: 'query' });
    }
  });

  it('refuses every refused function as a call, also qualified by system.main', async () => {
    for (const name of REFUSED_FUNCTIONS) {
      const refusal = await checkQuery(connection, `SELECT ${quoted(name)}(1)`, new Set());
      expect(refusal?.message, name).toBe(`function ${name} is not allowed in queries`);
      const qualified = await checkQuery(connection, `SELECT system.main.${quoted(name)}(1)`, new Set());
      expect(qualified?.message, name).toBe(`function system.main.${name} is not allowed in queries`);
    }
  });

  it('refuses in FROM every allowed function that is not an allowed table function (histogram the table macro)', async () => {
    const tableKinds = [...installed].filter(([name, types]) => ALLOWED_FUNCTIONS.includes(name) && !ALLOWED_TABLE_FUNCTIONS.includes(name) && (types.has('table') || types.has('table_macro')));
    expect(tableKinds.map(([name]) => name)).toEqual(['histogram']);
    const refusal = await checkQuery(connection, 'SELECT * FROM histogram(t, x)', new Set(['t']));
    expect(refusal?.message).toBe('function histogram is not allowed in queries');
  });

  it('passes every allowed function name, as a call or in FROM', async () => {
    for (const name of ALLOWED_FUNCTIONS) {
      expect(await checkQuery(connection, `SELECT ${quoted(name)}(1)`, new Set()), name).toBeUndefined();
    }
    for (const name of ALLOWED_TABLE_FUNCTIONS) {
      expect(await checkQuery(connection, `SELECT * FROM ${name}(1)`, new Set()), name).toBeUndefined();
    }
  });
});

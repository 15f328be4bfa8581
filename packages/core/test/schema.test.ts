import { describe, expect, it } from 'vitest';
import { column, ColumnType, validateRow, validateSchema, validateTimes, type Batch, type TableSchema } from '../src/index.js';

const table: TableSchema = {
  name: 'things',
  kind: 'state',
  description: 'Things.',
  key: ['id'],
  columns: [
    { name: 'id', type: 'int32', description: 'Id.' },
    { name: 'big', type: 'int64', description: 'Big.' },
    { name: 'name', type: 'text', description: 'Name.', nullable: true },
    { name: 'tags', type: 'text[]', description: 'Tags.' },
    { name: 'at', type: 'timestamp', description: 'At.' },
    { name: 'on', type: 'bool', description: 'On.' },
    { name: 'ratio', type: 'float64', description: 'Ratio.' },
  ],
};

describe('validateSchema', () => {
  it('accepts a well-formed schema', () => {
    expect(validateSchema(table).code).toBe('OK');
  });

  it.each<[string, Partial<TableSchema>, string]>([
    ['camelCase table name', { name: 'badName' }, 'snake_case'],
    ['reserved prefix', { name: '_private' }, 'reserved'],
    ['unknown kind', { kind: 'gauge' as never }, 'unknown kind'],
    ['reserved column', { columns: [{ name: 'ts', type: 'int64', description: 'x' }], key: [] }, 'reserved'],
    ['undeclared key', { key: ['nope'] }, 'not declared'],
    ['nullable key', { key: ['name'] }, 'must not be nullable'],
    ['bad type', { columns: [{ name: 'x', type: 'uuid' as never, description: 'x' }], key: [] }, 'unknown type'],
    ['duplicate column', { columns: [{ name: 'x', type: 'int32', description: 'x' }, { name: 'x', type: 'int32', description: 'x' }], key: [] }, 'twice'],
    ['zero interval', { defaultIntervalMs: 0 }, 'positive'],
  ])('rejects %s', (_name, change, message) => {
    const status = validateSchema({ ...table, ...change });
    expect(status.code).toBe('INVALID_ARGUMENT');
    expect(status.message).toContain(message);
  });
});

describe('validateRow', () => {
  const row = { id: 1, big: 2n ** 60n, name: null, tags: ['a'], at: 1700000000000, on: true, ratio: 0.5 };
  it('accepts a matching row, including bigint and null in a nullable column', () => {
    expect(validateRow(table, row).code).toBe('OK');
  });
  it.each([
    ['missing column', { ...row, on: undefined }],
    ['wrong type', { ...row, id: 'one' }],
    ['int32 overflow', { ...row, id: 2 ** 31 }],
    ['unsafe int64 number', { ...row, big: 2 ** 60 }],
    ['int64 bigint out of range', { ...row, big: 2n ** 63n }],
    ['null key', { ...row, id: null }],
    ['extra column', { ...row, extra: 1 }],
    ['non-string tag', { ...row, tags: [1] }],
  ])('rejects %s', (_name, bad) => {
    expect(validateRow(table, bad as never).code).toBe('INVALID_ARGUMENT');
  });
});

describe('validateTimes', () => {
  const events: TableSchema = { ...table, name: 'happenings', kind: 'event', key: [] };
  const rows = [{ id: 1 }, { id: 2 }];
  const batch = (change: Partial<Batch>, schema = events): Batch => ({ table: schema.name, ts: 1000, rows, snapshot: false, ...change });
  it('accepts a batch without per-row times, and one time per row at or before ts on an event table', () => {
    expect(validateTimes(events, batch({})).code).toBe('OK');
    expect(validateTimes(table, batch({}, table)).code).toBe('OK');
    expect(validateTimes(events, batch({ times: [990.5, 1000] })).code).toBe('OK');
    expect(validateTimes(table, batch({ times: [990.5, 1000] }, table)).code).toBe('OK');
    expect(validateTimes(table, batch({ times: [990, 1000], ends: [995.25, null] }, table)).code).toBe('OK');
    // An end alone closes an open version at any instant up to ts.
    expect(validateTimes(table, batch({ ends: [10, null] }, table)).code).toBe('OK');
  });
  it.each<[string, Partial<Batch>, TableSchema, string]>([
    ['times on a metric table', { times: [990, 1000] }, { ...table, kind: 'metric' }, 'per-row times are for event and state tables, not metric tables'],
    ['ends on an event table', { ends: [990, null] }, events, 'per-row ends are for state tables, not event tables'],
    ['ends on a snapshot', { ends: [990, null], snapshot: true }, table, 'per-row ends are for partial batches (snapshot: false)'],
    ['fewer ends than rows', { ends: [990] }, table, '1 per-row ends for 2 rows'],
    ['an end after the batch', { ends: [null, 1000.5] }, table, "per-row end 1000.5 is after the batch's time 1000"],
    ['an end before its time', { times: [995, 990], ends: [null, 980] }, table, "per-row end 980 is before its row's time 990"],
    ['fewer times than rows', { times: [990] }, events, '1 per-row times for 2 rows'],
    ['more times than rows', { times: [990, 991, 992] }, events, '3 per-row times for 2 rows'],
    ['a time that is not a number', { times: [990, Number.NaN] }, events, 'per-row time NaN is not a number'],
    ['a time of another type', { times: [990, '995' as never] }, events, 'per-row time 995 is not a number'],
    ['a time after the batch', { times: [990, 1001] }, events, "per-row time 1001 is after the batch's time 1000"],
  ])('rejects %s', (_name, change, schema, message) => {
    const status = validateTimes(schema, batch(change, schema));
    expect(status.code).toBe('INVALID_ARGUMENT');
    expect(status.message).toBe(`${schema.name}: ${message}`);
  });
});

describe('column builders', () => {
  it('build the same definitions as the literal ones, with unit and nullable only when given', () => {
    const built: TableSchema = {
      ...table,
      columns: [
        column.int32('id', 'Id.'),
        column.int64('big', 'Big.'),
        column.text('name', 'Name.', { nullable: true }),
        column.textList('tags', 'Tags.'),
        column.timestamp('at', 'At.'),
        column.bool('on', 'On.'),
        column.float64('ratio', 'Ratio.'),
      ],
    };
    expect(built).toEqual(table);
    expect(column.int64('rss', 'Resident set size.', { unit: 'bytes' })).toEqual({ name: 'rss', type: 'int64', description: 'Resident set size.', unit: 'bytes' });
    expect(Object.keys(column.int64('n', 'N.', { nullable: false }))).toEqual(['name', 'type', 'description']);
  });

  it('exist for every column type', () => {
    const types = Object.values(column).map((build) => build('x', 'X.').type);
    expect(new Set(types)).toEqual(new Set(Object.values(ColumnType)));
  });
});

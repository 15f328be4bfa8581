import { describe, expect, it } from 'vitest';
import { validateRow, validateSchema, type TableSchema } from '../src/index.js';

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

import { describe, expect, it } from 'vitest';
import { jsonPath, validateOptions } from '../src/index.js';

describe('options validation', () => {
  it('turns instance paths into JSON paths', () => {
    expect(jsonPath('$', '')).toBe('$');
    expect(jsonPath('$', '/probes/0/options/procRoot')).toBe('$.probes[0].options.procRoot');
    expect(jsonPath('$.x', '/a~1b', 'c d')).toBe('$.x["a/b"]["c d"]');
  });

  it('reports enum choices and prefixes a base path', () => {
    const schema = { type: 'object', properties: { mode: { enum: ['a', 'b'] } } };
    const result = validateOptions(schema, { mode: 'c' }, '$.probes[2].options');
    expect(result.ok ? '' : result.status.message).toBe('$.probes[2].options.mode: must be one of "a", "b"');
  });

  it('returns INTERNAL for a schema that does not compile', () => {
    const result = validateOptions({ type: 'no-such-type' }, {});
    expect(result.ok ? '' : result.status.code).toBe('INTERNAL');
  });
});

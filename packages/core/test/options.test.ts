import { describe, expect, it } from 'vitest';
import { AGENT_CONFIG_SCHEMA, createOptionsValidator, jsonPath, validateOptions } from '../src/index.js';

describe('options validation', () => {
  it('turns instance paths into JSON paths', () => {
    expect(jsonPath('$', '')).toBe('$');
    expect(jsonPath('$', '/probes/0/options/procRoot')).toBe('$.probes[0].options.procRoot');
    expect(jsonPath('$.x', '/a~1b', 'c d')).toBe('$.x["a/b"]["c d"]');
  });

  it('fills defaults without touching the input', () => {
    const input = { dataDir: '/tmp/x' };
    const result = validateOptions<{ scheduler: { timeoutMs: number }; probes: unknown[] }>(AGENT_CONFIG_SCHEMA, input);
    expect(result.ok).toBe(true);
    if (result.ok) {
      expect(result.value.scheduler.timeoutMs).toBe(10_000);
      expect(result.value.probes).toEqual([]);
    }
    expect(input).toEqual({ dataDir: '/tmp/x' });
  });

  it.each([
    [{ dataDir: 5 }, '$.dataDir: must be string'],
    [{}, '$.dataDir: is required'],
    [{ dataDir: '/x', probes: [{ use: 'p', intervals: { cpu: 'fast' } }] }, '$.probes[0].intervals.cpu: must be integer'],
    [{ dataDir: '/x', sinks: [{ use: 's', colour: 1 }] }, '$.sinks[0].colour: is not a known option'],
    [{ dataDir: '/x', scheduler: { timeoutMs: -1 } }, '$.scheduler.timeoutMs: must be >= 1'],
  ])('names the JSON path of %j', (config, message) => {
    const result = createOptionsValidator().validate(AGENT_CONFIG_SCHEMA, config);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.status.code).toBe('INVALID_CONFIG');
      expect(result.status.message).toBe(message);
    }
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

// The agent config schema through core's options validator: defaults filled, and every
// refusal naming the JSON path that is wrong.
import { describe, expect, it } from 'vitest';
import { createOptionsValidator, validateOptions } from '@virtualeyes/core';
import { AGENT_CONFIG_SCHEMA } from '../src/index.js';

describe('agent config schema', () => {
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
});

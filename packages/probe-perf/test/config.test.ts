/**
 * The options schema, parseConfig, the sample config and the README: unknown events and bad
 * patterns are INVALID_CONFIG naming them, the sample must validate and equal the defaults
 * (options and table intervals), and the README must carry its sections and the markers the
 * docs script fills.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createOptionsValidator, validateSchema } from '@virtualeyes/core';
import { describe, expect, it } from 'vitest';
import { CONFIG_SCHEMA, DEFAULT_CONFIG, DEFAULT_EVENTS, EVENTS, manifest, parseConfig } from '../src/index.js';
import { PACKAGE } from './helpers.js';

const sample = JSON.parse(readFileSync(join(PACKAGE, 'sample.config.json'), 'utf8')) as {
  use: string;
  options: Record<string, unknown>;
  intervals: Record<string, number>;
};
const properties = (CONFIG_SCHEMA as { properties: Record<string, { default?: unknown; description?: string; properties?: Record<string, { default?: unknown; description?: string }> }> }).properties;

describe('config', () => {
  it('fills every default from an empty object', () => {
    expect(parseConfig({})).toEqual({ ok: true, value: DEFAULT_CONFIG });
    expect(parseConfig(undefined)).toEqual({ ok: true, value: DEFAULT_CONFIG });
  });

  it('declares a default and a description for every option, nested ones included, and no unknown options', () => {
    expect(CONFIG_SCHEMA.additionalProperties).toBe(false);
    expect(Object.keys(properties).sort()).toEqual(Object.keys(DEFAULT_CONFIG).sort());
    for (const [name, property] of Object.entries(properties)) {
      expect(property.default, name).toEqual(DEFAULT_CONFIG[name as keyof typeof DEFAULT_CONFIG]);
      expect(property.description?.length, name).toBeGreaterThan(10);
      for (const [inner, nested] of Object.entries(property.properties ?? {})) {
        expect(nested.default, `${name}.${inner}`).toBeDefined();
        expect(nested.description?.length, `${name}.${inner}`).toBeGreaterThan(5);
      }
    }
  });

  it('defaults to every software event and the meaningful hardware pairs', () => {
    expect(DEFAULT_EVENTS).toEqual([
      ...EVENTS.filter((event) => event.group === 'software').map((event) => event.name),
      'cycles',
      'instructions',
      'cache-references',
      'cache-misses',
      'branches',
      'branch-misses',
      'LLC-loads',
      'LLC-load-misses',
      'node-loads',
      'node-load-misses',
    ]);
  });

  it('accepts perf aliases', () => {
    const parsed = parseConfig({ events: ['cs', 'migrations', 'faults', 'cpu-cycles', 'branch-instructions'] });
    expect(parsed.ok).toBe(true);
  });

  it.each([
    [{ events: ['cycles', 'cyclez'] }, "$.events[1]: unknown perf event 'cyclez'"],
    [{ events: ['Cycles'] }, "$.events[0]: unknown perf event 'Cycles'"],
    [{ events: ['context-switches', 'cs'] }, "$.events[1]: 'cs' (context-switches) is listed twice"],
    [{ events: [] }, '$.events'],
    [{ events: [''] }, '$.events[0]'],
    [{ processes: { comm: ['(unclosed'] } }, "$.processes.comm[0]: '(unclosed' is not a valid regular expression"],
    [{ processes: { cgroups: ['/system.slice/../../etc'] } }, '$.processes.cgroups[0]'],
    [{ processes: { pids: [0] } }, '$.processes.pids[0]'],
    [{ processes: { pid: [1] } }, '$.processes.pid'],
    [{ maxProcesses: -1 }, '$.maxProcesses'],
    [{ maxFds: 1.5 }, '$.maxFds'],
    [{ userHz: 0 }, '$.userHz'],
    // sysfs moved to the agent's roots (roots.sys, HOST_SYS): the old option is refused by name.
    [{ sysRoot: '/sys' }, '$.sysRoot'],
    [{ cgroupRoot: 'cgroup' }, '$.cgroupRoot'],
    [{ event: ['cycles'] }, '$.event'],
  ])('rejects %j with INVALID_CONFIG starting %s', (raw, start) => {
    const parsed = parseConfig(raw);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) {
      expect(parsed.status.code).toBe('INVALID_CONFIG');
      expect(parsed.status.message.startsWith(start), parsed.status.message).toBe(true);
    }
  });

  it('has a sample config whose options validate and equal the defaults', () => {
    expect(sample.use).toBe(manifest.packageName);
    expect(createOptionsValidator().validate(CONFIG_SCHEMA, sample.options)).toEqual({ ok: true, value: DEFAULT_CONFIG });
    expect(sample.options).toEqual(DEFAULT_CONFIG);
    expect(parseConfig(sample.options)).toEqual({ ok: true, value: DEFAULT_CONFIG });
  });

  it('has a sample config listing every table at its default interval', () => {
    expect(sample.intervals).toEqual(Object.fromEntries(manifest.tables.map((table) => [table.name, table.defaultIntervalMs])));
  });
});

describe('manifest', () => {
  it('takes its name, version and core range from package.json (the generated identity)', () => {
    const pkg = JSON.parse(readFileSync(join(PACKAGE, 'package.json'), 'utf8')) as { name: string; version: string; peerDependencies: Record<string, string> };
    expect(manifest).toMatchObject({ kind: 'probe', name: 'perf', platforms: ['linux'], configSchema: CONFIG_SCHEMA });
    expect([manifest.packageName, manifest.version, manifest.coreRange]).toEqual([pkg.name, pkg.version, pkg.peerDependencies['@virtualeyes/core']]);
    expect(Object.isFrozen(manifest)).toBe(true);
  });

  it('declares valid schemas', () => {
    for (const table of manifest.tables) expect(validateSchema(table).message, table.name).toBe('');
  });

  it.each([
    ['perf_cpu', ['cpu', 'event']],
    ['perf_process', ['pid', 'start_time', 'event']],
    ['perf_numa', ['node']],
  ])('keys %s by %j', (name, key) => {
    expect(manifest.tables.find((table) => table.name === name)?.key).toEqual(key);
  });

  it('gives both counter tables the same value columns', () => {
    const columns = (name: string): string[] => manifest.tables.find((table) => table.name === name)!.columns.map((column) => column.name);
    const values = ['value', 'raw', 'time_enabled', 'time_running', 'scale', 'group_leader', 'opened_at'];
    expect(columns('perf_cpu')).toEqual(['cpu', 'event', ...values]);
    expect(columns('perf_process')).toEqual(['pid', 'start_time', 'event', ...values.slice(0, 6), 'user_only', 'opened_at']);
  });
});

describe('README', () => {
  const readme = readFileSync(join(PACKAGE, 'README.md'), 'utf8');

  it.each(['## Configuration', '## Tables', '## Status codes', '## Example output', '## Derived figures'])('has the section %s', (heading) => {
    expect(readme).toContain(`\n${heading}\n`);
  });

  it.each(['config', 'tables'])('has the generated %s block the docs script fills', (block) => {
    expect(readme).toMatch(new RegExp(`<!-- BEGIN GENERATED: ${block} -->\\n(?:[^]*\\n)?<!-- END GENERATED: ${block} -->`));
  });

  it('documents every event it knows', () => {
    for (const event of EVENTS) expect(readme, event.name).toContain(`\`${event.name}\``);
  });
});

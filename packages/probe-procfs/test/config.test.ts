/**
 * The options schema, parseConfig, the sample config and the README: the sample must
 * validate and equal the defaults (options and table intervals), and the README must carry
 * the sections and generated-block markers the docs script fills.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createOptionsValidator, validateSchema } from '@virtualeyes/core';
import { describe, expect, it } from 'vitest';
import { CONFIG_SCHEMA, DEFAULT_CONFIG, manifest, parseConfig } from '../src/index.js';
import { FIXTURES } from './helpers.js';

const root = join(FIXTURES, '..', '..');
const sample = JSON.parse(readFileSync(join(root, 'sample.config.json'), 'utf8')) as {
  use: string;
  options: Record<string, unknown>;
  intervals: Record<string, number>;
};
const properties = (CONFIG_SCHEMA as { properties: Record<string, { default?: unknown; description?: string }> }).properties;

describe('config', () => {
  it('fills every default from an empty object', () => {
    expect(parseConfig({})).toEqual({ ok: true, value: DEFAULT_CONFIG });
    expect(parseConfig(undefined)).toEqual({ ok: true, value: DEFAULT_CONFIG });
  });

  it('declares a default and a description for every option, and no unknown options', () => {
    expect(CONFIG_SCHEMA.additionalProperties).toBe(false);
    expect(Object.keys(properties).sort()).toEqual(Object.keys(DEFAULT_CONFIG).sort());
    for (const [name, property] of Object.entries(properties)) {
      expect(property.default, name).toEqual(DEFAULT_CONFIG[name as keyof typeof DEFAULT_CONFIG]);
      expect(property.description?.length, name).toBeGreaterThan(10);
    }
  });

  it.each([
    [{ userHz: 0 }, '$.userHz'],
    // The roots moved to the agent (`roots`, HOST_PROC…): the old options are refused by name.
    [{ procRoot: '/proc' }, '$.procRoot'],
    [{ sysRoot: '/sys' }, '$.sysRoot'],
    [{ etcRoot: '/etc' }, '$.etcRoot'],
    [{ readIo: 'yes' }, '$.readIo'],
    [{ scanChunk: 0 }, '$.scanChunk'],
    [{ maxCmdlineChars: -1 }, '$.maxCmdlineChars'],
    [{ procroot: '/proc' }, '$.procroot'],
  ])('rejects %j with INVALID_CONFIG naming %s', (raw, path) => {
    const parsed = parseConfig(raw);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) {
      expect(parsed.status.code).toBe('INVALID_CONFIG');
      expect(parsed.status.message.startsWith(path)).toBe(true);
    }
  });

  it('has a sample config whose options validate and equal the defaults', () => {
    expect(sample.use).toBe(manifest.packageName);
    expect(createOptionsValidator().validate(CONFIG_SCHEMA, sample.options)).toEqual({ ok: true, value: DEFAULT_CONFIG });
    expect(sample.options).toEqual(DEFAULT_CONFIG);
  });

  it('has a sample config listing every table at its default interval', () => {
    expect(sample.intervals).toEqual(Object.fromEntries(manifest.tables.map((table) => [table.name, table.defaultIntervalMs])));
  });
});

describe('manifest', () => {
  it('takes its name, version and core range from package.json (the generated identity)', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { name: string; version: string; peerDependencies: Record<string, string> };
    expect(manifest).toMatchObject({
      kind: 'probe',
      name: 'procfs',
      packageName: pkg.name,
      version: pkg.version,
      coreRange: pkg.peerDependencies['@virtualeyes/core'],
      platforms: ['linux'],
    });
    expect(Object.isFrozen(manifest)).toBe(true);
  });

  it('declares valid schemas', () => {
    for (const table of manifest.tables) expect(validateSchema(table).message, table.name).toBe('');
  });

  it.each([
    ['processes', ['pid', 'start_time', 'ppid', 'uid', 'user', 'comm', 'cmdline', 'exe']],
    ['process_stats', ['pid', 'start_time', 'utime', 'stime', 'rss', 'vsize', 'threads', 'state']],
  ])('keeps the %s columns the CLI reads', (name, columns) => {
    const table = manifest.tables.find((candidate) => candidate.name === name)!;
    expect(table.key).toEqual(['pid', 'start_time']);
    expect(table.columns.map((column) => column.name)).toEqual(expect.arrayContaining(columns));
  });
});

describe('README', () => {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');

  it.each(['## Configuration', '## Tables', '## Status codes', '## Example output'])('has the section %s', (heading) => {
    expect(readme).toContain(`\n${heading}\n`);
  });

  it.each(['config', 'tables'])('has the generated %s block the docs script fills', (block) => {
    expect(readme).toMatch(new RegExp(`<!-- BEGIN GENERATED: ${block} -->\\n[^]+\\n<!-- END GENERATED: ${block} -->`));
  });
});

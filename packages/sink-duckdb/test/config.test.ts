// Options: the sample config holds every option at its default, bad values name their JSON
// path, the store path resolves against the data directory, and the manifest comes from
// package.json.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createOptionsValidator } from '@virtualeyes/core';
import { createTestDeps } from '@virtualeyes/core/testing';
import { CONFIG_SCHEMA, createSink, DEFAULT_CONFIG, manifest, parseConfig, storePath } from '../src/index.js';

describe('configuration', () => {
  it('ships a sample config whose options validate and equal the defaults', () => {
    const sample = JSON.parse(readFileSync(new URL('../sample.config.json', import.meta.url), 'utf8')) as { use: string; options: unknown };
    expect(sample.use).toBe(manifest.packageName);
    const parsed = parseConfig(sample.options);
    expect(parsed.ok && parsed.value).toEqual(DEFAULT_CONFIG);
    expect(parseConfig({})).toEqual({ ok: true, value: DEFAULT_CONFIG });
    expect(Object.keys(sample.options as object).sort()).toEqual(Object.keys(CONFIG_SCHEMA.properties as object).sort());
  });

  it.each([
    [{ threads: 0 }, '$.threads: must be >= 1'],
    [{ memoryLimit: 'lots' }, '$.memoryLimit: must match pattern'],
    [{ stalenessMs: -1 }, '$.stalenessMs: must be >= 0'],
    [{ path: 3 }, '$.path: must be string'],
    [{ colour: 'red' }, '$.colour: is not a known option'],
  ])('refuses %j', (options, message) => {
    const parsed = parseConfig(options);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) {
      expect(parsed.status.code).toBe('INVALID_CONFIG');
      expect(parsed.status.message.startsWith(message)).toBe(true);
    }
  });

  it.each(['1GB', '512MiB', '50%', '2.5 GB'])('accepts memory limit %s', (memoryLimit) => {
    expect(parseConfig({ memoryLimit }).ok).toBe(true);
  });

  it('puts the store in the data directory unless given a path', () => {
    expect(storePath({ path: '' }, '/var/lib/vwatchd')).toBe('/var/lib/vwatchd/vwatchd.db');
    expect(storePath({ path: 'other.db' }, '/var/lib/vwatchd')).toBe('/var/lib/vwatchd/other.db');
    expect(storePath({ path: '/srv/x.db' }, '/var/lib/vwatchd')).toBe('/srv/x.db');
  });

  it('refuses bad options before the factory, which takes them validated', () => {
    // The loader validates with the manifest's schema; the factory no longer validates again.
    const refused = createOptionsValidator().validate(manifest.configSchema, { threads: -1 });
    expect(refused.ok).toBe(false);
    expect(!refused.ok && refused.status).toMatchObject({ code: 'INVALID_CONFIG', message: expect.stringContaining('$.threads: must be >= 1') });
    const valid = parseConfig({ threads: 1 });
    if (!valid.ok) expect.fail(valid.status.message);
    const created = createSink(valid.value, createTestDeps());
    expect(created.ok && created.value.name).toBe('test');
  });

  it('takes its name, version and core range from package.json (the generated identity)', () => {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { name: string; version: string; peerDependencies: Record<string, string> };
    expect(manifest).toMatchObject({
      kind: 'sink',
      name: 'duckdb',
      packageName: pkg.name,
      version: pkg.version,
      coreRange: pkg.peerDependencies['@virtualeyes/core'],
      platforms: 'any',
      configSchema: CONFIG_SCHEMA,
      tables: [],
    });
    expect(Object.isFrozen(manifest)).toBe(true);
  });
});

import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createFileReader, createHooks, createOptionsValidator } from '@virtualeyes/core';
import { formatBootTree, loadPlugins, type PluginSpec } from '../src/index.js';
import { createFakeClock, createMemoryLogger } from '@virtualeyes/core/testing';

const fixtures = fileURLToPath(new URL('./fixtures/plugins/', import.meta.url));

function load(probes: PluginSpec[], sinks: PluginSpec[] = [], platform = 'linux') {
  const clock = createFakeClock();
  let t = 0;
  return loadPlugins(probes, sinks, {
    resolveFrom: [fixtures],
    coreVersion: '0.1.0',
    platform,
    validator: createOptionsValidator(),
    monotonic: () => (t += 1),
    depsFor: (name) => ({
      name,
      clock,
      logger: createMemoryLogger('debug', name),
      files: createFileReader(),
      hooks: createHooks(),
      host: 'h',
      dataDir: '/tmp/x',
    }),
  });
}

describe('loader', () => {
  it('loads a probe and a sink by path, with options validated and defaults applied', async () => {
    const report = await load([{ use: './probe-counter.mjs', options: { step: 2 } }], [{ use: './sink-memory.mjs' }]);
    expect(report.entries.map((e) => [e.kind, e.name, e.version, e.status.code])).toEqual([
      ['probe', 'counter', '1.2.3', 'OK'],
      ['sink', 'memory', '0.0.1', 'OK'],
    ]);
    expect(report.probes).toHaveLength(1);
    expect(report.sinks).toHaveLength(1);
  });

  it('reports each failure by name and still loads the rest', async () => {
    const report = await load(
      [
        { use: '@virtualeyes/probe-does-not-exist' },
        { use: './probe-broken.mjs' },
        { use: './probe-future.mjs' },
        { use: './probe-sunos.mjs' },
        { use: './not-a-plugin.mjs' },
        { use: './probe-counter.mjs' },
      ],
      [],
    );
    const byUse = Object.fromEntries(report.entries.map((e) => [e.use, e]));
    expect(byUse['@virtualeyes/probe-does-not-exist']!.status.code).toBe('NOT_FOUND');
    expect(byUse['@virtualeyes/probe-does-not-exist']!.status.message).toContain("package '@virtualeyes/probe-does-not-exist' is not installed");
    expect(byUse['./probe-broken.mjs']!.status).toMatchObject({ code: 'INTERNAL', op: 'import' });
    expect(byUse['./probe-broken.mjs']!.status.message).toContain('missing native binding');
    expect(byUse['./probe-future.mjs']!.status.code).toBe('UNSUPPORTED');
    expect(byUse['./probe-future.mjs']!.status.message).toContain('needs @virtualeyes/core ^9.0.0, this is 0.1.0');
    expect(byUse['./probe-sunos.mjs']!.status.message).toBe('runs on sunos, not on linux; skipped');
    expect(byUse['./not-a-plugin.mjs']!.status.code).toBe('INVALID_ARGUMENT');
    expect(report.probes.map((p) => p.name)).toEqual(['counter']);
  });

  it('names the JSON path of an invalid option', async () => {
    const report = await load([{ use: './probe-counter.mjs' }, { use: './probe-counter.mjs', name: 'second', options: { step: 'x' } }]);
    expect(report.entries[1]!.status).toMatchObject({ code: 'INVALID_CONFIG', source: 'second' });
    expect(report.entries[1]!.status.message).toBe('$.probes[1].options.step: must be integer');
  });

  it("puts a plugin's own refusal at its path in the user's file", async () => {
    const report = await load([
      { use: './probe-counter.mjs' },
      { use: './probe-counter.mjs', name: 'second', options: { refuseCreate: "$.events[1]: unknown event 'x'" } },
      { use: './probe-counter.mjs', name: 'third', options: { refuseCreate: 'no path in this one' } },
    ]);
    expect(report.entries[1]!.status).toMatchObject({ code: 'INVALID_CONFIG', source: 'second', message: "$.probes[1].options.events[1]: unknown event 'x'" });
    expect(report.entries[2]!.status.message).toBe('no path in this one');
  });

  it('refuses unknown tables in intervals, duplicate instance names and table clashes', async () => {
    const report = await load([
      { use: './probe-counter.mjs', intervals: { tickz: 5 } },
      { use: './probe-counter.mjs' },
      { use: './probe-counter.mjs' },
      { use: './probe-counter.mjs', name: 'other' },
    ]);
    expect(report.entries.map((e) => e.status.message)).toEqual([
      "$.probes[0].intervals.tickz: 'counter' has no table 'tickz'",
      '',
      "$.probes[2].name: instance name 'counter' is used twice",
      "table 'ticks' is already produced by probe 'counter'",
    ]);
  });

  it('prints a boot tree with timings', async () => {
    const report = await load([{ use: './probe-counter.mjs' }, { use: '@x/missing' }], [{ use: './sink-memory.mjs' }]);
    const tree = formatBootTree('vwatchd', report);
    expect(tree.split('\n')).toEqual([
      `vwatchd ${Math.round(report.ms)} ms`,
      `├── probe counter (./probe-counter.mjs@1.2.3) ${Math.round(report.entries[0]!.ms)} ms`,
      expect.stringMatching(/^├── probe @x\/missing \(@x\/missing\) NOT_FOUND: package '@x\/missing' is not installed/),
      `└── sink memory (./sink-memory.mjs@0.0.1) ${Math.round(report.entries[2]!.ms)} ms`,
    ]);
  });
});

/**
 * Contract test suites every probe and sink package runs against itself, so a plugin that
 * passes them loads, collects or writes, and closes the way the agent expects. They declare
 * vitest tests; call them at the top level of a test file.
 */
import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createOptionsValidator } from '../options.js';
import type { PluginDeps, PluginManifest, Probe, ProbeFactory, QueryResult, ReaderFactory, Sink, SinkFactory } from '../plugin.js';
import { validateRow, validateSchema, validateTimes, type Batch, type TableSchema } from '../schema.js';
import { isStatus, StatusCode, type Result, type Status } from '../status.js';
import { createTestDeps } from './deps.js';

/** A probe package's exports, whatever its config type. */
export interface ProbeExports {
  /** The manifest. */
  readonly manifest: PluginManifest;
  /** The factory; the suite passes options validated by the manifest's schema. */
  readonly createProbe: ProbeFactory<never>;
}

/** A sink package's exports, whatever its config type. */
export interface SinkExports {
  /** The manifest. */
  readonly manifest: PluginManifest;
  /** The factory. */
  readonly createSink: SinkFactory<never>;
  /** The read-only opener, for stores. */
  readonly createReader?: ReaderFactory<never>;
}

/** Options for {@link probeContractSuite}. */
export interface ProbeContractOptions {
  /** The package's exports. */
  readonly module: ProbeExports;
  /** Options handed to createProbe (before defaults). @default {} */
  readonly options?: Record<string, unknown>;
  /** Deps for each instance. @default createTestDeps() */
  readonly deps?: () => PluginDeps;
  /** Tables to collect. @default every table with a default interval */
  readonly tables?: readonly string[];
  /** Set false where the probe's platform is not this one: only manifest checks run. */
  readonly supported?: boolean;
}

/** Declares the probe contract tests. */
export function probeContractSuite(options: ProbeContractOptions): void {
  const { module } = options;
  const deps = options.deps ?? (() => createTestDeps());
  const tables =
    options.tables ?? module.manifest.tables.filter((table) => table.defaultIntervalMs !== undefined).map((table) => table.name);

  const create = (): Probe => {
    const config = createOptionsValidator().validate<Record<string, unknown>>(module.manifest.configSchema, options.options ?? {});
    expect(config.ok, config.ok ? '' : config.status.message).toBe(true);
    const created = module.createProbe((config.ok ? config.value : {}) as never, { ...deps(), name: module.manifest.name });
    expect(created.ok, created.ok ? '' : created.status.message).toBe(true);
    return (created as Extract<Result<Probe>, { ok: true }>).value;
  };

  /** Inits and, when the probe has one, starts it: collections run on started probes. */
  const ready = async (probe: Probe): Promise<void> => {
    expect(probe.init().code).toBe(StatusCode.OK);
    if (probe.start !== undefined) expectStatus(await probe.start({ emit: () => undefined }));
  };

  describe(`probe contract: ${module.manifest.packageName}`, () => {
    manifestTests(module.manifest, 'probe');

    it('declares at least one table, each with a valid schema', () => {
      expect(module.manifest.tables.length).toBeGreaterThan(0);
      for (const table of module.manifest.tables) expect(validateSchema(table).code, table.name).toBe(StatusCode.OK);
    });

    it.skipIf(options.supported === false)('creates, inits and closes without throwing; close is idempotent', async () => {
      const probe = create();
      expect(probe.name).toBe(module.manifest.name);
      expect(probe.init().code).toBe(StatusCode.OK);
      expectStatus(await probe.close());
      expectStatus(await probe.close());
    });

    it.skipIf(options.supported === false)('collects rows that match the declared schemas, with unique keys', async () => {
      const probe = create();
      await ready(probe);
      const result = await probe.collect({ tables, ts: Date.now(), signal: new AbortController().signal });
      for (const status of result.errors) expectStatus(status);
      expect(result.batches.length).toBeGreaterThan(0);
      for (const batch of result.batches) {
        expect(tables).toContain(batch.table);
        const schema = module.manifest.tables.find((table) => table.name === batch.table)!;
        expectBatch(schema, batch);
      }
      await probe.close();
    });

    it.skipIf(options.supported === false)('keeps no shared state: two instances collect independently', async () => {
      const [a, b] = [create(), create()];
      await ready(a);
      await ready(b);
      const signal = new AbortController().signal;
      const [ra, rb] = await Promise.all([a.collect({ tables, ts: 0, signal }), b.collect({ tables, ts: 0, signal })]);
      expect(ra.batches.map((batch) => batch.table).sort()).toEqual(rb.batches.map((batch) => batch.table).sort());
      await a.close();
      const again = await b.collect({ tables, ts: 0, signal });
      expect(again.batches.length).toBeGreaterThan(0);
      await b.close();
    });

    it.skipIf(options.supported === false || process.platform !== 'linux')('releases every file descriptor it opened (counted in /proc/self/fd)', async () => {
      const before = openFds();
      const probe = create();
      await ready(probe);
      await probe.collect({ tables, ts: Date.now(), signal: new AbortController().signal });
      await probe.collect({ tables, ts: Date.now(), signal: new AbortController().signal });
      await probe.close();
      expect(openFds()).toBe(before);
    });

    it.skipIf(options.supported === false)('returns a Status instead of throwing when collecting after close', async () => {
      const probe = create();
      await ready(probe);
      await probe.close();
      const result = await probe.collect({ tables, ts: 0, signal: new AbortController().signal });
      for (const status of result.errors) expectStatus(status);
    });
  });
}

/** Options for {@link sinkContractSuite}. */
export interface SinkContractOptions {
  /** The package's exports. */
  readonly module: SinkExports;
  /** Options for each instance (a fresh destination per call). */
  readonly options: () => Record<string, unknown>;
  /** Deps for each instance. @default createTestDeps() */
  readonly deps?: () => PluginDeps;
}

/** Tables the sink suite writes: one of each kind. */
export const CONTRACT_TABLES: readonly TableSchema[] = [
  {
    name: 'contract_metric',
    kind: 'metric',
    description: 'A metric table used by the sink contract suite.',
    key: ['id'],
    columns: [
      { name: 'id', type: 'int32', description: 'Entity id.' },
      { name: 'value', type: 'float64', unit: 'count', description: 'A value.' },
      { name: 'total', type: 'int64', unit: 'bytes', description: 'A counter.' },
    ],
  },
  {
    name: 'contract_state',
    kind: 'state',
    description: 'A state table used by the sink contract suite.',
    key: ['id'],
    columns: [
      { name: 'id', type: 'int32', description: 'Entity id.' },
      { name: 'label', type: 'text', description: 'A label.' },
      { name: 'tags', type: 'text[]', description: 'Tags.', nullable: true },
      { name: 'seen', type: 'timestamp', description: 'A time.', nullable: true },
      { name: 'flag', type: 'bool', description: 'A flag.' },
    ],
  },
  {
    name: 'contract_event',
    kind: 'event',
    description: 'An event table used by the sink contract suite.',
    key: [],
    columns: [{ name: 'what', type: 'text', description: 'What happened.' }],
  },
];

/** Declares the sink contract tests. */
export function sinkContractSuite(options: SinkContractOptions): void {
  const { module } = options;
  const deps = options.deps ?? (() => createTestDeps());
  const t0 = Date.UTC(2026, 0, 1);
  const batches: Batch[] = [
    { table: 'contract_metric', ts: t0, snapshot: true, rows: [{ id: 1, value: 1.5, total: 10 }, { id: 2, value: 2, total: 20n }] },
    { table: 'contract_state', ts: t0, snapshot: true, rows: [{ id: 1, label: 'a', tags: ['x'], seen: t0, flag: true }] },
    { table: 'contract_event', ts: t0, snapshot: false, rows: [{ what: 'started' }] },
  ];

  const create = (): Sink => {
    const config = createOptionsValidator().validate<Record<string, unknown>>(module.manifest.configSchema, options.options());
    expect(config.ok, config.ok ? '' : config.status.message).toBe(true);
    const created = module.createSink((config.ok ? config.value : {}) as never, { ...deps(), name: module.manifest.name });
    expect(created.ok, created.ok ? '' : created.status.message).toBe(true);
    return (created as Extract<Result<Sink>, { ok: true }>).value;
  };

  describe(`sink contract: ${module.manifest.packageName}`, () => {
    manifestTests(module.manifest, 'sink');

    it('writes batches of every table kind, counts rows, flushes and closes idempotently', async () => {
      const sink = create();
      expect(sink.init().code).toBe(StatusCode.OK);
      expect((await sink.start({ tables: CONTRACT_TABLES })).code).toBe(StatusCode.OK);
      const result = await sink.write(batches);
      expect(result.status.code, result.status.message).toBe(StatusCode.OK);
      expect(sink.stats().rowsWritten).toBe(4);
      expect((await sink.flush()).code).toBe(StatusCode.OK);
      expect((await sink.close()).code).toBe(StatusCode.OK);
      expectStatus(await sink.close());
    });

    it.skipIf(process.platform !== 'linux')('releases every file descriptor it opened once closed (counted in /proc/self/fd)', async () => {
      const before = openFds();
      const sink = create();
      sink.init();
      await sink.start({ tables: CONTRACT_TABLES });
      await sink.write(batches);
      await sink.flush();
      await sink.close();
      expect(openFds()).toBe(before);
    });

    it('rejects a batch of an undeclared table by index, keeping the others', async () => {
      const sink = create();
      sink.init();
      await sink.start({ tables: CONTRACT_TABLES });
      const result = await sink.write([batches[0]!, { table: 'nope', ts: t0, snapshot: true, rows: [{ a: 1 }] }]);
      expectStatus(result.status);
      expect(result.status.code).not.toBe(StatusCode.OK);
      expect(result.rejected).toEqual([1]);
      expect(sink.stats().rowsWritten).toBe(2);
      await sink.close();
    });

    it('returns a failing Status instead of throwing when writing after close', async () => {
      const sink = create();
      sink.init();
      await sink.start({ tables: CONTRACT_TABLES });
      await sink.close();
      const result = await sink.write(batches);
      expectStatus(result.status);
      expect(result.status.code).not.toBe(StatusCode.OK);
    });

    it('lists what it stored through its reader, when it is a store', async () => {
      const sink = create();
      sink.init();
      await sink.start({ tables: CONTRACT_TABLES });
      await sink.write(batches);
      const reader = sink.reader?.();
      if (reader === undefined) {
        expect(module.createReader).toBeUndefined();
      } else {
        const tables = await reader.tables();
        expect(tables.ok).toBe(true);
        const byName = new Map((tables.ok ? tables.value : []).map((table) => [table.name, table]));
        expect(byName.get('contract_metric')?.rows).toBe(2);
        expect(byName.get('contract_state')?.kind).toBe('state');
        expect(byName.get('contract_event')?.rows).toBe(1);
      }
      await sink.close();
    });

    it('answers samples, states and versions through its reader, when it is a store', async () => {
      const sink = create();
      sink.init();
      await sink.start({ tables: CONTRACT_TABLES });
      const later = { table: 'contract_metric', ts: t0 + 1000, snapshot: true, rows: [{ id: 1, value: 3, total: 30 }, { id: 2, value: 4, total: 40 }] };
      expect((await sink.write([...batches, later])).status.code).toBe(StatusCode.OK);
      const reader = sink.reader?.();
      if (reader !== undefined) {
        const samples = await reader.samples({ table: 'contract_metric', at: t0 + 1500, stalenessMs: 60_000 });
        expect(samples.ok, samples.ok ? '' : samples.status.message).toBe(true);
        if (samples.ok) {
          const totals = (result: QueryResult): unknown[] => {
            const id = result.columns.findIndex((column) => column.name === 'id');
            const total = result.columns.findIndex((column) => column.name === 'total');
            return [...result.rows].sort((a, b) => Number(a[id]) - Number(b[id])).map((row) => Number(row[total]));
          };
          expect(totals(samples.value.current)).toEqual([30, 40]);
          expect(totals(samples.value.previous)).toEqual([10, 20]);
        }
        const first = await reader.samples({ table: 'contract_metric', at: t0 + 500, stalenessMs: 60_000 });
        expect(first.ok && first.value.current.rows.length === 2 && first.value.previous.rows.length === 0).toBe(true);
        const states = await reader.states({ table: 'contract_state', at: t0 + 1 });
        expect(states.ok && states.value.rows.length).toBe(1);
        const before = await reader.states({ table: 'contract_state', at: t0 - 1 });
        expect(before.ok && before.value.rows.length).toBe(0);
        const versions = await reader.versions({ table: 'contract_state', from: t0 - 1000, to: t0 + 1000 });
        expect(versions.ok && versions.value.rows.length).toBe(1);
        const earlier = await reader.versions({ table: 'contract_state', from: t0 - 2000, to: t0 - 1000 });
        expect(earlier.ok && earlier.value.rows.length).toBe(0);
        const wrongs = [
          reader.samples({ table: 'contract_state', at: t0 }),
          reader.states({ table: 'contract_metric', at: t0 }),
          reader.states({ table: 'no_such', at: t0 }),
          reader.versions({ table: 'contract_metric', from: t0, to: t0 }),
          reader.versions({ table: 'contract_state', from: t0 + 1, to: t0 }),
        ];
        for (const wrong of wrongs) {
          const refused = await wrong;
          expect(refused.ok ? StatusCode.OK : refused.status.code).toBe(StatusCode.INVALID_ARGUMENT);
        }
      }
      await sink.close();
    });
  });
}

/** A SemVer 2.0.0 version, as semver.org gives it. */
const SEMVER =
  /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$/;

function manifestTests(manifest: PluginManifest, kind: 'probe' | 'sink'): void {
  it('has a well-formed manifest', () => {
    expect(manifest.kind).toBe(kind);
    expect(manifest.name).toMatch(/^[a-z][a-z0-9_-]*$/);
    expect(manifest.packageName).toMatch(/^@?[a-z0-9][\w./-]*$/);
    // Whether coreRange admits the installed core is the loader's question (@virtualeyes/agent), asked at load.
    expect(manifest.version).toMatch(SEMVER);
    expect(manifest.coreRange.trim()).not.toBe('');
    expect(manifest.description.length).toBeGreaterThan(10);
  });

  it('has a config schema that rejects unknown options and fills defaults', () => {
    const validator = createOptionsValidator();
    expect(validator.validate(manifest.configSchema, {}).ok).toBe(true);
    const unknown = validator.validate(manifest.configSchema, { notAnOption: 1 });
    expect(unknown.ok).toBe(false);
    if (!unknown.ok) {
      expect(unknown.status.code).toBe(StatusCode.INVALID_CONFIG);
      expect(unknown.status.message).toContain('$.notAnOption');
    }
  });
}

/** This process's open file descriptors. */
function openFds(): number {
  return readdirSync('/proc/self/fd').length;
}

function expectStatus(value: unknown): asserts value is Status {
  expect(isStatus(value), JSON.stringify(value)).toBe(true);
}

function expectBatch(schema: TableSchema, batch: Batch): void {
  expect(Number.isFinite(batch.ts)).toBe(true);
  const timed = validateTimes(schema, batch);
  expect(timed.code, timed.message).toBe(StatusCode.OK);
  const keys = new Set<string>();
  for (const row of batch.rows) {
    const valid = validateRow(schema, row);
    expect(valid.code, valid.message).toBe(StatusCode.OK);
    if (schema.key.length > 0) {
      const key = schema.key.map((column) => String(row[column])).join('\u0000');
      expect(keys.has(key), `duplicate key ${key} in ${schema.name}`).toBe(false);
      keys.add(key);
    }
  }
}

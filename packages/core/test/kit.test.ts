// The plugin kit: a package gives its identity, schema, tables and per-platform implementation,
// and the kit gives the manifest, never-throw wrapping, the closed state, dispatch on
// deps.platform and the UNSUPPORTED variant. A kit-built probe and sink also pass the contract suites.
import { describe, expect, it } from 'vitest';
import { column, defineProbe, defineSink, err, fail, ok, OK, StatusCode, type Batch, type PluginIdentity, type ProbeImpl, type Result, type SinkImpl } from '../src/index.js';
import { createTestDeps, probeContractSuite, sinkContractSuite, type ProbeExports, type SinkExports } from '../src/testing/index.js';

const identity: PluginIdentity = { packageName: '@example/probe-ticks', version: '1.2.3', coreRange: '^0.1.0' };
const TICKS = {
  name: 'ticks',
  kind: 'metric',
  description: 'A counter per collection.',
  key: [],
  defaultIntervalMs: 1000,
  columns: [column.int64('n', 'Collections so far.', { unit: 'count' })],
} as const;
const schema = { type: 'object', additionalProperties: false, properties: { step: { type: 'integer', minimum: 1, default: 1 } } };

interface Options {
  step: number;
}

/** A probe whose Linux implementation counts; `behaviour` makes it misbehave on purpose. */
function ticksProbe(behaviour: { throwOn?: 'collect' | 'start' | 'close' | 'factory'; closes?: { count: number } } = {}) {
  return defineProbe<Options, { step: bigint }>({
    identity,
    name: 'ticks',
    description: 'Counts its own collections.',
    configSchema: schema,
    tables: [TICKS],
    configure: (options) => (options.step > 100 ? err(fail(StatusCode.INVALID_CONFIG, 'step must be at most 100')) : ok({ step: BigInt(options.step) })),
    unsupported: (platform) => `ticks needs Linux's clock, not ${platform}`,
    platforms: {
      linux: (config): Result<ProbeImpl> => {
        if (behaviour.throwOn === 'factory') throw new Error('factory bug');
        let n = 0n;
        return ok({
          start: () => {
            if (behaviour.throwOn === 'start') return Promise.reject(new Error('start bug'));
            return OK;
          },
          collect: (context) => {
            if (behaviour.throwOn === 'collect') throw new Error('collect bug');
            n += config.step;
            return { batches: [{ table: 'ticks', ts: context.ts, rows: [{ n }], snapshot: false }], errors: [] };
          },
          close: () => {
            if (behaviour.closes !== undefined) behaviour.closes.count += 1;
            if (behaviour.throwOn === 'close') throw new Error('close bug');
            return OK;
          },
        });
      },
    },
  });
}

const context = { tables: ['ticks'], ts: 1000, signal: new AbortController().signal };
const linuxDeps = (name = 'ticks') => createTestDeps({ name, platform: 'linux' });

describe('defineProbe', () => {
  it('builds the manifest from the identity, the schema, the tables and the platforms implemented', () => {
    const { manifest } = ticksProbe();
    expect(manifest).toEqual({
      kind: 'probe',
      name: 'ticks',
      packageName: '@example/probe-ticks',
      version: '1.2.3',
      coreRange: '^0.1.0',
      platforms: ['linux'],
      description: 'Counts its own collections.',
      configSchema: schema,
      tables: [TICKS],
    });
    expect(Object.isFrozen(manifest)).toBe(true);
  });

  it('dispatches on deps.platform and hands the implementation the derived config', async () => {
    const created = ticksProbe().createProbe({ step: 5 }, linuxDeps('mine'));
    expect(created.ok).toBe(true);
    if (!created.ok) return;
    const probe = created.value;
    expect(probe.name).toBe('mine');
    expect(probe.init()).toEqual(OK);
    expect(await probe.start?.({ emit: () => undefined })).toEqual(OK);
    await probe.collect(context);
    const second = await probe.collect(context);
    expect(second.batches[0]?.rows).toEqual([{ n: 10n }]);
  });

  it('answers UNSUPPORTED, with the package’s own sentence, on a platform it has no implementation for', async () => {
    const created = ticksProbe().createProbe({ step: 1 }, createTestDeps({ name: 'ticks', platform: 'sunos' }));
    expect(created.ok).toBe(true);
    if (!created.ok) return;
    const probe = created.value;
    expect(probe.init()).toMatchObject({ code: 'UNSUPPORTED', message: "ticks needs Linux's clock, not sunos", source: 'ticks' });
    expect((await probe.collect(context)).errors).toMatchObject([{ code: 'UNSUPPORTED' }]);
    expect(await probe.close()).toEqual(OK);
  });

  it('returns configure’s refusal as the creation’s Status, tagged with the instance', () => {
    const created = ticksProbe().createProbe({ step: 101 }, linuxDeps('slow'));
    expect(created).toMatchObject({ ok: false, status: { code: 'INVALID_CONFIG', message: 'step must be at most 100', source: 'slow' } });
  });

  it('turns a throw anywhere into a Status naming the instance and the step', async () => {
    expect(ticksProbe({ throwOn: 'factory' }).createProbe({ step: 1 }, linuxDeps())).toMatchObject({ ok: false, status: { code: 'INTERNAL', source: 'ticks', op: 'create' } });
    const collecting = ticksProbe({ throwOn: 'collect' }).createProbe({ step: 1 }, linuxDeps());
    const starting = ticksProbe({ throwOn: 'start' }).createProbe({ step: 1 }, linuxDeps());
    const closing = ticksProbe({ throwOn: 'close' }).createProbe({ step: 1 }, linuxDeps());
    if (!collecting.ok || !starting.ok || !closing.ok) throw new Error('not created');
    expect(await collecting.value.collect(context)).toMatchObject({ batches: [], errors: [{ code: 'INTERNAL', source: 'ticks', op: 'collect', message: expect.stringContaining('collect bug') }] });
    expect(await starting.value.start?.({ emit: () => undefined })).toMatchObject({ code: 'INTERNAL', op: 'start' });
    expect(await closing.value.close()).toMatchObject({ code: 'INTERNAL', op: 'close' });
  });

  it('closes once, and answers every later call with a Status instead of rows', async () => {
    const closes = { count: 0 };
    const created = ticksProbe({ closes }).createProbe({ step: 1 }, linuxDeps());
    if (!created.ok) throw new Error('not created');
    const probe = created.value;
    await Promise.all([probe.close(), probe.close()]);
    expect(await probe.close()).toEqual(OK);
    expect(closes.count).toBe(1);
    expect(await probe.collect(context)).toMatchObject({ batches: [], errors: [{ code: 'UNAVAILABLE', message: 'ticks is closed' }] });
    expect(await probe.start?.({ emit: () => undefined })).toMatchObject({ code: 'UNAVAILABLE' });
  });
});

/** A sink keeping batches in memory; `failing` makes writes fail, `throwing` makes them throw. */
function memorySink(store: Batch[][], mode: { failing?: boolean; throwing?: boolean; closes?: { count: number } } = {}) {
  return defineSink<Record<string, never>>({
    identity: { packageName: '@example/sink-memory', version: '0.0.1', coreRange: '^0.1.0' },
    name: 'memory',
    description: 'Keeps batches in memory.',
    configSchema: { type: 'object', additionalProperties: false, properties: {} },
    platforms: {
      any: (): Result<SinkImpl> => {
        const written: Batch[] = [];
        return ok({
          start: () => OK,
          write: (batches) => {
            if (mode.throwing === true) throw new Error('write bug');
            if (mode.failing === true) return { status: fail(StatusCode.UNAVAILABLE, 'down', { retryable: true }), rejected: [1] };
            written.push(...batches);
            store.push([...batches]);
            return { status: OK };
          },
          close: () => {
            if (mode.closes !== undefined) mode.closes.count += 1;
            return OK;
          },
        });
      },
    },
  });
}

const batch = (rows: number): Batch => ({ table: 'ticks', ts: 1, rows: Array.from({ length: rows }, (_, n) => ({ n })), snapshot: false });

describe('defineSink', () => {
  it('runs everywhere with an `any` implementation and counts the rows it wrote', async () => {
    const store: Batch[][] = [];
    const { manifest, createSink } = memorySink(store);
    expect(manifest).toMatchObject({ kind: 'sink', platforms: 'any', tables: [] });
    const created = createSink({}, createTestDeps({ name: 'mem', platform: 'sunos' }));
    if (!created.ok) throw new Error('not created');
    const sink = created.value;
    expect(sink.init()).toEqual(OK);
    expect(await sink.start({ tables: [TICKS] })).toEqual(OK);
    expect((await sink.write([batch(2), batch(3)])).status).toEqual(OK);
    expect(sink.stats()).toEqual({ rowsWritten: 5 });
    expect(store).toHaveLength(1);
  });

  it('counts only the batches not rejected, and turns a throwing write into a Status', async () => {
    const failing = memorySink([], { failing: true }).createSink({}, createTestDeps({ name: 'mem' }));
    const throwing = memorySink([], { throwing: true }).createSink({}, createTestDeps({ name: 'mem' }));
    if (!failing.ok || !throwing.ok) throw new Error('not created');
    await failing.value.start({ tables: [TICKS] });
    await throwing.value.start({ tables: [TICKS] });
    expect(await failing.value.write([batch(2), batch(3)])).toMatchObject({ status: { code: 'UNAVAILABLE' }, rejected: [1] });
    expect(failing.value.stats()).toEqual({ rowsWritten: 2 });
    expect(await throwing.value.write([batch(2)])).toMatchObject({ status: { code: 'INTERNAL', source: 'mem', op: 'write' } });
    expect(throwing.value.stats()).toEqual({ rowsWritten: 0 });
  });

  it('refuses batches of undeclared tables by index and hands the rest to the implementation', async () => {
    const store: Batch[][] = [];
    const created = memorySink(store).createSink({}, createTestDeps({ name: 'mem' }));
    if (!created.ok) throw new Error('not created');
    await created.value.start({ tables: [TICKS] });
    const stray = { ...batch(4), table: 'stray' };
    expect(await created.value.write([batch(1), stray, batch(2)])).toMatchObject({
      status: { code: 'INVALID_ARGUMENT', message: "table 'stray' was not declared by any probe", source: 'mem' },
      rejected: [1],
    });
    expect(store).toEqual([[batch(1), batch(2)]]);
    expect(created.value.stats()).toEqual({ rowsWritten: 3 });
  });

  it('leaves a write before a successful start to the implementation, and keeps the tables of the last successful start', async () => {
    let starts = 0;
    const { createSink } = defineSink<Record<string, never>>({
      identity,
      name: 'picky',
      description: 'Starts once.',
      configSchema: { type: 'object' },
      platforms: {
        any: () =>
          ok({
            start: () => (++starts === 1 ? OK : fail(StatusCode.INVALID_ARGUMENT, 'already started')),
            write: () => ({ status: fail(StatusCode.UNAVAILABLE, 'the store is not started') }),
          }),
      },
    });
    const created = createSink({}, createTestDeps({ name: 'picky' }));
    if (!created.ok) throw new Error('not created');
    expect(await created.value.write([batch(1)])).toMatchObject({ status: { message: 'the store is not started' } });
    expect(await created.value.start({ tables: [TICKS] })).toEqual(OK);
    expect(await created.value.start({ tables: [] })).toMatchObject({ code: 'INVALID_ARGUMENT' });
    // Still the first start's tables: ticks is declared, so the implementation sees the batch.
    expect(await created.value.write([batch(1)])).toMatchObject({ status: { message: 'the store is not started' } });
  });

  it('closes once and refuses writes afterwards', async () => {
    const closes = { count: 0 };
    const created = memorySink([], { closes }).createSink({}, createTestDeps({ name: 'mem' }));
    if (!created.ok) throw new Error('not created');
    const sink = created.value;
    await Promise.all([sink.close(), sink.close()]);
    expect(closes.count).toBe(1);
    expect(await sink.write([batch(1)])).toMatchObject({ status: { code: 'UNAVAILABLE', message: 'mem is closed' } });
    expect(await sink.flush()).toEqual(OK);
  });
});

// A kit-built probe and sink are well-behaved plugins by the contract suites' measure.
const contractProbe = ticksProbe();
probeContractSuite({
  module: contractProbe as unknown as ProbeExports,
  deps: () => createTestDeps({ platform: 'linux' }),
  supported: process.platform === 'linux',
});
sinkContractSuite({ module: memorySink([]) as unknown as SinkExports, options: () => ({}) });

/**
 * The plugin kit: a probe or sink package supplies what is its own (identity, options schema,
 * tables, a `configure` that derives its typed config, and one implementation per platform)
 * and the kit supplies what every plugin used to copy: the manifest, never-throw wrapping of
 * every call, the closed state, dispatch on `deps.platform`, and the UNSUPPORTED variant for
 * the platforms it has no implementation for.
 */
import type {
  CollectContext,
  CollectResult,
  JsonSchema,
  Platform,
  PluginDeps,
  PluginManifest,
  Probe,
  ProbeModule,
  ProbeStartContext,
  ReaderFactory,
  Sink,
  SinkModule,
  SinkStartContext,
  SinkStats,
  StoreReader,
  WriteResult,
} from './plugin.js';
import type { Batch, TableSchema } from './schema.js';
import { err, fail, ok, OK, StatusCode, statusFromError, type Result, type Status } from './status.js';

/** Who a plugin is: generated from its package.json at build (`src/identity.ts`), never written by hand. */
export interface PluginIdentity {
  /** npm package name. */
  readonly packageName: string;
  /** The package's version. */
  readonly version: string;
  /** The `@virtualeyes/core` range from its peerDependencies. */
  readonly coreRange: string;
}

/** What a probe does on one platform; the kit wraps every call, so none of them need to catch. */
export interface ProbeImpl {
  /** Opens what the probe holds for its lifetime. Optional. */
  start?(context: ProbeStartContext): Promise<Status> | Status;
  /** One collection of the due tables. */
  collect(context: CollectContext): Promise<CollectResult> | CollectResult;
  /** Releases everything; the kit calls it at most once. Optional. */
  close?(): Promise<Status> | Status;
}

/** What a sink does on one platform; the kit wraps every call. */
export interface SinkImpl {
  /** Opens the destination and declares the tables. */
  start(context: SinkStartContext): Promise<Status> | Status;
  /** Writes batches in order. */
  write(batches: readonly Batch[]): Promise<WriteResult> | WriteResult;
  /** Makes written data durable. Optional (nothing to do). */
  flush?(): Promise<Status> | Status;
  /** Flushes and releases the destination; the kit calls it at most once. Optional. */
  close?(): Promise<Status> | Status;
  /** Counters for status output. Optional (rows written only). */
  stats?(): SinkStats;
  /** A reader over what the sink stored. Optional. */
  reader?(): StoreReader | undefined;
}

/** Builds one platform's implementation from the derived config; may refuse with a Status. */
export type PlatformFactory<C, I> = (config: C, deps: PluginDeps) => Result<I>;

/** What a plugin package supplies; `O` is its validated options, `C` what `configure` derives from them. */
export interface PluginDefinition<O, C, I> {
  /** Generated from package.json. */
  readonly identity: PluginIdentity;
  /** Short stable name (`procfs`). */
  readonly name: string;
  /** One sentence saying what the plugin does. */
  readonly description: string;
  /** JSON Schema of the options; the loader validates and defaults them with it, once. */
  readonly configSchema: JsonSchema;
  /**
   * Derives the typed config from options the loader already validated and defaulted: resolved
   * lists, compiled patterns. Refuses with INVALID_CONFIG what a schema cannot say. Default: the options as they are.
   */
  readonly configure?: (options: O) => Result<C>;
  /** One implementation per platform; every other platform gets the UNSUPPORTED variant. `any` runs everywhere. */
  readonly platforms: Partial<Record<Platform | 'any', PlatformFactory<C, I>>>;
  /** Why the plugin cannot run on `platform` and what would be needed there: one sentence. */
  readonly unsupported?: (platform: string) => string;
}

/** A probe definition. */
export interface ProbeDefinition<O, C = O> extends PluginDefinition<O, C, ProbeImpl> {
  /** The tables the probe produces. */
  readonly tables: readonly TableSchema[];
}

/** A sink definition. */
export interface SinkDefinition<O, C = O> extends PluginDefinition<O, C, SinkImpl> {
  /** Opens the sink's stored data read-only (the CLI's offline path), if the sink is a store. */
  readonly createReader?: ReaderFactory<O>;
}

/** What {@link defineProbe} gives back: the module the loader looks for. */
export type DefinedProbe<O> = Required<ProbeModule<O>>;

/** What {@link defineSink} gives back: the module the loader looks for. */
export type DefinedSink<O> = SinkModule<O>;

function manifestOf<O, C, I>(kind: 'probe' | 'sink', definition: PluginDefinition<O, C, I>, tables: readonly TableSchema[]): PluginManifest {
  const platforms = Object.keys(definition.platforms) as (Platform | 'any')[];
  return Object.freeze<PluginManifest>({
    kind,
    name: definition.name,
    packageName: definition.identity.packageName,
    version: definition.identity.version,
    coreRange: definition.identity.coreRange,
    platforms: platforms.includes('any') ? 'any' : (platforms as Platform[]),
    description: definition.description,
    configSchema: definition.configSchema,
    tables,
  });
}

/** What a definition builds for one instance: its platform's implementation, or why there is none here. */
type Built<I> = { readonly impl: I } | { readonly unsupported: Status };

/** The platform's implementation, UNSUPPORTED when there is none, or the refusal of configure or the factory. */
function implementationFor<O, C, I>(definition: PluginDefinition<O, C, I>, options: O, deps: PluginDeps): Result<Built<I>> {
  const op = { source: deps.name, op: 'create' } as const;
  const tagged = (status: Status): Status => ({ ...status, source: status.source ?? deps.name });
  let config: Result<C>;
  try {
    config = definition.configure === undefined ? ok(options as unknown as C) : definition.configure(options);
  } catch (error) {
    return err(statusFromError(error, op));
  }
  if (!config.ok) return err(tagged(config.status));
  const factory = definition.platforms[deps.platform as Platform] ?? definition.platforms.any;
  if (factory === undefined) {
    const why = definition.unsupported?.(deps.platform) ?? `${definition.name} has no implementation for ${deps.platform}`;
    return ok({ unsupported: fail(StatusCode.UNSUPPORTED, why, { source: deps.name, op: 'init' }) });
  }
  let built: Result<I>;
  try {
    built = factory(config.value, deps);
  } catch (error) {
    return err(statusFromError(error, op));
  }
  return built.ok ? ok({ impl: built.value }) : err(tagged(built.status));
}

/** Runs `fn`, turning a throw or a rejection into a Status tagged with the plugin and the step. */
async function guarded<T>(name: string, op: string, fn: () => Promise<T> | T, onError: (status: Status) => T): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    return onError(statusFromError(error, { source: name, op }));
  }
}

const closedStatus = (name: string, op: string): Status => fail(StatusCode.UNAVAILABLE, `${name} is closed`, { source: name, op, retryable: false });

/**
 * Defines a probe package: `export const { manifest, createProbe } = defineProbe({...})`.
 * The probe it builds never throws, dispatches on `deps.platform`, answers UNSUPPORTED where it
 * has no implementation, and after `close()` (idempotent) answers every collection with a Status.
 */
export function defineProbe<O, C = O>(definition: ProbeDefinition<O, C>): DefinedProbe<O> {
  const manifest = manifestOf('probe', definition, definition.tables);
  const createProbe = (options: O, deps: PluginDeps): Result<Probe> => {
    const built = implementationFor(definition, options, deps);
    if (!built.ok) return built;
    const { name } = deps;
    if ('unsupported' in built.value) {
      const { unsupported } = built.value;
      return ok({
        name,
        init: () => unsupported,
        start: () => Promise.resolve(unsupported),
        collect: () => Promise.resolve({ batches: [], errors: [unsupported] }),
        close: () => Promise.resolve(OK),
      });
    }
    const { impl } = built.value;
    let closing: Promise<Status> | undefined;
    return ok({
      name,
      init: () => OK,
      start: (context) => (closing !== undefined ? Promise.resolve(closedStatus(name, 'start')) : guarded(name, 'start', () => impl.start?.(context) ?? OK, (status) => status)),
      collect: (context) =>
        closing !== undefined
          ? Promise.resolve({ batches: [], errors: [closedStatus(name, 'collect')] })
          : guarded(name, 'collect', () => impl.collect(context), (status): CollectResult => ({ batches: [], errors: [status] })),
      close: () => (closing ??= guarded(name, 'close', () => impl.close?.() ?? OK, (status) => status)),
    });
  };
  return { manifest, createProbe };
}

/**
 * Defines a sink package: `export const { manifest, createSink, createReader } = defineSink({...})`.
 * The sink it builds never throws, dispatches on `deps.platform`, answers UNSUPPORTED where it
 * has no implementation, counts the rows it wrote when the implementation keeps no stats, and
 * after `close()` (idempotent) refuses writes with a Status.
 */
export function defineSink<O, C = O>(definition: SinkDefinition<O, C>): DefinedSink<O> {
  const manifest = manifestOf('sink', definition, []);
  const createSink = (options: O, deps: PluginDeps): Result<Sink> => {
    const built = implementationFor(definition, options, deps);
    if (!built.ok) return built;
    const { name } = deps;
    if ('unsupported' in built.value) {
      const { unsupported } = built.value;
      return ok({
        name,
        init: () => unsupported,
        start: () => Promise.resolve(unsupported),
        write: () => Promise.resolve({ status: unsupported }),
        flush: () => Promise.resolve(OK),
        close: () => Promise.resolve(OK),
        stats: () => ({ rowsWritten: 0 }),
      });
    }
    const { impl } = built.value;
    let closing: Promise<Status> | undefined;
    let rowsWritten = 0;
    // The tables of the last successful start; undefined until one (the implementation says what a write before it means).
    let declared: ReadonlySet<string> | undefined;
    return ok({
      name,
      init: () => OK,
      start: (context) => {
        if (closing !== undefined) return Promise.resolve(closedStatus(name, 'start'));
        const tables = new Set(context.tables.map((table) => table.name));
        return guarded(name, 'start', () => impl.start(context), (status) => status).then((status) => {
          if (status.code === StatusCode.OK) declared = tables;
          return status;
        });
      },
      write: async (batches) => {
        if (closing !== undefined) return { status: closedStatus(name, 'write') };
        // Batches of tables no probe declared are refused here, by index, for every sink alike.
        const known: number[] = [];
        const unknown: number[] = [];
        batches.forEach((batch, index) => (declared === undefined || declared.has(batch.table) ? known : unknown).push(index));
        const result =
          known.length === 0
            ? { status: OK }
            : await guarded(name, 'write', () => impl.write(unknown.length === 0 ? batches : known.map((index) => batches[index] as Batch)), (status): WriteResult => ({ status }));
        const refusedByImpl = result.rejected ?? (result.status.code === StatusCode.OK ? [] : known.map((_, position) => position));
        const rejected = new Set([...unknown, ...refusedByImpl.map((position) => known[position] ?? position)]);
        batches.forEach((batch, index) => {
          if (!rejected.has(index)) rowsWritten += batch.rows.length;
        });
        if (unknown.length === 0) return result;
        const undeclared = fail(StatusCode.INVALID_ARGUMENT, `table '${batches[unknown[0] ?? 0]?.table ?? ''}' was not declared by any probe`, { source: name, op: 'write' });
        return { status: result.status.code === StatusCode.OK ? undeclared : result.status, rejected: [...rejected].sort((a, b) => a - b) };
      },
      flush: () => (closing !== undefined ? Promise.resolve(OK) : guarded(name, 'flush', () => impl.flush?.() ?? OK, (status) => status)),
      close: () => (closing ??= guarded(name, 'close', () => impl.close?.() ?? OK, (status) => status)),
      stats: () => {
        try {
          return impl.stats?.() ?? { rowsWritten };
        } catch {
          return { rowsWritten };
        }
      },
      reader: () => {
        try {
          return closing === undefined ? impl.reader?.() : undefined;
        } catch {
          return undefined;
        }
      },
    });
  };
  return definition.createReader === undefined ? { manifest, createSink } : { manifest, createSink, createReader: definition.createReader };
}

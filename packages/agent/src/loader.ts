/**
 * The plugin loader: resolves the packages named in config, imports them, checks the
 * module shape, the core version range and the platform, validates options against the
 * plugin's schema and creates the instance. Each plugin gets its own Status; one missing or
 * broken plugin never stops the others. The result prints as a boot tree with timings.
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import semver from 'semver';
import type { AgentConfig, PluginSpec } from './config.js';
import {
  classifyErrno,
  err,
  errnoOf,
  fail,
  formatStatus,
  isOk,
  ok,
  OK,
  StatusCode,
  statusFromError,
  validateSchema,
  type OptionsValidator,
  type PluginDeps,
  type PluginManifest,
  type Probe,
  type ProbeModule,
  type ReaderDeps,
  type Result,
  type Sink,
  type SinkModule,
  type Status,
  type StoreReader,
} from '@virtualeyes/core';

/** One plugin's line in the boot report. */
export interface BootEntry {
  /** Probe or sink. */
  readonly kind: 'probe' | 'sink';
  /** Instance name (manifest name or configured name; the package name if it never loaded). */
  readonly name: string;
  /** What the config asked for. */
  readonly use: string;
  /** Package version, once known. */
  readonly version?: string;
  /** OK, or why the plugin is not running. */
  readonly status: Status;
  /** Time to import, check and create, milliseconds. */
  readonly ms: number;
}

/** A plugin that loaded and was created. */
export interface LoadedProbe {
  /** Instance name. */
  readonly name: string;
  /** Its manifest. */
  readonly manifest: PluginManifest;
  /** The spec from config. */
  readonly spec: PluginSpec;
  /** The instance. */
  readonly probe: Probe;
}

/** A sink that loaded and was created. */
export interface LoadedSink {
  /** Instance name. */
  readonly name: string;
  /** Its manifest. */
  readonly manifest: PluginManifest;
  /** The spec from config. */
  readonly spec: PluginSpec;
  /** The instance. */
  readonly sink: Sink;
}

/** Everything the loader did. */
export interface LoadReport {
  /** One entry per configured plugin, in config order (probes first). */
  readonly entries: readonly BootEntry[];
  /** Probes that are ready to start. */
  readonly probes: readonly LoadedProbe[];
  /** Sinks that are ready to start. */
  readonly sinks: readonly LoadedSink[];
  /** Total loading time, milliseconds. */
  readonly ms: number;
}

/** Options for {@link loadPlugins}. */
export interface LoaderOptions {
  /** Folders whose node_modules (and relative paths) are searched, in order. */
  readonly resolveFrom: readonly string[];
  /** The running core version, checked against each manifest's coreRange. */
  readonly coreVersion: string;
  /** The platform to check manifests against. @default process.platform */
  readonly platform?: string;
  /** Validates plugin options. */
  readonly validator: OptionsValidator;
  /** Builds the deps handed to a plugin named `name`. */
  readonly depsFor: (name: string) => PluginDeps;
  /** Monotonic time for the boot timings. */
  readonly monotonic: () => number;
  /** Imports a resolved module URL. @default dynamic import() */
  readonly importModule?: (url: string) => Promise<unknown>;
}

/** What every check of a plugin needs: where to find it, and what it must agree with. */
export type CheckOptions = Pick<LoaderOptions, 'resolveFrom' | 'coreVersion' | 'platform' | 'validator' | 'importModule'>;

/** Options for {@link openStoreReader}. */
export interface ReaderLoaderOptions extends CheckOptions {
  /** What the reader is given. */
  readonly deps: ReaderDeps;
}

/**
 * Opens, read-only, the store of the first configured sink that has a reader (the CLI's path
 * when no daemon runs). Each sink is imported and checked exactly as {@link loadPlugins} checks
 * it (core range, platform, options) before its `createReader` runs. NOT_FOUND, with every
 * sink's reason, when none can be opened; a sink whose check fails for its config or version
 * is that failure.
 */
export async function openStoreReader(sinks: readonly PluginSpec[], options: ReaderLoaderOptions): Promise<Result<StoreReader>> {
  const failures: Status[] = [];
  for (const [index, spec] of sinks.entries()) {
    const checked = await checkPlugin('sink', spec, `$.sinks[${index}]`, options, new Set());
    if (!checked.ok) {
      // A sink that is not installed may simply not be a store; one that is but refuses says why.
      if (checked.status.code !== StatusCode.NOT_FOUND && checked.manifest !== undefined) return err(checked.status);
      failures.push(checked.status);
      continue;
    }
    const { module, config, name } = checked.value;
    if (module.createReader === undefined) continue;
    try {
      const reader = await module.createReader(config, options.deps);
      return reader.ok ? reader : err({ ...reader.status, source: reader.status.source ?? name });
    } catch (error) {
      return err(statusFromError(error, { source: name, op: 'open store' }));
    }
  }
  const why = failures.map((status) => formatStatus(status)).join('; ');
  return err(fail(StatusCode.NOT_FOUND, `no store to read: no configured sink can be opened read-only${why === '' ? '' : ` (${why})`}`, { op: 'open store' }));
}

/** A configured plugin as it would run: what `vwatchd --print-config` shows for it. */
export interface EffectivePlugin {
  /** The package, as configured. */
  readonly use: string;
  /** Its instance name. */
  readonly name: string;
  /** The installed package's version, once it loaded. */
  readonly version?: string;
  /** Its options after validation, every default filled in. */
  readonly options?: Readonly<Record<string, unknown>>;
  /** A probe's interval per table in milliseconds (the configured one, else the table's default); 0 is off. */
  readonly intervals?: Readonly<Record<string, number>>;
  /** Why it would not run (missing, refused options, another platform), when it would not. */
  readonly error?: { readonly code: string; readonly message: string };
}

/**
 * Every probe and sink of `config` as the loader would run it: each is imported and checked as
 * {@link loadPlugins} checks it (and not created), its options validated and defaulted, a
 * probe's intervals resolved. A plugin that fails its check carries why instead.
 */
export async function effectivePlugins(config: Pick<AgentConfig, 'probes' | 'sinks'>, options: CheckOptions): Promise<{ probes: EffectivePlugin[]; sinks: EffectivePlugin[] }> {
  const names = new Set<string>();
  const effective = async (kind: 'probe' | 'sink', spec: PluginSpec, path: string): Promise<EffectivePlugin> => {
    const checked = await checkPlugin(kind, spec, path, options, names);
    if (!checked.ok) return { use: spec.use, name: checked.name, ...(checked.manifest === undefined ? {} : { version: checked.manifest.version }), error: { code: checked.status.code, message: checked.status.message } };
    const { name, manifest, config: pluginOptions } = checked.value;
    names.add(name);
    const intervals =
      kind === 'probe' ? { intervals: Object.fromEntries(manifest.tables.map((table) => [table.name, spec.intervals?.[table.name] ?? table.defaultIntervalMs ?? 0])) } : {};
    return { use: spec.use, name, version: manifest.version, options: pluginOptions, ...intervals };
  };
  const probes: EffectivePlugin[] = [];
  for (const [index, spec] of config.probes.entries()) probes.push(await effective('probe', spec, `$.probes[${index}]`));
  const sinks: EffectivePlugin[] = [];
  for (const [index, spec] of config.sinks.entries()) sinks.push(await effective('sink', spec, `$.sinks[${index}]`));
  return { probes, sinks };
}

/** Loads every probe and sink of the config; never rejects. */
export async function loadPlugins(
  probes: readonly PluginSpec[],
  sinks: readonly PluginSpec[],
  options: LoaderOptions,
): Promise<LoadReport> {
  const started = options.monotonic();
  const entries: BootEntry[] = [];
  const loadedProbes: LoadedProbe[] = [];
  const loadedSinks: LoadedSink[] = [];
  const names = new Set<string>();
  const tables = new Map<string, string>();

  for (const [index, spec] of probes.entries()) {
    const t0 = options.monotonic();
    const outcome = await loadOne('probe', spec, `$.probes[${index}]`, options, names);
    let status = outcome.status;
    if (outcome.ok && isOk(status)) {
      const clash = outcome.manifest.tables.find((table) => tables.has(table.name));
      if (clash !== undefined) {
        status = fail(
          StatusCode.INVALID_CONFIG,
          `table '${clash.name}' is already produced by probe '${tables.get(clash.name) ?? ''}'`,
          { source: outcome.name, op: 'load' },
        );
        await outcome.instance.close();
      } else {
        for (const table of outcome.manifest.tables) tables.set(table.name, outcome.name);
        loadedProbes.push({ name: outcome.name, manifest: outcome.manifest, spec, probe: outcome.instance as Probe });
      }
    }
    entries.push(entryOf('probe', spec, outcome, status, options.monotonic() - t0));
  }
  for (const [index, spec] of sinks.entries()) {
    const t0 = options.monotonic();
    const outcome = await loadOne('sink', spec, `$.sinks[${index}]`, options, names);
    if (outcome.ok && isOk(outcome.status)) {
      loadedSinks.push({ name: outcome.name, manifest: outcome.manifest, spec, sink: outcome.instance as Sink });
    }
    entries.push(entryOf('sink', spec, outcome, outcome.status, options.monotonic() - t0));
  }
  return { entries, probes: loadedProbes, sinks: loadedSinks, ms: options.monotonic() - started };
}

type Outcome =
  | { ok: true; name: string; manifest: PluginManifest; instance: Probe | Sink; status: Status }
  | { ok: false; name: string; manifest?: PluginManifest; status: Status };

function entryOf(kind: 'probe' | 'sink', spec: PluginSpec, outcome: Outcome, status: Status, ms: number): BootEntry {
  const version = outcome.manifest?.version;
  return version === undefined
    ? { kind, name: outcome.name, use: spec.use, status, ms }
    : { kind, name: outcome.name, use: spec.use, version, status, ms };
}

/** A plugin that passed every check before its factory runs. */
interface Checked {
  readonly name: string;
  readonly manifest: PluginManifest;
  readonly module: Partial<ProbeModule & SinkModule>;
  readonly config: Record<string, unknown>;
}

type CheckOutcome = { ok: true; value: Checked } | { ok: false; name: string; manifest?: PluginManifest; status: Status };

/**
 * Imports `spec.use` and checks it as every load does: the module shape, a free instance name,
 * the core range, the platform, the table schemas and the options (validated and defaulted
 * once, here).
 */
async function checkPlugin(
  kind: 'probe' | 'sink',
  spec: PluginSpec,
  path: string,
  options: CheckOptions,
  names: ReadonlySet<string>,
): Promise<CheckOutcome> {
  const fallbackName = spec.name ?? spec.use;
  const failed = (status: Status, manifest?: PluginManifest, name = fallbackName): CheckOutcome =>
    manifest === undefined ? { ok: false, name, status } : { ok: false, name, manifest, status };

  const imported = await importPlugin(spec.use, options);
  if (!imported.ok) return failed(imported.status);
  const module = imported.value as Partial<ProbeModule & SinkModule>;
  const manifest = module.manifest;
  const factory = kind === 'probe' ? module.createProbe : module.createSink;
  if (!isManifest(manifest) || manifest.kind !== kind || typeof factory !== 'function') {
    return failed(
      fail(StatusCode.INVALID_ARGUMENT, `package '${spec.use}' does not export a ${kind} (manifest and create${kind === 'probe' ? 'Probe' : 'Sink'})`, {
        source: fallbackName,
        op: 'load',
      }),
    );
  }
  const name = spec.name ?? manifest.name;
  const tag = { source: name, op: 'load' };
  if (names.has(name)) {
    return failed(fail(StatusCode.INVALID_CONFIG, `${path}.name: instance name '${name}' is used twice`, tag), manifest, name);
  }
  if (!semver.satisfies(options.coreVersion, manifest.coreRange, { includePrerelease: true })) {
    return failed(
      fail(
        StatusCode.UNSUPPORTED,
        `${manifest.packageName}@${manifest.version} needs @virtualeyes/core ${manifest.coreRange}, this is ${options.coreVersion}`,
        tag,
      ),
      manifest,
      name,
    );
  }
  const platform = options.platform ?? process.platform;
  if (manifest.platforms !== 'any' && !(manifest.platforms as readonly string[]).includes(platform)) {
    return failed(
      fail(StatusCode.UNSUPPORTED, `runs on ${manifest.platforms.join(', ')}, not on ${platform}; skipped`, tag),
      manifest,
      name,
    );
  }
  for (const table of manifest.tables) {
    const valid = validateSchema(table);
    if (!isOk(valid)) return failed({ ...valid, source: name }, manifest, name);
  }
  if (spec.intervals !== undefined) {
    const unknown = Object.keys(spec.intervals).find((table) => !manifest.tables.some((t) => t.name === table));
    if (unknown !== undefined) {
      return failed(
        fail(StatusCode.INVALID_CONFIG, `${path}.intervals.${unknown}: '${name}' has no table '${unknown}'`, tag),
        manifest,
        name,
      );
    }
  }
  const config = options.validator.validate<Record<string, unknown>>(manifest.configSchema, spec.options ?? {}, `${path}.options`);
  if (!config.ok) return failed({ ...config.status, source: name }, manifest, name);
  return { ok: true, value: { name, manifest, module, config: config.value } };
}

/**
 * A plugin's config refusal with the JSON path its message starts with (`$.events[1]: …`, a path
 * in the plugin's own options) made a path in the user's file (`$.probes[0].options.events[1]: …`).
 */
function inFile(status: Status, optionsPath: string): Status {
  if (status.code !== StatusCode.INVALID_CONFIG || !/^\$[.[]/.test(status.message)) return status;
  return { ...status, message: `${optionsPath}${status.message.slice(1)}` };
}

async function loadOne(
  kind: 'probe' | 'sink',
  spec: PluginSpec,
  path: string,
  options: LoaderOptions,
  names: Set<string>,
): Promise<Outcome> {
  const checked = await checkPlugin(kind, spec, path, options, names);
  if (!checked.ok) return checked;
  const { name, manifest, module, config } = checked.value;
  const factory = kind === 'probe' ? module.createProbe : module.createSink;
  const failed = (status: Status): Outcome => ({ ok: false, name, manifest, status });

  let created: Result<Probe | Sink>;
  try {
    created = (factory as (config: unknown, deps: PluginDeps) => Result<Probe | Sink>)(config, options.depsFor(name));
  } catch (error) {
    created = err(statusFromError(error, { source: name, op: 'create' }));
  }
  if (!created.ok) return failed(inFile({ ...created.status, source: created.status.source ?? name }, `${path}.options`));
  const instance = created.value;
  let initialized: Status;
  try {
    initialized = instance.init();
  } catch (error) {
    initialized = statusFromError(error, { source: name, op: 'init' });
  }
  if (!isOk(initialized)) {
    await instance.close().catch(() => OK);
    return failed({ ...initialized, source: initialized.source ?? name });
  }
  // Only a plugin that loaded claims its name; a failed one leaves it to the next.
  names.add(name);
  return { ok: true, name, manifest, instance, status: OK };
}

/** Resolves `use` from the first folder that has it and imports it; NOT_FOUND when none does. */
export async function importPlugin(
  use: string,
  options: Pick<LoaderOptions, 'resolveFrom' | 'importModule'>,
): Promise<Result<unknown>> {
  let resolved: string | undefined;
  let lastError: unknown;
  for (const base of options.resolveFrom) {
    try {
      resolved = createRequire(join(base, 'noop.js')).resolve(use);
      break;
    } catch (error) {
      lastError = error;
    }
  }
  if (resolved === undefined) {
    const code = errnoOf(lastError);
    if (code === 'MODULE_NOT_FOUND' || code === undefined) {
      return err(
        fail(StatusCode.NOT_FOUND, `package '${use}' is not installed (looked from ${options.resolveFrom.join(', ')})`, {
          source: use,
          op: 'load',
        }),
      );
    }
    return err(classifyErrno(lastError, 'resolve', use));
  }
  try {
    const importer = options.importModule ?? ((url: string) => import(url));
    return ok(await importer(pathToFileURL(resolved).href));
  } catch (error) {
    return err(statusFromError(error, { code: StatusCode.INTERNAL, source: use, op: 'import' }));
  }
}

function isManifest(value: unknown): value is PluginManifest {
  if (typeof value !== 'object' || value === null) return false;
  const m = value as Partial<PluginManifest>;
  return (
    (m.kind === 'probe' || m.kind === 'sink') &&
    typeof m.name === 'string' &&
    typeof m.packageName === 'string' &&
    typeof m.version === 'string' &&
    typeof m.coreRange === 'string' &&
    (m.platforms === 'any' || Array.isArray(m.platforms)) &&
    typeof m.configSchema === 'object' &&
    Array.isArray(m.tables)
  );
}

/** Renders the boot report as a tree: `vwatchd 41 ms`, then one line per plugin. */
export function formatBootTree(title: string, report: Pick<LoadReport, 'entries' | 'ms'>): string {
  const lines = [`${title} ${Math.round(report.ms)} ms`];
  report.entries.forEach((entry, index) => {
    const branch = index === report.entries.length - 1 ? '└──' : '├──';
    const what = entry.version === undefined ? entry.use : `${entry.use}@${entry.version}`;
    const outcome = isOk(entry.status) ? `${Math.round(entry.ms)} ms` : formatStatus({ ...entry.status, source: undefined, op: undefined });
    lines.push(`${branch} ${entry.kind} ${entry.name} (${what}) ${outcome}`);
  });
  return lines.join('\n');
}

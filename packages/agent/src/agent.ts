/**
 * createAgent(): the composition root. It validates the config, wires clock, logger, file
 * reader, hooks, loader, scheduler and sink buffers in an awilix container (PROXY mode,
 * strict), loads the plugins and returns an agent to start and stop. Plugins only ever see
 * the typed deps object built here; awilix stays inside this file.
 */
import { hostname } from 'node:os';
import { asFunction, asValue, createContainer, InjectionMode } from 'awilix';
import { createBuffers, type IdleSink, type SinkRuntime } from './agent-sinks.js';
import { CORE_VERSION, createFileReader, createHooks, createLogger, createOptionsValidator, createSystemClock, err, fail, holdProcess, isOk, ok, OK, StatusCode, statusFromError, validateRow, validateTimes, withSource, type Batch, type Clock, type CollectInfo, type FileReader, type Hooks, type Logger, type OptionsValidator, type PluginDeps, type Result, type Row, type Status, type StoreReader, type TableSchema, type TapStats } from '@virtualeyes/core';
import { AGENT_CONFIG_SCHEMA, resolveRoots, type AgentConfig, type ResolvedRoot } from './config.js';
import { formatBootTree, loadPlugins, type BootEntry, type LoadReport } from './loader.js';
import { createScheduler, type RunOutcome, type Scheduler, type TableSchedule } from './scheduler.js';
import type { BufferStats } from './buffer.js';

/** Options for {@link createAgent} that are code, not config. */
export interface AgentOptions {
  /** Time source. @default the system clock */
  readonly clock?: Clock;
  /** Root logger. @default info level on stderr */
  readonly logger?: Logger;
  /** File reader handed to plugins; when given, the config's `roots` are checked but not applied to it. @default the real file system under `roots` */
  readonly files?: FileReader;
  /** Environment the HOST_PROC, HOST_SYS, HOST_ETC, HOST_DEV and HOST_CGROUP roots are read from. @default process.env */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Folders plugins are resolved from, in order. @default the working directory */
  readonly resolveFrom?: readonly string[];
  /** Platform for manifest checks. @default process.platform */
  readonly platform?: string;
  /** Random source for jitter and backoff. @default Math.random */
  readonly random?: () => number;
  /** How long stop() keeps retrying pending writes before spilling them to disk. @default 5000 */
  readonly flushTimeoutMs?: number;
  /** How long start() retries a sink start that failed retryably. @default 15000 */
  readonly startRetryMs?: number;
}

/** Failing statuses seen by the agent, counted per source, code and operation. */
export interface StatusCount {
  /** Plugin or component. */
  readonly source: string;
  /** Status code. */
  readonly code: string;
  /** The operation (`perf_event_open cycles`), or '*' for statuses folded in past the cap. */
  readonly op: string;
  /** Times seen. */
  readonly count: number;
  /** Message of the latest one. */
  readonly lastMessage: string;
  /** When the latest was seen, epoch milliseconds. */
  readonly lastAt: number;
}

/** A snapshot of what the agent is doing. */
export interface AgentStatus {
  /** Host name stamped on rows. */
  readonly host: string;
  /** Core version. */
  readonly coreVersion: string;
  /** When start() ran, epoch milliseconds, or null. */
  readonly startedAt: number | null;
  /** Boot report lines. */
  readonly plugins: readonly BootEntry[];
  /** Scheduler counters per table. */
  readonly tables: readonly TableSchedule[];
  /** Buffer counters per sink, with the sink's own stats. */
  readonly sinks: readonly (BufferStats & { readonly rowsWritten: number; readonly bytesOnDisk?: number; readonly path?: string })[];
  /** Failing statuses by source, code and operation. */
  readonly errors: readonly StatusCount[];
  /** Rows dropped before any sink saw them, per producing probe and table: undeclared tables, rows not matching the schema. */
  readonly rejected: readonly RejectedRows[];
  /** Time spent in hook taps. */
  readonly taps: readonly TapStats[];
}

/** Rows of one probe's table that the pipeline dropped, and the latest reason. */
export interface RejectedRows {
  /** Probe instance name. */
  readonly probe: string;
  /** Table the rows were emitted for. */
  readonly table: string;
  /** Rows dropped since start. */
  readonly rows: number;
  /** Why the latest one was dropped. */
  readonly lastMessage: string;
}

/** What a stop left behind: enough for a caller to say whether anything collected is unwritten. */
export interface StopReport {
  /** The first failure seen while stopping, or OK. */
  readonly status: Status;
  /** Rows written to sinks during this run (replayed ones included). */
  readonly writtenRows: number;
  /** Rows waiting in spill files for the next start, over every sink (earlier stops' included). */
  readonly spilledRows: number;
  /** Rows dropped during this run: buffer limits, refused by a sink, or no room to spill them. */
  readonly droppedRows: number;
  /** Each sink (by instance name) that failed to close, and why. */
  readonly unclosed: readonly { readonly sink: string; readonly status: Status }[];
}

/** A running (or ready) agent. */
export interface Agent {
  /** The agent's hooks; tap them before start(). */
  readonly hooks: Hooks;
  /** What loading did, plugin by plugin. */
  readonly boot: LoadReport;
  /** The validated config with defaults. */
  readonly config: AgentConfig;
  /** The boot report as a tree of lines. */
  bootTree(title?: string): string;
  /** Starts sinks, then probes, then the schedule. Returns the first failure, if any. */
  start(): Promise<Status>;
  /** Collects every polled table of every probe once, now, and writes the result. */
  collectOnce(): Promise<Status>;
  /**
   * Stops: ends start retries and the schedule, closes probes, flushes sinks until the flush
   * deadline, spills what is still queued to disk, then closes sinks. Holds the process alive
   * until done. Safe to call twice, and during start().
   */
  stop(): Promise<Status>;
  /** What the finished stop left behind; undefined until stop() resolved. */
  stopReport(): StopReport | undefined;
  /** Spills every sink's queue to disk now, synchronously, without closing anything (for an exit that cannot wait). */
  spillNow(): StopReport;
  /** Counters. */
  status(): AgentStatus;
  /** The first started sink that can answer queries. */
  reader(): StoreReader | undefined;
}

interface Cradle {
  config: AgentConfig;
  clock: Clock;
  logger: Logger;
  files: FileReader;
  roots: readonly ResolvedRoot[];
  random: () => number;
  tapStats: Map<string, TapStats>;
  statusBoard: StatusBoard;
  hooks: Hooks;
  validator: OptionsValidator;
  host: string;
  depsFor: (name: string) => PluginDeps;
}

/** Validates config, composes the agent and loads its plugins. Never rejects. */
export async function createAgent(rawConfig: unknown, options: AgentOptions = {}): Promise<Result<Agent>> {
  const validator = createOptionsValidator();
  const parsed = validator.validate<AgentConfig>(AGENT_CONFIG_SCHEMA, rawConfig);
  if (!parsed.ok) return parsed;
  const config = parsed.value;
  const roots = resolveRoots(config.roots, options.env ?? process.env);
  if (!roots.ok) return roots;
  // An injected reader already decides where paths go; the roots are then only checked.
  const applied = options.files === undefined ? roots.value : [];
  try {
    const container = createContainer<Cradle>({ injectionMode: InjectionMode.PROXY, strict: true });
    container.register({
      config: asValue(config),
      clock: asValue(options.clock ?? createSystemClock()),
      logger: asValue(options.logger ?? createLogger()),
      files: asValue(options.files ?? createFileReader({ roots: Object.fromEntries(applied.map((root) => [root.path, root.target])) })),
      roots: asValue(applied),
      random: asValue(options.random ?? Math.random),
      tapStats: asValue(new Map<string, TapStats>()),
      validator: asValue(validator),
      host: asValue(config.host ?? hostname()),
      statusBoard: asFunction(({ clock, logger }: Cradle) => createStatusBoard(clock, logger)).singleton(),
      hooks: asFunction(({ statusBoard, tapStats }: Cradle) =>
        createHooks({ stats: tapStats, onTapError: (status) => statusBoard.report(status) }),
      ).singleton(),
      depsFor: asFunction(({ clock, logger, files, hooks, host }: Cradle) => (name: string): PluginDeps =>
        Object.freeze({ name, clock, logger: logger.child(name), files, hooks, host, dataDir: config.dataDir, platform: options.platform ?? process.platform }),
      ).singleton(),
    });
    const cradle = container.cradle;
    cradle.statusBoard.attach(cradle.hooks);
    cradle.hooks.configResolved.call(config);
    const report = await loadPlugins(config.probes, config.sinks, {
      resolveFrom: options.resolveFrom ?? [process.cwd()],
      coreVersion: CORE_VERSION,
      validator: cradle.validator,
      depsFor: cradle.depsFor,
      monotonic: () => cradle.clock.monotonic(),
      ...(options.platform === undefined ? {} : { platform: options.platform }),
    });
    return ok(composeAgent(cradle, report, options.flushTimeoutMs ?? 5000, options.startRetryMs ?? 15_000));
  } catch (error) {
    // awilix throws on resolution errors; this is the one place that can happen.
    return err(statusFromError(error, { source: 'core', op: 'compose agent' }));
  }
}

function composeAgent(cradle: Cradle, report: LoadReport, flushTimeoutMs: number, startRetryMs: number): Agent {
  const { config, clock, logger, hooks, statusBoard, host, roots } = cradle;
  const probes = new Map(report.probes.map((loaded) => [loaded.name, loaded]));
  // The one place rows are checked: the table must be the producing probe's own, and each row
  // must match its schema. A bad row is dropped alone and counted against its probe by name.
  const tablesOf = new Map(report.probes.map((loaded) => [loaded.name, new Map(loaded.manifest.tables.map((t) => [t.name, t]))]));
  const rejected = new Map<string, RejectedRows>();
  const reject = (probe: string, table: string, rows: number, status: Status): void => {
    const key = `${probe}\u0000${table}`;
    rejected.set(key, { probe, table, rows: (rejected.get(key)?.rows ?? 0) + rows, lastMessage: status.message });
    statusBoard.report(status);
  };
  // Frozen rows already found valid against a schema: a probe re-emitting the same frozen object
  // for an unchanged entity (procfs does, for every idle process) is not checked again.
  const validated = new WeakMap<TableSchema, WeakSet<Row>>();
  /** The batch with only the rows matching the schema (the same object when all do), or none when its per-row times or ends do not fit it. */
  const validRows = (schema: TableSchema, batch: Batch, probe: string): Batch[] => {
    const timed = validateTimes(schema, batch);
    if (!isOk(timed)) {
      reject(probe, batch.table, batch.rows.length, fail(StatusCode.INVALID_ARGUMENT, `dropped ${batch.rows.length} rows of ${batch.table}: ${timed.message}`, { source: probe, op: 'validate' }));
      return [];
    }
    // The indexes of the rows kept, once one is dropped.
    let kept: number[] | undefined;
    let first: Status | undefined;
    let known = validated.get(schema);
    if (known === undefined) validated.set(schema, (known = new WeakSet()));
    for (const [index, row] of batch.rows.entries()) {
      if (known.has(row)) {
        kept?.push(index);
        continue;
      }
      const valid = validateRow(schema, row);
      if (isOk(valid) && Object.isFrozen(row)) known.add(row);
      if (isOk(valid)) kept?.push(index);
      else {
        first ??= valid;
        kept ??= Array.from({ length: index }, (_, earlier) => earlier);
      }
    }
    if (kept === undefined || first === undefined) return [batch];
    const dropped = batch.rows.length - kept.length;
    reject(probe, batch.table, dropped, fail(StatusCode.INVALID_ARGUMENT, `dropped ${dropped} of ${batch.rows.length} rows of ${batch.table}: ${first.message}`, { source: probe, op: 'validate' }));
    // Per-row times and ends stay beside the rows they belong to.
    const { times, ends } = batch;
    return [
      {
        ...batch,
        rows: kept.map((index) => batch.rows[index]!),
        ...(times === undefined ? {} : { times: kept.map((index) => times[index]!) }),
        ...(ends === undefined ? {} : { ends: kept.map((index) => ends[index]!) }),
      },
    ];
  };
  let sinks: SinkRuntime[] = [];
  let idle: IdleSink[] = [];
  let startedAt: number | null = null;
  let starting: Promise<Status> | undefined;
  let stopping: Promise<Status> | undefined;
  let stopped: StopReport | undefined;
  const halt = new AbortController();

  const reportOf = (status: Status, unclosed: StopReport['unclosed']): StopReport => {
    const stats = sinks.map((sink) => sink.buffer.stats());
    const waiting = idle.flatMap((entry) => entry.spill.pending()).reduce((sum, file) => sum + file.rows, 0);
    return {
      status,
      writtenRows: stats.reduce((sum, entry) => sum + entry.writtenRows, 0),
      spilledRows: waiting + stats.reduce((sum, entry) => sum + entry.spillPendingRows, 0),
      droppedRows: stats.reduce((sum, entry) => sum + entry.droppedRows, 0),
      unclosed,
    };
  };

  const spillAll = (): void => {
    for (const sink of sinks) {
      const spilled = sink.buffer.spill();
      if (spilled.batches > 0) logger.warn(`Spilled ${spilled.rows} unwritten rows to disk for the next start`, { sink: sink.name, batches: spilled.batches, dir: sink.spill.dir });
    }
  };

  const deliver = async (batches: readonly Batch[], info: CollectInfo): Promise<readonly Batch[]> => {
    const known = tablesOf.get(info.probe) ?? new Map<string, TableSchema>();
    const declared = batches.filter((batch) => {
      if (known.has(batch.table)) return true;
      reject(info.probe, batch.table, batch.rows.length, fail(StatusCode.INVALID_ARGUMENT, `emitted undeclared table '${batch.table}'`, { source: info.probe, op: 'collect' }));
      return false;
    });
    const processed = await hooks.afterCollect.promise(declared, info);
    // After the hooks, which may rewrite rows: what the sinks receive is what is checked.
    const valid = processed.flatMap((batch) => {
      const schema = known.get(batch.table);
      if (schema !== undefined) return validRows(schema, batch, info.probe);
      reject(info.probe, batch.table, batch.rows.length, fail(StatusCode.INVALID_ARGUMENT, `a hook emitted undeclared table '${batch.table}'`, { source: info.probe, op: 'afterCollect' }));
      return [];
    });
    for (const sink of sinks) sink.buffer.push(valid);
    return valid;
  };

  const run = async (probeName: string, tables: readonly string[], ts: number, signal: AbortSignal): Promise<RunOutcome> => {
    const loaded = probes.get(probeName);
    if (loaded === undefined) return { ok: false };
    const info: CollectInfo = { probe: probeName, tables, ts };
    const veto = await hooks.beforeCollect.promise(info);
    if (veto !== undefined && !isOk(veto)) {
      statusBoard.report(withSource(veto, probeName, 'beforeCollect'));
      return { ok: true };
    }
    let batches: readonly Batch[];
    let errors: readonly Status[];
    try {
      ({ batches, errors } = await loaded.probe.collect({ tables, ts, signal }));
    } catch (error) {
      batches = [];
      errors = [statusFromError(error, { source: probeName, op: 'collect' })];
    }
    for (const status of errors) statusBoard.report(withSource(status, probeName, 'collect'));
    // Rows a timed-out probe still returned (partial, snapshot: false) are kept: nothing collected is lost.
    const delivered = await deliver(batches, info);
    const rows: Record<string, number> = {};
    for (const batch of delivered) rows[batch.table] = (rows[batch.table] ?? 0) + batch.rows.length;
    if (signal.aborted) {
      statusBoard.report(fail(StatusCode.TIMEOUT, `collection of ${tables.join(', ')} exceeded ${config.scheduler.timeoutMs} ms`, { source: probeName, op: 'collect' }));
      return { ok: false, rows };
    }
    return { ok: batches.length > 0 || errors.every((status) => status.code === StatusCode.NOT_FOUND), rows };
  };

  const scheduler: Scheduler = createScheduler({ clock, config: config.scheduler, run, random: cradle.random });

  const startAll = async (): Promise<Status> => {
    startedAt = clock.now();
    // Before any plugin starts, so a plugin's complaint about a missing file reads against it.
    if (roots.length > 0) {
      const fromEnv = roots.filter((root) => !root.from.startsWith('$')).map((root) => root.from);
      logger.info('Reading host files under other roots', {
        ...Object.fromEntries(roots.map((root) => [root.path, root.target])),
        ...(fromEnv.length > 0 ? { env: fromEnv.join(',') } : {}),
      });
    }
    const tables = report.probes.flatMap((loaded) => loaded.manifest.tables);
    const started = await createBuffers(report.sinks, tables, {
      config,
      clock,
      hooks,
      statusBoard,
      random: cradle.random,
      startRetryMs,
      signal: halt.signal,
      logger,
    });
    sinks = started.sinks;
    idle = started.idle;
    // stop() was called while sinks were starting: it takes over from here, nothing is polled.
    if (halt.signal.aborted) return started.status;
    for (const loaded of report.probes) {
      if (loaded.probe.start === undefined) continue;
      let status: Status;
      try {
        status = await loaded.probe.start({
          emit: (batch) => {
            void deliver([batch], { probe: loaded.name, tables: [batch.table], ts: batch.ts });
          },
          // A table turned off (interval 0) is not collected; one without an interval is pushed.
          tables: loaded.manifest.tables.map((table) => table.name).filter((name) => (loaded.spec.intervals?.[name] ?? 1) > 0),
        });
      } catch (error) {
        status = statusFromError(error, { source: loaded.name, op: 'start' });
      }
      if (!isOk(status)) {
        statusBoard.report(withSource(status, loaded.name, 'start'));
        probes.delete(loaded.name);
      }
    }
    // Only probes that started are polled.
    for (const loaded of probes.values()) {
      scheduler.add(
        loaded.manifest.tables
          .map((table) => ({
            probe: loaded.name,
            table: table.name,
            intervalMs: loaded.spec.intervals?.[table.name] ?? table.defaultIntervalMs ?? 0,
          }))
          .filter((entry) => entry.intervalMs > 0),
      );
    }
    if (halt.signal.aborted) return started.status;
    scheduler.start();
    if (isOk(started.status)) logger.info(`Recording ${probes.size} probes into ${sinks.length} sinks`, { host });
    return started.status;
  };

  const agent: Agent = {
    hooks,
    boot: report,
    config,
    bootTree: (title = 'vwatchd') => formatBootTree(title, report),
    start() {
      if (halt.signal.aborted) return Promise.resolve(fail(StatusCode.UNAVAILABLE, 'the agent is stopping', { source: 'core', op: 'start', retryable: false }));
      starting ??= startAll();
      return starting;
    },
    async collectOnce() {
      const all = scheduler.stats();
      const byProbe = new Map<string, string[]>();
      for (const entry of all) byProbe.set(entry.probe, [...(byProbe.get(entry.probe) ?? []), entry.table]);
      for (const [probe, tables] of byProbe) await run(probe, tables, clock.now(), new AbortController().signal);
      const statuses = await Promise.all(sinks.map((sink) => sink.buffer.flush(clock.now())));
      return statuses.find((status) => !isOk(status)) ?? OK;
    },
    stop() {
      stopping ??= (async () => {
        // Clock timers are unref'd: without this, a retry sleep below could let Node exit mid-stop.
        const release = holdProcess();
        try {
          halt.abort();
          if (starting !== undefined) await starting;
          await scheduler.stop();
          const statuses: Status[] = [];
          for (const loaded of report.probes) {
            statuses.push(await loaded.probe.close().catch((error: unknown) => statusFromError(error, { source: loaded.name, op: 'close' })));
          }
          const deadline = clock.now() + flushTimeoutMs;
          statuses.push(...(await Promise.all(sinks.map((sink) => sink.buffer.flush(deadline)))));
          // What the deadline left unwritten goes to disk before the sinks close, so a slow close cannot lose it.
          spillAll();
          const unclosed: { sink: string; status: Status }[] = [];
          for (const sink of sinks) {
            const closed = await sink.sink.close().catch((error: unknown) => statusFromError(error, { source: sink.name, op: 'close' }));
            if (!isOk(closed)) unclosed.push({ sink: sink.name, status: withSource(closed, sink.name, 'close') });
            statuses.push(closed);
          }
          const failed = statuses.filter((status) => !isOk(status));
          for (const status of failed) statusBoard.report(status);
          stopped = reportOf(failed[0] ?? OK, unclosed);
          return stopped.status;
        } finally {
          release();
        }
      })();
      return stopping;
    },
    stopReport: () => stopped,
    spillNow() {
      spillAll();
      return reportOf(fail(StatusCode.UNAVAILABLE, 'stopped without closing the sinks', { source: 'core', op: 'stop', retryable: false }), []);
    },
    status() {
      return {
        host,
        coreVersion: CORE_VERSION,
        startedAt,
        plugins: report.entries,
        tables: scheduler.stats(),
        sinks: sinks.map((sink) => ({ ...sink.buffer.stats(), ...sink.sink.stats() })),
        errors: statusBoard.counts(),
        rejected: [...rejected.values()],
        taps: [...cradle.tapStats.values()],
      };
    },
    reader() {
      for (const sink of sinks) {
        const reader = sink.sink.reader?.();
        if (reader !== undefined) return reader;
      }
      return undefined;
    },
  };
  return agent;
}

/** Counts, logs (rate-limited) and republishes every failing status the agent sees. */
export interface StatusBoard {
  /** Records a failing status. */
  report(status: Status): void;
  /** Sends reported statuses to the `status` hook from now on. */
  attach(hooks: Hooks): void;
  /** Counts by source, code and operation. */
  counts(): readonly StatusCount[];
}

/** Distinct source/code/op entries kept; past it, new ops fold into one '*' entry per source and code. */
const STATUS_KEYS_MAX = 256;

function createStatusBoard(clock: Clock, logger: Logger): StatusBoard {
  const counts = new Map<string, { source: string; code: string; op: string; count: number; lastMessage: string; lastAt: number }>();
  let hooks: Hooks | undefined;
  let publishing = false;
  return {
    report(status) {
      if (isOk(status)) return;
      const source = status.source ?? 'core';
      // Ops that embed pids or paths could grow without bound: past the cap they fold into '*'.
      let op = status.op ?? '';
      let key = `${source}\u0000${status.code}\u0000${op}`;
      if (!counts.has(key) && counts.size >= STATUS_KEYS_MAX) {
        op = '*';
        key = `${source}\u0000${status.code}\u0000${op}`;
      }
      const entry = counts.get(key) ?? { source, code: status.code, op, count: 0, lastMessage: '', lastAt: 0 };
      entry.count += 1;
      entry.lastMessage = status.message;
      entry.lastAt = clock.now();
      counts.set(key, entry);
      logger.status(status);
      // A failing `status` tap reports back here; don't loop.
      if (hooks !== undefined && !publishing) {
        publishing = true;
        try {
          hooks.status.call(status);
        } finally {
          publishing = false;
        }
      }
    },
    attach(target) {
      hooks = target;
    },
    counts: () => [...counts.values()].map((entry) => ({ ...entry })),
  };
}

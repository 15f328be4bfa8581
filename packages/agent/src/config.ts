/**
 * The agent's configuration: which plugins to load and how to schedule and buffer them.
 * The JSON Schema here is the single source for validation, defaults and the daemon's
 * shipped schema file; `docs/configuration.md` is generated from it.
 */
import { statSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join, normalize } from 'node:path';
import { err, fail, messageOf, ok, StatusCode, type JsonSchema, type Result } from '@virtualeyes/core';

/** One plugin to load. */
export interface PluginSpec {
  /** npm package name or path of the plugin (`@virtualeyes/probe-procfs`). */
  readonly use: string;
  /** Instance name; defaults to the manifest's name. Needed when one plugin is loaded twice. */
  readonly name?: string;
  /** Plugin options, validated by the plugin's schema. */
  readonly options?: Readonly<Record<string, unknown>>;
  /** Per-table collection intervals in milliseconds; 0 disables a table (probes only). */
  readonly intervals?: Readonly<Record<string, number>>;
  /** Buffer limits for this sink (sinks only). */
  readonly buffer?: BufferConfig;
}

/**
 * Limits of the per-sink buffer the agent keeps in front of every sink. Memory holds at most
 * `maxBytes` for at most `maxAgeMs`; beyond either, the oldest batches move to the spill
 * directory (at most `spillMaxBytes`, kept for at most `spillMaxAgeMs`), and only beyond those
 * are batches dropped, oldest first, and counted.
 */
export interface BufferConfig {
  /** Bytes of pending rows kept in memory while a sink is slow or down; beyond, the oldest move to disk (dropped when spilling is off). */
  readonly maxBytes: number;
  /** Pending batches waiting in memory longer than this move to disk (dropped when spilling is off). */
  readonly maxAgeMs: number;
  /** First retry delay after a failed write. */
  readonly retryBaseMs: number;
  /** Retry delay cap. */
  readonly retryMaxMs: number;
  /** Most batches handed to one write call. */
  readonly maxBatchesPerWrite: number;
  /**
   * How long collected batches wait to be written together: one write (one transaction) takes
   * every batch of the window. A SIGKILL loses at most this much (plus the write in flight); a
   * stop writes everything. 0 writes each batch as soon as the sink is free.
   */
  readonly writeWindowMs: number;
  /**
   * Bytes of spill files kept on disk (`<dataDir>/spill/<sink>/`) for rows a sink could not take,
   * while it stays down or at a stop; replayed first, in order. Beyond it the oldest spill files
   * are deleted and their rows counted as dropped. 0 turns spilling off.
   */
  readonly spillMaxBytes: number;
  /** Spill files written longer ago than this are deleted unwritten and their rows counted as dropped; 0 keeps them however old. */
  readonly spillMaxAgeMs: number;
}

/** Scheduler settings shared by all probes. */
export interface SchedulerConfig {
  /** Each probe's collections start at a fixed random offset below this, to spread load. */
  readonly jitterMs: number;
  /** A collection running longer than this is abandoned and reported as TIMEOUT. */
  readonly timeoutMs: number;
  /** Cap of the delay added after repeated failed collections. */
  readonly maxBackoffMs: number;
}

/**
 * Where the host's file systems are when the agent does not see them at their usual place,
 * as when vwatchd runs in a container with the host's `/proc` mounted at `/host/proc`.
 */
export interface RootsConfig {
  /** Folder holding the host's `/proc`. */
  readonly proc?: string;
  /** Folder holding the host's `/sys`. */
  readonly sys?: string;
  /** Folder holding the host's `/etc`. */
  readonly etc?: string;
  /** Folder holding the host's `/dev`. */
  readonly dev?: string;
  /** Folder holding the host's `/sys/fs/cgroup`. */
  readonly cgroup?: string;
}

/** The name of one root in {@link RootsConfig}. */
export type RootName = keyof RootsConfig;

/**
 * Each root: the absolute path it replaces, and the environment variable that sets it when
 * the config does not (Telegraf's names where Telegraf has one).
 */
export const ROOTS: Readonly<Record<RootName, { readonly path: string; readonly env: string }>> = Object.freeze({
  proc: Object.freeze({ path: '/proc', env: 'HOST_PROC' }),
  sys: Object.freeze({ path: '/sys', env: 'HOST_SYS' }),
  etc: Object.freeze({ path: '/etc', env: 'HOST_ETC' }),
  dev: Object.freeze({ path: '/dev', env: 'HOST_DEV' }),
  cgroup: Object.freeze({ path: '/sys/fs/cgroup', env: 'HOST_CGROUP' }),
});

/** The whole agent configuration, after defaults. */
export interface AgentConfig {
  /** Host name stamped on every row; defaults to the machine's host name. */
  readonly host?: string;
  /** Where stores keep their files. */
  readonly dataDir: string;
  /** Inputs. */
  readonly probes: readonly PluginSpec[];
  /** Outputs. */
  readonly sinks: readonly PluginSpec[];
  /** Scheduling. */
  readonly scheduler: SchedulerConfig;
  /** Default buffer limits for every sink. */
  readonly buffer: BufferConfig;
  /** Where the host's /proc, /sys, /etc, /dev and cgroup hierarchy are, when not at their usual place. */
  readonly roots?: RootsConfig;
}

/** Defaults for {@link SchedulerConfig}. */
export const DEFAULT_SCHEDULER: SchedulerConfig = Object.freeze({
  jitterMs: 100,
  timeoutMs: 10_000,
  maxBackoffMs: 60_000,
});

/** Defaults for {@link BufferConfig}. */
export const DEFAULT_BUFFER: BufferConfig = Object.freeze({
  maxBytes: 64 * 1024 * 1024,
  maxAgeMs: 60 * 60 * 1000,
  retryBaseMs: 500,
  retryMaxMs: 30_000,
  maxBatchesPerWrite: 256,
  writeWindowMs: 0,
  spillMaxBytes: 256 * 1024 * 1024,
  spillMaxAgeMs: 24 * 60 * 60 * 1000,
});

const pluginSpecSchema = (kind: 'probe' | 'sink'): JsonSchema => ({
  type: 'object',
  additionalProperties: false,
  required: ['use'],
  properties: {
    use: { type: 'string', minLength: 1, description: `npm package name or path of the ${kind}.` },
    name: {
      type: 'string',
      pattern: '^[a-z][a-z0-9_-]*$',
      description: 'Instance name; defaults to the plugin manifest name.',
    },
    options: { type: 'object', description: `Options of the ${kind}, checked against its own schema.` },
    ...(kind === 'probe'
      ? {
          intervals: {
            type: 'object',
            description: 'Collection interval per table in milliseconds; 0 turns a table off.',
            additionalProperties: { type: 'integer', minimum: 0 },
          },
        }
      : { buffer: bufferSchema(false) }),
  },
});

function bufferSchema(withDefaults: boolean): JsonSchema {
  const d = (value: number): { default?: number } => (withDefaults ? { default: value } : {});
  return {
    type: 'object',
    additionalProperties: false,
    description: 'Limits of the buffer the agent keeps in front of a sink.',
    ...(withDefaults ? { default: {} } : {}),
    properties: {
      maxBytes: {
        type: 'integer',
        minimum: 1024,
        ...d(DEFAULT_BUFFER.maxBytes),
        description: 'Bytes of pending rows kept in memory while a sink is slow or down; beyond, the oldest move to the spill directory (dropped and counted when spilling is off).',
      },
      maxAgeMs: {
        type: 'integer',
        minimum: 1000,
        ...d(DEFAULT_BUFFER.maxAgeMs),
        description: 'Pending batches waiting in memory longer than this move to the spill directory (dropped and counted when spilling is off).',
      },
      retryBaseMs: { type: 'integer', minimum: 1, ...d(DEFAULT_BUFFER.retryBaseMs), description: 'First retry delay after a failed write.' },
      retryMaxMs: { type: 'integer', minimum: 1, ...d(DEFAULT_BUFFER.retryMaxMs), description: 'Retry delay cap.' },
      maxBatchesPerWrite: { type: 'integer', minimum: 1, ...d(DEFAULT_BUFFER.maxBatchesPerWrite), description: 'Most batches handed to one write call.' },
      writeWindowMs: {
        type: 'integer',
        minimum: 0,
        maximum: 60_000,
        ...d(DEFAULT_BUFFER.writeWindowMs),
        description: 'How long collected batches wait to be written together in one transaction; a SIGKILL loses at most this much, a stop writes everything. 0 writes each batch as soon as the sink is free.',
      },
      spillMaxBytes: {
        type: 'integer',
        minimum: 0,
        ...d(DEFAULT_BUFFER.spillMaxBytes),
        description:
          'Bytes of spill files (<dataDir>/spill/<sink>/) kept for rows a sink could not take, while it stays down or at a stop; replayed first, in order. Beyond it the oldest files are deleted and their rows dropped and counted; 0 turns spilling off.',
      },
      spillMaxAgeMs: {
        type: 'integer',
        minimum: 0,
        ...d(DEFAULT_BUFFER.spillMaxAgeMs),
        description: 'Spill files written longer ago than this are deleted unwritten, their rows dropped and counted; 0 keeps them however old.',
      },
    },
  };
}

/** JSON Schema of {@link AgentConfig}; applying it fills every default. */
export const AGENT_CONFIG_SCHEMA: JsonSchema = Object.freeze({
  type: 'object',
  additionalProperties: false,
  required: ['dataDir'],
  properties: {
    host: { type: 'string', minLength: 1, description: 'Host name stamped on every row; defaults to the machine host name.' },
    dataDir: { type: 'string', minLength: 1, description: 'Directory where stores keep their files.' },
    probes: { type: 'array', items: pluginSpecSchema('probe'), default: [], description: 'Probes to load.' },
    sinks: { type: 'array', items: pluginSpecSchema('sink'), default: [], description: 'Sinks to load.' },
    scheduler: {
      type: 'object',
      additionalProperties: false,
      default: {},
      description: 'Scheduling shared by all probes.',
      properties: {
        jitterMs: { type: 'integer', minimum: 0, default: DEFAULT_SCHEDULER.jitterMs, description: 'Upper bound of the fixed random start offset of each probe.' },
        timeoutMs: { type: 'integer', minimum: 1, default: DEFAULT_SCHEDULER.timeoutMs, description: 'A collection running longer is abandoned as TIMEOUT.' },
        maxBackoffMs: { type: 'integer', minimum: 0, default: DEFAULT_SCHEDULER.maxBackoffMs, description: 'Cap of the delay added after repeated failed collections.' },
      },
    },
    buffer: bufferSchema(true),
    roots: {
      type: 'object',
      additionalProperties: false,
      description:
        'Where the host file systems are when not at their usual place (in a container: {"proc": "/host/proc"}); every plugin reads through them. HOST_PROC, HOST_SYS, HOST_ETC, HOST_DEV and HOST_CGROUP set a root left out here.',
      properties: Object.fromEntries(
        (Object.entries(ROOTS) as [RootName, (typeof ROOTS)[RootName]][]).map(([name, { path, env }]) => [
          name,
          {
            type: 'string',
            pattern: '^/',
            description: `Absolute path of the folder holding the host's ${path}; ${env} when absent.`,
          },
        ]),
      ),
    },
  },
});

/** One root in use: the folder read instead of `path`, and where that was set. */
export interface ResolvedRoot {
  /** The root's name in {@link RootsConfig}. */
  readonly name: RootName;
  /** The absolute path it replaces (`/proc`). */
  readonly path: string;
  /** The folder read instead, normalised without a trailing slash. */
  readonly target: string;
  /** Where it was set: its JSON path in the config (`$.roots.proc`) or its variable (`HOST_PROC`). */
  readonly from: string;
}

/**
 * The roots in use: each from the config, else from its environment variable (an empty one
 * counts as unset). A relative path or one that is not an existing directory is
 * INVALID_CONFIG naming its JSON path or variable, so a wrong mount fails at start instead of
 * as an empty recording.
 */
export function resolveRoots(
  roots: RootsConfig | undefined,
  env: Readonly<Record<string, string | undefined>> = process.env,
  isDirectory: (path: string) => Result<boolean> = directoryCheck,
): Result<ResolvedRoot[]> {
  const resolved: ResolvedRoot[] = [];
  for (const [name, { path, env: variable }] of Object.entries(ROOTS) as [RootName, (typeof ROOTS)[RootName]][]) {
    const configured = roots?.[name];
    const fromEnv = env[variable];
    const value = configured ?? (fromEnv === '' ? undefined : fromEnv);
    if (value === undefined) continue;
    const from = configured === undefined ? variable : `$.roots.${name}`;
    const invalid = (why: string): Result<ResolvedRoot[]> =>
      err(fail(StatusCode.INVALID_CONFIG, `${from}: ${why}`, { op: 'validate config', retryable: false }));
    if (!isAbsolute(value)) return invalid(`must be an absolute path, got '${value}'`);
    const target = normalize(value).replace(/(?<=.)\/+$/, '');
    const directory = isDirectory(target);
    if (!directory.ok) return invalid(`cannot use ${target} as the host's ${path}: ${directory.status.message}`);
    if (!directory.value) return invalid(`${target} is not a directory`);
    resolved.push({ name, path, target, from });
  }
  return ok(resolved);
}

function directoryCheck(path: string): Result<boolean> {
  try {
    return ok(statSync(path).isDirectory());
  } catch (error) {
    return err(fail(StatusCode.NOT_FOUND, messageOf(error), { op: `stat ${path}`, cause: error }));
  }
}

/** The default data directory: `/var/lib/vwatchd` as root, else `$XDG_STATE_HOME/vwatchd`. */
export function defaultDataDir(
  env: Readonly<Record<string, string | undefined>> = process.env,
  uid: number = process.getuid?.() ?? -1,
  home: string = homedir(),
): string {
  if (uid === 0) return '/var/lib/vwatchd';
  const state = env['XDG_STATE_HOME'];
  return join(state !== undefined && state !== '' ? state : join(home, '.local', 'state'), 'vwatchd');
}

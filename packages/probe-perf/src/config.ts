/**
 * The probe's options: their JSON Schema (the single source of defaults, also used by the
 * loader and the generated README block), the typed config, configure (what the plugin kit
 * calls with options the loader validated), which adds what a schema cannot say: event names
 * must be known, comm patterns must compile, cgroup paths must stay under the cgroup root;
 * and parseConfig, which validates first, for code users and tests.
 */
import { err, fail, messageOf, ok, StatusCode, validateOptions, type JsonSchema, type Result } from '@virtualeyes/core';
import { DEFAULT_USER_HZ } from '@virtualeyes/linux';
import { DEFAULT_EVENTS, resolveEvents, type EventDef } from './events.js';

/** Which processes perf_process counts; a process matching any criterion is counted. */
export interface ProcessSelection {
  /** Process ids. */
  readonly pids: readonly number[];
  /** Regular expressions (JavaScript syntax) tested against the comm in /proc/PID/stat. */
  readonly comm: readonly string[];
  /** cgroup paths below cgroupRoot, as /proc/PID/cgroup shows them; the pids in their cgroup.procs. */
  readonly cgroups: readonly string[];
}

/** Options of the perf probe, after defaults. */
export interface PerfConfig {
  /** Events to count, by perf name or alias. */
  readonly events: readonly string[];
  /** Processes counted in perf_process. */
  readonly processes: ProcessSelection;
  /** Most processes counted at once. */
  readonly maxProcesses: number;
  /** Most file descriptors the per-process counters may hold. */
  readonly maxFds: number;
  /** Clock ticks per second of /proc start times (USER_HZ). */
  readonly userHz: number;
  /** Where the cgroup hierarchy that `processes.cgroups` names is mounted. */
  readonly cgroupRoot: string;
}

/** Options as a caller may pass them to {@link parseConfig}: any subset, the rest defaulted. */
export type PerfOptions = Partial<Omit<PerfConfig, 'processes'>> & { readonly processes?: Partial<ProcessSelection> };

/** Every option at its default. */
export const DEFAULT_CONFIG: PerfConfig = Object.freeze({
  events: DEFAULT_EVENTS,
  processes: Object.freeze({ pids: Object.freeze([]), comm: Object.freeze([]), cgroups: Object.freeze([]) }),
  maxProcesses: 64,
  maxFds: 4096,
  userHz: DEFAULT_USER_HZ,
  cgroupRoot: '/sys/fs/cgroup',
});

const ABSOLUTE_PATH = '^/';

/** JSON Schema of {@link PerfConfig}; applying it fills every default. */
export const CONFIG_SCHEMA: JsonSchema = Object.freeze({
  type: 'object',
  additionalProperties: false,
  properties: {
    events: {
      type: 'array',
      items: { type: 'string', minLength: 1 },
      minItems: 1,
      default: [...DEFAULT_CONFIG.events],
      description:
        'Events to count, by perf name or alias (cs, faults, cpu-cycles…): software, hardware and hardware-cache events; see the README for the list. Events this machine lacks are reported once and skipped.',
    },
    processes: {
      type: 'object',
      additionalProperties: false,
      default: { pids: [], comm: [], cgroups: [] },
      description: 'Processes to count in perf_process, re-selected at every collection; a process matching any criterion is counted.',
      properties: {
        pids: {
          type: 'array',
          items: { type: 'integer', minimum: 1, maximum: 2147483647 },
          default: [],
          description: 'Process ids.',
        },
        comm: {
          type: 'array',
          items: { type: 'string', minLength: 1 },
          default: [],
          description: 'Regular expressions (JavaScript syntax) matched against the command name in /proc/PID/stat, e.g. "^nginx$".',
        },
        cgroups: {
          type: 'array',
          items: { type: 'string', minLength: 1 },
          default: [],
          description: 'cgroups by path below cgroupRoot, as /proc/PID/cgroup shows them (/system.slice/nginx.service); the processes listed in their cgroup.procs.',
        },
      },
    },
    maxProcesses: {
      type: 'integer',
      minimum: 0,
      maximum: 100000,
      default: DEFAULT_CONFIG.maxProcesses,
      description: 'Most processes counted at once; selected processes beyond it are left out and reported.',
    },
    maxFds: {
      type: 'integer',
      minimum: 0,
      maximum: 1000000,
      default: DEFAULT_CONFIG.maxFds,
      description: 'Most file descriptors the per-process counters may hold (threads × events); a process that would pass it is left out and reported.',
    },
    userHz: {
      type: 'integer',
      minimum: 1,
      maximum: 100000,
      default: DEFAULT_CONFIG.userHz,
      description: 'Clock ticks per second of /proc start times (getconf CLK_TCK); must match probe-procfs so start_time joins.',
    },
    cgroupRoot: {
      type: 'string',
      pattern: ABSOLUTE_PATH,
      default: DEFAULT_CONFIG.cgroupRoot,
      description:
        "Where the cgroup hierarchy named by processes.cgroups is mounted (/sys/fs/cgroup/unified on a hybrid v1/v2 host); read through the agent's roots, so in a container roots.cgroup (or HOST_CGROUP) says where the host's /sys/fs/cgroup is.",
    },
  },
});

/** What {@link configure} derives from validated options: the events resolved, the comm patterns compiled. */
export interface PerfSettings {
  /** The options, validated and defaulted. */
  readonly config: PerfConfig;
  /** `config.events` resolved to their definitions, in the configured order. */
  readonly events: readonly EventDef[];
  /** `config.processes.comm`, compiled. */
  readonly patterns: readonly RegExp[];
}

/** Derives the settings from options the schema already validated; INVALID_CONFIG for what a schema cannot say. */
export function configure(config: PerfConfig): Result<PerfSettings> {
  const events = resolveEvents(config.events);
  if (!events.ok) return events;
  const patterns: RegExp[] = [];
  for (const [index, pattern] of config.processes.comm.entries()) {
    const compiled = compilePattern(pattern);
    if (!compiled.ok) {
      return invalid(`$.processes.comm[${index}]: '${pattern}' is not a valid regular expression (${compiled.status.message})`);
    }
    patterns.push(compiled.value);
  }
  for (const [index, path] of config.processes.cgroups.entries()) {
    if (path.split('/').some((part) => part === '..' || part === '.')) {
      return invalid(`$.processes.cgroups[${index}]: '${path}' must not contain . or .. segments`);
    }
  }
  return ok({ config, events: events.value, patterns });
}

/** Validates raw options and fills defaults, then checks them as {@link configure} does; INVALID_CONFIG names the JSON path (and the value) that is wrong. */
export function parseConfig(raw: unknown): Result<PerfConfig> {
  const validated = validateOptions<PerfConfig>(CONFIG_SCHEMA, raw);
  if (!validated.ok) return validated;
  const settings = configure(validated.value);
  return settings.ok ? ok(validated.value) : settings;
}

/** Compiles a comm pattern; INVALID_CONFIG carrying the engine's message when it does not compile. */
export function compilePattern(pattern: string): Result<RegExp> {
  try {
    return ok(new RegExp(pattern));
  } catch (error) {
    return invalid(messageOf(error));
  }
}

function invalid<T>(message: string): Result<T> {
  return err(fail(StatusCode.INVALID_CONFIG, message, { op: 'validate config', retryable: false }));
}

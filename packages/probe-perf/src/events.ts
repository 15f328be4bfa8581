/**
 * The events this probe counts, by the names and aliases `perf list` uses, and how they are
 * grouped: every software event in one group, hardware events in small pairs whose ratio
 * means something (cycles with instructions, loads with their misses), so that a derived
 * figure comes from one counting window. Pure data and functions; no kernel involved.
 */
import { err, fail, ok, StatusCode, type Result } from '@virtualeyes/core';
import { HwCache, HwCacheOp, HwCacheResult, hwCacheConfig, HwConfig, PerfType, SwConfig } from './constants.js';

/** One countable event. */
export interface EventDef {
  /** The canonical perf name, stored in the `event` column. */
  readonly name: string;
  /** Other spellings perf accepts. */
  readonly aliases: readonly string[];
  /** perf_event_attr.type. */
  readonly type: PerfType;
  /** perf_event_attr.config. */
  readonly config: number;
  /** Events sharing a group name are opened as one group when more than one is configured. */
  readonly group: string;
  /** One sentence saying what it counts. */
  readonly description: string;
}

const SOFTWARE_GROUP = 'software';
const cache = (c: number, result: number): number => hwCacheConfig(c, HwCacheOp.READ, result);

/** Every event this probe knows, in the order `perf list` shows them. */
export const EVENTS: readonly EventDef[] = Object.freeze([
  sw('cpu-clock', [], SwConfig.CPU_CLOCK, 'CPU time spent, in nanoseconds, measured with a high-resolution timer.'),
  sw('task-clock', [], SwConfig.TASK_CLOCK, 'CPU time of the tasks counted, in nanoseconds.'),
  sw('context-switches', ['cs'], SwConfig.CONTEXT_SWITCHES, 'Context switches.'),
  sw('cpu-migrations', ['migrations'], SwConfig.CPU_MIGRATIONS, 'Moves of a task from one CPU to another.'),
  sw('page-faults', ['faults'], SwConfig.PAGE_FAULTS, 'Page faults, minor and major.'),
  sw('minor-faults', [], SwConfig.PAGE_FAULTS_MIN, 'Page faults served without I/O.'),
  sw('major-faults', [], SwConfig.PAGE_FAULTS_MAJ, 'Page faults that needed I/O.'),
  hw('cycles', ['cpu-cycles'], HwConfig.CPU_CYCLES, 'cycles', 'CPU cycles.'),
  hw('instructions', [], HwConfig.INSTRUCTIONS, 'cycles', 'Instructions retired.'),
  hw('cache-references', [], HwConfig.CACHE_REFERENCES, 'cache', 'Cache accesses (usually the last-level cache).'),
  hw('cache-misses', [], HwConfig.CACHE_MISSES, 'cache', 'Cache accesses that missed (usually the last-level cache).'),
  hw('branches', ['branch-instructions'], HwConfig.BRANCH_INSTRUCTIONS, 'branches', 'Branch instructions retired.'),
  hw('branch-misses', [], HwConfig.BRANCH_MISSES, 'branches', 'Mispredicted branches.'),
  hw('bus-cycles', [], HwConfig.BUS_CYCLES, 'bus-cycles', 'Bus cycles.'),
  hw('ref-cycles', [], HwConfig.REF_CPU_CYCLES, 'ref-cycles', 'Reference cycles, not affected by CPU frequency scaling.'),
  hc('L1-dcache-loads', cache(HwCache.L1D, HwCacheResult.ACCESS), 'L1-dcache', 'Loads from the level 1 data cache.'),
  hc('L1-dcache-load-misses', cache(HwCache.L1D, HwCacheResult.MISS), 'L1-dcache', 'Loads that missed the level 1 data cache.'),
  hc('LLC-loads', cache(HwCache.LL, HwCacheResult.ACCESS), 'LLC', 'Loads from the last-level cache.'),
  hc('LLC-load-misses', cache(HwCache.LL, HwCacheResult.MISS), 'LLC', 'Loads that missed the last-level cache.'),
  hc('dTLB-loads', cache(HwCache.DTLB, HwCacheResult.ACCESS), 'dTLB', 'Loads looked up in the data TLB.'),
  hc('dTLB-load-misses', cache(HwCache.DTLB, HwCacheResult.MISS), 'dTLB', 'Loads that missed the data TLB.'),
  hc('node-loads', cache(HwCache.NODE, HwCacheResult.ACCESS), 'node', 'Memory loads served by a NUMA node (local or remote).'),
  hc('node-load-misses', cache(HwCache.NODE, HwCacheResult.MISS), 'node', 'Memory loads served by a remote NUMA node.'),
]);

/** The events counted when the config names none: every software event and the hardware events with a meaningful pair. */
export const DEFAULT_EVENTS: readonly string[] = Object.freeze([
  'cpu-clock',
  'task-clock',
  'context-switches',
  'cpu-migrations',
  'page-faults',
  'minor-faults',
  'major-faults',
  'cycles',
  'instructions',
  'cache-references',
  'cache-misses',
  'branches',
  'branch-misses',
  'LLC-loads',
  'LLC-load-misses',
  'node-loads',
  'node-load-misses',
]);

/** Looks an event up by its name or an alias (case-sensitive, as perf spells them). */
export function findEvent(name: string): EventDef | undefined {
  return EVENTS.find((event) => event.name === name || event.aliases.includes(name));
}

/**
 * Resolves configured names to events in the order given; INVALID_CONFIG naming the JSON
 * path and the name when one is unknown or names an event already listed (under any alias).
 */
export function resolveEvents(names: readonly string[], path = '$.events'): Result<EventDef[]> {
  const events: EventDef[] = [];
  for (const [index, name] of names.entries()) {
    const event = findEvent(name);
    const at = `${path}[${index}]`;
    if (event === undefined) {
      return err(
        fail(StatusCode.INVALID_CONFIG, `${at}: unknown perf event '${name}'; known events: ${EVENTS.map((e) => e.name).join(', ')}`, {
          op: 'validate config',
        }),
      );
    }
    if (events.includes(event)) {
      const same = name === event.name ? `'${name}'` : `'${name}' (${event.name})`;
      return err(fail(StatusCode.INVALID_CONFIG, `${at}: ${same} is listed twice`, { op: 'validate config' }));
    }
    events.push(event);
  }
  return ok(events);
}

/**
 * Splits events into the groups they are opened in: all software events together first, then
 * each hardware pair (or a lone member of one) in the order its first member was configured.
 */
export function groupEvents(events: readonly EventDef[]): EventDef[][] {
  const groups = new Map<string, EventDef[]>();
  for (const event of events) {
    const members = groups.get(event.group);
    if (members === undefined) groups.set(event.group, [event]);
    else members.push(event);
  }
  const software = groups.get(SOFTWARE_GROUP);
  const others = [...groups.entries()].filter(([name]) => name !== SOFTWARE_GROUP).map(([, members]) => members);
  return software === undefined ? others : [software, ...others];
}

/** Whether a failure to open this event may mean the machine lacks it (a PMU event) rather than a bug. */
export function isPmuEvent(event: EventDef): boolean {
  return event.type === PerfType.HARDWARE || event.type === PerfType.HW_CACHE;
}

function sw(name: string, aliases: readonly string[], config: number, description: string): EventDef {
  return { name, aliases, type: PerfType.SOFTWARE, config, group: SOFTWARE_GROUP, description };
}

function hw(name: string, aliases: readonly string[], config: number, group: string, description: string): EventDef {
  return { name, aliases, type: PerfType.HARDWARE, config, group, description };
}

function hc(name: string, config: number, group: string, description: string): EventDef {
  return { name, aliases: [], type: PerfType.HW_CACHE, config, group, description };
}

/**
 * The event catalogue and grouping, without a kernel: names and aliases as perf spells them,
 * the configs <linux/perf_event.h> gives them, and groups that keep meaningful pairs together.
 */
import { describe, expect, it } from 'vitest';
import { EVENTS, findEvent, groupEvents, resolveEvents } from '../src/index.js';

const names = (groups: ReturnType<typeof groupEvents>): string[][] => groups.map((group) => group.map((event) => event.name));
const resolved = (list: string[]) => {
  const result = resolveEvents(list);
  if (!result.ok) throw new Error(result.status.message);
  return result.value;
};

describe('events', () => {
  it.each([
    ['cs', 'context-switches'],
    ['migrations', 'cpu-migrations'],
    ['faults', 'page-faults'],
    ['cpu-cycles', 'cycles'],
    ['branch-instructions', 'branches'],
    ['node-load-misses', 'node-load-misses'],
  ])('resolves %s to %s', (alias, name) => {
    expect(findEvent(alias)?.name).toBe(name);
  });

  it.each([
    ['cpu-clock', 1, 0],
    ['task-clock', 1, 1],
    ['page-faults', 1, 2],
    ['context-switches', 1, 3],
    ['cpu-migrations', 1, 4],
    ['minor-faults', 1, 5],
    ['major-faults', 1, 6],
    ['cycles', 0, 0],
    ['instructions', 0, 1],
    ['cache-references', 0, 2],
    ['cache-misses', 0, 3],
    ['branches', 0, 4],
    ['branch-misses', 0, 5],
    ['bus-cycles', 0, 6],
    ['ref-cycles', 0, 9],
    ['L1-dcache-loads', 3, 0x00000],
    ['L1-dcache-load-misses', 3, 0x10000],
    ['LLC-loads', 3, 0x00002],
    ['LLC-load-misses', 3, 0x10002],
    ['dTLB-loads', 3, 0x00003],
    ['dTLB-load-misses', 3, 0x10003],
    ['node-loads', 3, 0x00006],
    ['node-load-misses', 3, 0x10006],
  ])('%s is type %i config %i', (name, type, config) => {
    expect(findEvent(name)).toMatchObject({ name, type, config });
  });

  it('has unique names and aliases', () => {
    const spellings = EVENTS.flatMap((event) => [event.name, ...event.aliases]);
    expect(new Set(spellings).size).toBe(spellings.length);
  });

  it('groups all software events first, then each pair in configured order', () => {
    const events = resolved(['cycles', 'cs', 'LLC-load-misses', 'instructions', 'faults', 'bus-cycles', 'LLC-loads', 'ref-cycles']);
    expect(names(groupEvents(events))).toEqual([
      ['context-switches', 'page-faults'],
      ['cycles', 'instructions'],
      ['LLC-load-misses', 'LLC-loads'],
      ['bus-cycles'],
      ['ref-cycles'],
    ]);
  });

  it('keeps a lone member of a pair as its own group', () => {
    expect(names(groupEvents(resolved(['cache-misses', 'node-loads'])))).toEqual([['cache-misses'], ['node-loads']]);
  });

  it('groups the default set as software plus five pairs', () => {
    const events = resolved(EVENTS.filter((event) => !['bus-cycles', 'ref-cycles'].includes(event.name) && !/^(L1|dTLB)/.test(event.name)).map((event) => event.name));
    expect(names(groupEvents(events)).map((group) => group.length)).toEqual([7, 2, 2, 2, 2, 2]);
  });
});

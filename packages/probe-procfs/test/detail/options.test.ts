/**
 * Tests of the detail options: defaults filled for what is left out (per table too), and bad
 * values refused at config time with INVALID_CONFIG naming their JSON path.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, parseConfig } from '../../src/index.js';
import { validOptions } from '../helpers.js';
import { raw } from './fixture.js';

describe('detail options', () => {
  it('defaults: every process for fds and sockets, the largest by RSS for maps, memory and numa, fdinfo flags', () => {
    expect(DEFAULT_CONFIG.detail).toEqual({ comm: [], user: [], cgroup: [], top: 0, topBy: 'cpu' });
    expect(DEFAULT_CONFIG.detailTables).toEqual({
      process_maps: { top: 50, topBy: 'rss' },
      process_memory: { top: 100, topBy: 'rss' },
      process_numa: { top: 50, topBy: 'rss' },
      process_fds: {},
      process_sockets: {},
    });
    expect(DEFAULT_CONFIG.fdInfo).toBe('flags');
  });

  it('fills the defaults of the tables an override leaves out, and of detail fields left out', () => {
    const config = validOptions(raw({ detail: { comm: ['nginx'] }, detailTables: { process_fds: { top: 5 } } }));
    expect(config.detail).toEqual({ comm: ['nginx'], user: [], cgroup: [], top: 0, topBy: 'cpu' });
    expect(config.detailTables.process_fds).toEqual({ top: 5 });
    expect(config.detailTables.process_maps).toEqual({ top: 50, topBy: 'rss' });
  });

  it.each([
    [{ detail: { comm: ['[abc'] } }, '$.detail.comm[0]: must match pattern'],
    [{ detail: { cgroup: ['/a', 'b\\'] } }, '$.detail.cgroup[1]: must match pattern'],
    [{ detail: { comm: [''] } }, '$.detail.comm[0]'],
    [{ detail: { top: -1 } }, '$.detail.top'],
    [{ detail: { topBy: 'vsz' } }, '$.detail.topBy: must be one of "cpu", "rss"'],
    [{ detail: { pattern: 'x' } }, '$.detail.pattern: is not a known option'],
    [{ detailTables: { process_mapz: {} } }, '$.detailTables.process_mapz: is not a known option'],
    [{ detailTables: { process_maps: { comm: ['x['] } } }, '$.detailTables.process_maps.comm[0]: must match pattern'],
    [{ fdInfo: 'all' }, '$.fdInfo: must be one of'],
  ])('refuses %j with INVALID_CONFIG: %s', (raw, message) => {
    const parsed = parseConfig(raw);
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(parsed.status.code).toBe('INVALID_CONFIG');
    expect(parsed.status.message.startsWith(message)).toBe(true);
  });
});

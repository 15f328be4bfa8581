/**
 * The detail tables over a real capture (test/fixtures/detail/host-b, see its SOURCE.md): rows
 * schema-valid with unique keys, sockets joined in each process's own network namespace and
 * checked against ss at the same instant, a closed listener gone one step later, kernel threads
 * never read, fdinfo modes, filters, budgets that cut short, and vanished or refused processes
 * tallied into one Status per table.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { createFakeClock, createMemoryLogger } from '@virtualeyes/core/testing';
import { validateRow, type Clock, type FileReader, type Row } from '@virtualeyes/core';
import { describe, expect, it } from 'vitest';
import { manifest } from '../../src/index.js';
import { batchOf, collect, createFaultyReader, createSteppingReader, probeOver } from '../helpers.js';
import { CHILD, hostB, hostBText, NS_CHILD, raw, type RawOptions } from './fixture.js';

const DETAIL = ['process_maps', 'process_memory', 'process_numa', 'process_fds', 'process_sockets'] as const;

const collectOver = async (files: FileReader, options: RawOptions = {}, tables: readonly string[] = DETAIL, clock?: Clock) => {
  const probe = probeOver(files, raw(options), clock === undefined ? {} : { clock });
  const result = await collect(probe, tables);
  return { result, rows: (table: string): Row[] => [...batchOf(result.batches, table).rows] };
};
const of = (rows: readonly Row[], pid: number): Row[] => rows.filter((row) => row.pid === pid);
const fdCount = (step: 'step0' | 'step1', pid: number): number => readdirSync(join(hostB(step), `proc/${pid}/fd`)).length;

/** ss lines of a pid: netid, state, local, peer and the fd. */
const ssOf = (pid: number) =>
  hostBText('step0', 'ss.txt')
    .split('\n')
    .filter((line) => line.includes(`pid=${pid},`))
    .map((line) => {
      const f = line.trim().split(/\s+/);
      return { netid: f[0]!, state: f[1]!, local: f[4]!, fd: Number(/fd=(\d+)/.exec(line)![1]) };
    });

describe('detail tables over host-b', () => {
  it('gives schema-valid rows with unique keys for every table, and nothing for the kernel thread', async () => {
    const { result, rows } = await collectOver(createSteppingReader(hostB('step0')));
    expect(result.errors).toEqual([]);
    for (const table of DETAIL) {
      const schema = manifest.tables.find((candidate) => candidate.name === table)!;
      const batch = batchOf(result.batches, table);
      expect(batch.snapshot, table).toBe(true);
      expect(batch.rows.length, table).toBeGreaterThan(0);
      for (const row of batch.rows) expect(validateRow(schema, row).code, `${table} ${JSON.stringify(row, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v))}`).toBe('OK');
      const keys = batch.rows.map((row) => schema.key.map((key) => String(row[key])).join('/'));
      expect(new Set(keys).size, table).toBe(keys.length);
      expect(of(batch.rows, 2), table).toEqual([]);
      expect(new Set(batch.rows.map((row) => row.pid))).toEqual(new Set([CHILD.pid, NS_CHILD.pid]));
    }
    expect(of(rows('process_maps'), CHILD.pid)).toHaveLength(hostBText('step0', `proc/${CHILD.pid}/maps`).trim().split('\n').length);
    expect(of(rows('process_maps'), CHILD.pid).at(-1)).toMatchObject({ start: '0xffffffffff600000', path: '[vsyscall]', pseudo: true });
    expect(of(rows('process_memory'), CHILD.pid)).toEqual([expect.objectContaining({ rss: 45556 * 1024 })]);
    expect(of(rows('process_numa'), CHILD.pid)).toEqual([expect.objectContaining({ node: 0, policy: 'default' })]);
  });

  it('lists every descriptor with its flags, and no position by default', async () => {
    const { rows } = await collectOver(createSteppingReader(hostB('step0')), {}, ['process_fds']);
    const fds = of(rows('process_fds'), CHILD.pid);
    expect(fds).toHaveLength(fdCount('step0', CHILD.pid));
    expect(fds.filter((row) => row.kind === 'file' && String(row.target).endsWith('/node'))).toHaveLength(CHILD.files);
    expect(fds.find((row) => row.fd === 0)).toEqual({ pid: CHILD.pid, start_time: fds[0]!.start_time, fd: 0, kind: 'pipe', target: 'pipe:[66545]', inode: 66545, flags: 0o2004000, pos: null });
    expect(fds.every((row) => row.flags !== null && row.pos === null)).toBe(true);
  });

  it("reads positions with fdInfo 'position', and no fdinfo at all with 'off'", async () => {
    const withPos = await collectOver(createSteppingReader(hostB('step0')), { fdInfo: 'position' }, ['process_fds']);
    expect(of(withPos.rows('process_fds'), CHILD.pid).every((row) => typeof row.pos === 'number')).toBe(true);
    const reader = createFaultyReader(createSteppingReader(hostB('step0')), () => undefined);
    const off = await collectOver(reader, { fdInfo: 'off' }, ['process_fds']);
    expect(off.rows('process_fds').every((row) => row.flags === null && row.pos === null)).toBe(true);
    expect([...reader.reads.keys()].filter((path) => path.includes('/fdinfo/'))).toEqual([]);
  });

  it('finds every socket ss attributes to the child, with the same fd, address, port and state', async () => {
    const { rows } = await collectOver(createSteppingReader(hostB('step0')), {}, ['process_sockets']);
    const sockets = of(rows('process_sockets'), CHILD.pid);
    const ss = ssOf(CHILD.pid);
    expect(ss.length).toBeGreaterThanOrEqual(5);
    for (const line of ss) {
      const row = sockets.find((candidate) => candidate.fd === line.fd);
      expect(row, `fd ${line.fd}`).toBeDefined();
      const state = { LISTEN: 'LISTEN', ESTAB: 'ESTABLISHED', UNCONN: 'CLOSE' }[line.state];
      if (line.netid === 'u_str') expect(row).toMatchObject({ family: 1, protocol: 0, state: 'LISTEN', path: line.local });
      else {
        const port = Number(line.local.slice(line.local.lastIndexOf(':') + 1));
        const address = line.local.slice(0, line.local.lastIndexOf(':')).replace(/^\[|\]$/g, '');
        expect(row).toMatchObject({ protocol: line.netid === 'tcp' ? 6 : 17, local_address: address, local_port: port, state, net_namespace: CHILD.netns });
      }
    }
  });

  it("joins the other child's sockets with its own namespace's tables", async () => {
    const { rows } = await collectOver(createSteppingReader(hostB('step0')), {}, ['process_sockets']);
    const sockets = of(rows('process_sockets'), NS_CHILD.pid);
    expect(sockets.find((row) => row.local_port === NS_CHILD.tcp && row.state === 'LISTEN')).toMatchObject({ local_address: '127.0.0.1', family: 2, net_namespace: NS_CHILD.netns });
    expect(sockets.find((row) => row.local_port === NS_CHILD.tcp6)).toMatchObject({ local_address: '::1', family: 10 });
    expect(sockets.find((row) => row.path === NS_CHILD.unix)).toMatchObject({ state: 'LISTEN' });
    expect(sockets.every((row) => row.net_namespace === NS_CHILD.netns)).toBe(true);
  });

  it('no longer has the listener and its connection once the child closed them', async () => {
    const reader = createSteppingReader(hostB('step0'));
    const probe = probeOver(reader);
    const before = batchOf((await collect(probe, ['process_sockets', 'process_fds'])).batches, 'process_sockets').rows;
    expect(of(before, CHILD.pid).some((row) => row.local_port === CHILD.tcp && row.state === 'LISTEN')).toBe(true);
    reader.use(hostB('step1'));
    const after = await collect(probe, ['process_sockets', 'process_fds']);
    const sockets = of(batchOf(after.batches, 'process_sockets').rows, CHILD.pid);
    expect(sockets.some((row) => row.local_port === CHILD.tcp || row.remote_port === CHILD.tcp)).toBe(false);
    expect(sockets.some((row) => row.local_port === CHILD.tcp6)).toBe(true);
    expect(of(batchOf(after.batches, 'process_fds').rows, CHILD.pid)).toHaveLength(fdCount('step1', CHILD.pid));
  });

  it('never reads the files of kernel threads', async () => {
    const reader = createFaultyReader(createSteppingReader(hostB('step0')), () => undefined);
    await collectOver(reader, { detailTables: { process_maps: {}, process_memory: {}, process_numa: {}, process_fds: {}, process_sockets: {} } });
    const detailFiles = /^\/proc\/2\/(maps|smaps_rollup|numa_maps|cgroup|fd|fdinfo|ns|net)(\/|$)/;
    expect([...reader.reads.keys()].filter((path) => detailFiles.test(path))).toEqual([]);
    expect(reader.reads.has(`/proc/${CHILD.pid}/maps`)).toBe(true);
  });
});

describe('detail filters', () => {
  it('keeps the processes a comm glob matches', async () => {
    const { rows } = await collectOver(createSteppingReader(hostB('step0')), { detail: { comm: ['no?e'] } }, ['process_fds']);
    expect(new Set(rows('process_fds').map((row) => row.pid))).toEqual(new Set([CHILD.pid, NS_CHILD.pid]));
    const none = await collectOver(createSteppingReader(hostB('step0')), { detail: { comm: ['nginx', 'post*'] } }, ['process_fds']);
    expect(none.rows('process_fds')).toEqual([]);
  });

  it('keeps the top N by RSS', async () => {
    const { rows } = await collectOver(createSteppingReader(hostB('step0')), { detailTables: { process_maps: { top: 1, topBy: 'rss' } } }, ['process_maps']);
    const rss = (pid: number) => Number(/^VmRSS:\s+(\d+)/m.exec(hostBText('step0', `proc/${pid}/status`))![1]);
    const largest = rss(CHILD.pid) >= rss(NS_CHILD.pid) ? CHILD.pid : NS_CHILD.pid;
    expect(new Set(rows('process_maps').map((row) => row.pid))).toEqual(new Set([largest]));
  });

  it('keeps the processes a cgroup glob matches, reading /proc/PID/cgroup only then', async () => {
    const reader = createFaultyReader(createSteppingReader(hostB('step0')), () => undefined);
    await collectOver(reader, {}, ['process_fds']);
    expect([...reader.reads.keys()].some((path) => path.endsWith('/cgroup'))).toBe(false);
    const { rows } = await collectOver(createSteppingReader(hostB('step0')), { detail: { cgroup: ['/process_api/*'] } }, ['process_fds']);
    expect(rows('process_fds').length).toBeGreaterThan(0);
    const none = await collectOver(createSteppingReader(hostB('step0')), { detail: { cgroup: ['/system.slice/*'] } }, ['process_fds']);
    expect(none.rows('process_fds')).toEqual([]);
  });
});

describe('detail budgets and failures', () => {
  it('cuts a collection over its budget short with TIMEOUT before the next process, keeping the rows read', async () => {
    // A clock that moves 10 ms with every maps read: the 5 ms budget ends after the first process.
    let ms = 0;
    const clock: Clock = { ...createFakeClock(), monotonic: () => ms };
    const inner = createSteppingReader(hostB('step0'));
    const reader: FileReader = { ...inner, readText: (path) => ((ms += path.endsWith('/maps') ? 10 : 0), inner.readText(path)) };
    const { result, rows } = await collectOver(reader, { budgets: { process_maps: 5 } }, ['process_maps', 'process_fds'], clock);
    expect(result.errors.map((status) => `${status.code} ${status.message}`)).toEqual(['TIMEOUT process_maps: exceeded its 5 ms budget after 1 of 2; rows are partial']);
    expect(new Set(rows('process_maps').map((row) => row.pid)).size).toBe(1);
    expect(rows('process_maps').length).toBeGreaterThan(100);
    expect(batchOf(result.batches, 'process_maps').snapshot).toBe(false);
    // The next table has its own budget.
    expect(batchOf(result.batches, 'process_fds').snapshot).toBe(true);
  });

  it('tallies processes that exit mid-read into one NOT_FOUND per table, and keeps the others', async () => {
    const reader = createFaultyReader(createSteppingReader(hostB('step0')), (path) => (/\/(maps|fd)$/.test(path) && path.includes(`/${CHILD.pid}/`) ? 'ESRCH' : undefined));
    const { result, rows } = await collectOver(reader, {}, ['process_maps', 'process_fds', 'process_sockets']);
    expect(result.errors.map((status) => `${status.code} ${status.message}`)).toEqual([
      'NOT_FOUND process_maps: 1 process exited while being read',
      'NOT_FOUND process_fds: 1 process exited while being read',
      'NOT_FOUND process_sockets: 1 process exited while being read',
    ]);
    expect(new Set(rows('process_maps').map((row) => row.pid))).toEqual(new Set([NS_CHILD.pid]));
    expect(batchOf(result.batches, 'process_maps').snapshot).toBe(true);
  });

  it('reports refused reads once per table, then logs them at debug only', async () => {
    const reader = createFaultyReader(createSteppingReader(hostB('step0')), (path) => (path.endsWith('/numa_maps') ? 'EACCES' : undefined));
    const logger = createMemoryLogger();
    const probe = probeOver(reader, {}, { logger });
    const first = await collect(probe, ['process_numa']);
    expect(first.errors.map((status) => `${status.code} ${status.message}`)).toEqual([
      "PERMISSION_DENIED process_numa: could not read the files of 2 processes (left out); needs root or CAP_SYS_PTRACE (a sandbox's pid 1 may refuse even root)",
    ]);
    expect(batchOf(first.batches, 'process_numa').rows).toEqual([]);
    const second = await collect(probe, ['process_numa']);
    expect(second.errors).toEqual([]);
    expect(logger.records.some((record) => record.level === 'debug' && String(record.message).includes('process_numa: could not read'))).toBe(true);
  });

  it('gives no batches, rather than empty snapshots, when there is no process list', async () => {
    const reader = createFaultyReader(createSteppingReader(hostB('step0')), (path) => (path === '/proc/stat' ? 'ENOENT' : undefined));
    const { result } = await collectOver(reader, {}, ['process_fds', 'process_maps']);
    expect(result.batches).toEqual([]);
    expect(result.errors.map((status) => `${status.code} ${status.message}`)).toEqual(['UNAVAILABLE process_maps, process_fds: no process list to read (the process scan failed)']);
  });

  it('reports a malformed file once per kind, with a count, and keeps the other processes', async () => {
    const inner = createSteppingReader(hostB('step0'));
    const reader: FileReader = { ...inner, readText: (path) => (path.endsWith('/smaps_rollup') ? { ok: true, value: 'garbage\nRss 1\n' } : inner.readText(path)) };
    const { result } = await collectOver(reader, {}, ['process_memory']);
    expect(result.errors.map((status) => `${status.code} ${status.message}`)).toEqual(["PARSE_ERROR /proc/[pid]/smaps_rollup: malformed line 'Rss 1' (and 1 more like it)"]);
  });
});

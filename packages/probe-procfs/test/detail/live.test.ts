/**
 * Live tests on this host's real /proc against independent oracles read at the same instant:
 * ss (iproute2) for sockets, including a listener the test opens and then closes, and a child in
 * a network namespace of its own (nsenter, util-linux); ls for descriptors; pmap -X (procps) for
 * mappings and smaps_rollup totals. A missing oracle skips with a one-line reason, except in CI.
 */
import { execFile, spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { readdirSync, readlinkSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface, type Interface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createFileReader, createSystemClock, StatusCode, type Row, type Status } from '@virtualeyes/core';
import { afterAll, beforeAll, describe, expect, it, type TestContext } from 'vitest';
import { batchOf, collect, probeOver } from '../helpers.js';
import { pmapMappings, pmapTotals, raw } from './fixture.js';

const run = promisify(execFile);
const CHILD_SCRIPT = join(dirname(fileURLToPath(import.meta.url)), 'child.mjs');
const FILES = 5;

interface Child {
  readonly process: ChildProcessWithoutNullStreams;
  readonly lines: Interface;
  readonly info: { pid: number; tcp: number; tcp6: number | null; client: number; udp: number; unix: string };
}

/** Starts child.mjs (optionally under a wrapper command) and waits for its JSON line. */
async function startChild(wrapper: readonly string[] = []): Promise<Child> {
  const argv = [...wrapper, process.execPath, CHILD_SCRIPT, String(FILES)];
  const child = spawn(argv[0]!, argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
  const lines = createInterface({ input: child.stdout });
  const first = await new Promise<string>((resolve, reject) => {
    lines.once('line', resolve);
    child.once('exit', (code) => reject(new Error(`child exited with ${code}`)));
  });
  return { process: child, lines, info: JSON.parse(first) as Child['info'] };
}

function stopChild(child: Child | undefined): Promise<void> {
  if (child === undefined || child.process.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.process.once('exit', () => resolve());
    child.process.kill('SIGKILL');
  });
}

/** True when `command` is on PATH; otherwise skips the test with a reason, or fails it in CI. */
function oracle(ctx: TestContext, command: string, debianPackage: string): boolean {
  if (spawnSync('sh', ['-c', `command -v ${command}`]).status === 0) return true;
  const reason = `${command} not installed (Debian package ${debianPackage})`;
  if (process.env.CI === 'true') throw new Error(`${reason}: required in CI`);
  ctx.skip(reason);
  return false;
}

/**
 * A collection by a new probe: one probe reuses a process scan younger than a second, which
 * would not have a child started since.
 */
const rowsOf = async (table: string): Promise<{ rows: Row[]; errors: Status[] }> => {
  // Sockets and descriptors of every process (ss sees them all); maps and memory of node processes only, the child among them.
  const node = { comm: ['node'], top: 0 };
  const options = { detailTables: { process_maps: node, process_memory: node, process_numa: node, process_fds: {}, process_sockets: {} } };
  const result = await collect(probeOver(createFileReader(), raw(options), { clock: createSystemClock() }), [table]);
  return { rows: [...batchOf(result.batches, table).rows], errors: [...result.errors] };
};
/** Statuses a healthy live collection may report: processes that exited, and pid 1 of a sandbox refusing even root. */
const benign = (status: Status): boolean => status.code === StatusCode.NOT_FOUND || status.code === StatusCode.PERMISSION_DENIED;
const ownNetns = Number(/\[(\d+)\]/.exec(readlinkSync('/proc/self/ns/net'))![1]);

/** `pid fd port` of each listening TCP socket `ss -tlnpH` attributes to a process (one per owner). */
async function ssListeners(wrapper: readonly string[] = []): Promise<Set<string>> {
  const { stdout } = await run(wrapper[0] ?? 'ss', [...wrapper.slice(1), ...(wrapper.length > 0 ? ['ss'] : []), '-tlnpH']);
  const out = new Set<string>();
  for (const line of stdout.split('\n')) {
    const local = line.trim().split(/\s+/)[3];
    if (local === undefined) continue;
    const port = local.slice(local.lastIndexOf(':') + 1);
    for (const [, pid, fd] of line.matchAll(/pid=(\d+),fd=(\d+)/g)) out.add(`${pid} ${fd} ${port}`);
  }
  return out;
}

const listenersOf = (rows: readonly Row[], netns = ownNetns): Set<string> =>
  new Set(rows.filter((row) => row.protocol === 6 && row.state === 'LISTEN' && row.net_namespace === netns).map((row) => `${row.pid} ${row.fd} ${row.local_port}`));

describe.skipIf(process.platform !== 'linux')('detail tables on the live host', () => {
  let child: Child | undefined;
  beforeAll(async () => {
    child = await startChild();
  });
  afterAll(() => stopChild(child));

  it('has every listening TCP socket ss -tlnp shows, with the same pid, fd and port, and no other', async (ctx) => {
    if (!oracle(ctx, 'ss', 'iproute2')) return;
    // Another process may open or close a listener between the two reads: try again a few times.
    let ours = new Set<string>();
    let theirs = new Set<string>();
    for (let attempt = 0; attempt < 3; attempt += 1) {
      const { rows, errors } = await rowsOf('process_sockets');
      theirs = await ssListeners();
      ours = listenersOf(rows);
      expect(errors.filter((status) => !benign(status))).toEqual([]);
      if ([...theirs].every((entry) => ours.has(entry)) && [...ours].every((entry) => theirs.has(entry))) break;
    }
    expect([...ours].sort()).toEqual([...theirs].sort());
    expect([...ours].some((entry) => entry.startsWith(`${child!.info.pid} `) && entry.endsWith(` ${child!.info.tcp}`))).toBe(true);
  });

  it("has every socket ss -tanup shows for the child, with its fd, addresses, ports and state", async (ctx) => {
    if (!oracle(ctx, 'ss', 'iproute2')) return;
    const { rows } = await rowsOf('process_sockets');
    const { stdout } = await run('ss', ['-tanupH']);
    const ss = stdout.split('\n').filter((line) => line.includes(`pid=${child!.info.pid},`));
    expect(ss.length).toBeGreaterThanOrEqual(4);
    const mine = rows.filter((row) => row.pid === child!.info.pid);
    for (const line of ss) {
      const [netid, state, , , local, peer] = line.trim().split(/\s+/);
      const fd = Number(/fd=(\d+)/.exec(line)![1]);
      const split = (endpoint: string) => ({ address: endpoint.slice(0, endpoint.lastIndexOf(':')).replace(/^\[|\]$/g, ''), port: endpoint.slice(endpoint.lastIndexOf(':') + 1) });
      const l = split(local!);
      const p = split(peer!);
      expect(mine.find((row) => row.fd === fd), line).toMatchObject({
        protocol: netid === 'tcp' ? 6 : 17,
        local_address: l.address,
        local_port: Number(l.port),
        remote_address: p.address === '*' || p.address === '0.0.0.0' ? '0.0.0.0' : p.address === '::' ? '::' : p.address,
        remote_port: p.port === '*' ? 0 : Number(p.port),
        state: { LISTEN: 'LISTEN', ESTAB: 'ESTABLISHED', UNCONN: 'CLOSE' }[state!],
      });
    }
    expect(mine.find((row) => row.path === child!.info.unix)).toMatchObject({ family: 1, state: 'LISTEN' });
  });

  it('no longer has the listener once the child closed it', async (ctx) => {
    if (!oracle(ctx, 'ss', 'iproute2')) return;
    const second = await startChild();
    try {
      const before = await rowsOf('process_sockets');
      expect(before.rows.some((row) => row.pid === second.info.pid && row.local_port === second.info.tcp && row.state === 'LISTEN')).toBe(true);
      const closed = new Promise((resolve) => second.lines.once('line', resolve));
      second.process.stdin.write('close-tcp\n');
      await closed;
      const after = await rowsOf('process_sockets');
      expect(after.rows.some((row) => row.pid === second.info.pid && (row.local_port === second.info.tcp || row.remote_port === second.info.tcp))).toBe(false);
      expect(after.rows.some((row) => row.pid === second.info.pid && row.path === second.info.unix)).toBe(true);
      expect([...(await ssListeners())].some((entry) => entry.startsWith(`${second.info.pid} `) && entry.endsWith(` ${second.info.tcp}`))).toBe(false);
    } finally {
      await stopChild(second);
    }
  });

  it("finds a child's sockets in its own network namespace, as ss inside it shows them", async (ctx) => {
    if (!oracle(ctx, 'unshare', 'util-linux') || !oracle(ctx, 'nsenter', 'util-linux') || !oracle(ctx, 'ss', 'iproute2') || !oracle(ctx, 'ip', 'iproute2')) return;
    if (process.geteuid?.() !== 0) {
      if (process.env.CI === 'true') throw new Error('a network namespace needs root: required in CI');
      ctx.skip('a network namespace needs root');
      return;
    }
    const ns = await startChild(['unshare', '-n', 'sh', '-c', 'ip link set lo up && exec "$0" "$@"']);
    try {
      const netns = Number(/\[(\d+)\]/.exec(readlinkSync(`/proc/${ns.info.pid}/ns/net`))![1]);
      expect(netns).not.toBe(ownNetns);
      const { rows } = await rowsOf('process_sockets');
      const theirs = await ssListeners(['nsenter', '-t', String(ns.info.pid), '-n']);
      const ours = listenersOf(rows.filter((row) => row.pid === ns.info.pid), netns);
      expect([...ours].sort()).toEqual([...theirs].filter((entry) => entry.startsWith(`${ns.info.pid} `)).sort());
      expect([...ours].some((entry) => entry.endsWith(` ${ns.info.tcp}`))).toBe(true);
    } finally {
      await stopChild(ns);
    }
  });

  it("has as many descriptors as ls /proc/PID/fd, the child's open files among them", async (ctx) => {
    if (!oracle(ctx, 'ls', 'coreutils')) return;
    const { rows } = await rowsOf('process_fds');
    const { stdout } = await run('sh', ['-c', `ls /proc/${child!.info.pid}/fd | wc -l`]);
    const mine = rows.filter((row) => row.pid === child!.info.pid);
    expect(mine).toHaveLength(Number(stdout.trim()));
    expect(mine.filter((row) => row.kind === 'file' && row.target === realpathSync(process.execPath))).toHaveLength(FILES);
    expect(mine.every((row) => typeof row.flags === 'number' && row.pos === null)).toBe(true);
    expect(readdirSync(`/proc/${child!.info.pid}/fd`)).toHaveLength(mine.length);
  });

  it('has the mappings pmap -X lists for the child, same count and ranges', async (ctx) => {
    if (!oracle(ctx, 'pmap', 'procps')) return;
    const { rows } = await rowsOf('process_maps');
    const { stdout } = await run('pmap', ['-X', String(child!.info.pid)]);
    const mine = rows.filter((row) => row.pid === child!.info.pid);
    const pmap = pmapMappings(stdout);
    expect(mine.map((row) => BigInt(row.start as string))).toEqual(pmap.map((mapping) => BigInt(`0x${mapping.start}`)));
    expect(mine.map((row) => Number(row.size) / 1024)).toEqual(pmap.map((mapping) => mapping.kib));
  });

  it("has the child's smaps_rollup matching pmap -X totals", async (ctx) => {
    if (!oracle(ctx, 'pmap', 'procps')) return;
    const { rows } = await rowsOf('process_memory');
    const { stdout } = await run('pmap', ['-X', String(child!.info.pid)]);
    const row = rows.find((candidate) => candidate.pid === child!.info.pid)!;
    const totals = pmapTotals(stdout);
    const kib = (column: string) => Number(row[column]) / 1024;
    // Resident pages of an idle child stay put; PSS moves when other processes map or unmap the same files.
    expect(kib('rss')).toBeCloseTo(totals.get('Rss')!, -1);
    expect(kib('anonymous')).toBeCloseTo(totals.get('Anonymous')!, -1);
    expect(kib('swap')).toBe(totals.get('Swap'));
    expect(kib('locked')).toBe(totals.get('Locked'));
    expect(Math.abs(kib('pss') - totals.get('Pss')!) / totals.get('Pss')!).toBeLessThan(0.2);
  });

  it('has numa rows adding up to no more than the resident memory of the same process', async () => {
    const [numa, memory] = [await rowsOf('process_numa'), await rowsOf('process_memory')];
    const total = numa.rows.filter((row) => row.pid === child!.info.pid).reduce((sum, row) => sum + Number(row.total), 0);
    const rss = Number(memory.rows.find((row) => row.pid === child!.info.pid)!.rss);
    expect(total).toBeGreaterThan(rss / 2);
    expect(total).toBeLessThanOrEqual(rss * 1.1);
  });
});

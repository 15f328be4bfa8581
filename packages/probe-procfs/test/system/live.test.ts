/**
 * The system tables on the real host, each compared with an independent tool read at the same
 * instant: counters must lie between the probe's reads just before and just after the tool's
 * (so traffic in between cannot make the test flaky), sizes agree within 1 %, identities
 * exactly. Tools: ip (iproute2), lsblk and findmnt (util-linux), df (coreutils), numastat
 * (numactl), iostat (sysstat). A missing tool skips its test with a reason locally and fails
 * it when CI=true.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createFileReader, createSystemClock, validateRow, type Row } from '@virtualeyes/core';
import { describe, expect, it } from 'vitest';
import { manifest } from '../../src/index.js';
import { collectSystem, num, rowsOf, systemCollector } from './context.js';

const LINUX = process.platform === 'linux';
const CI = process.env.CI === 'true';

/** Whether `command` is on PATH; when it is not, the tests needing it skip locally (with `reason`) and fail in CI. */
function oracle(command: string, pkg: string): { readonly run: boolean; check(): void } {
  const found = LINUX && spawnSync('sh', ['-c', `command -v ${command}`]).status === 0;
  if (!found && LINUX && !CI) console.warn(`skipping the ${command} comparison: ${command} is not installed (Debian package ${pkg})`);
  return {
    run: LINUX && (found || CI),
    check: () => {
      if (!found) expect.fail(`${command} is not installed (Debian package ${pkg}); CI must have it`);
    },
  };
}

function run(command: string, args: readonly string[]): string {
  const result = spawnSync(command, args, { encoding: 'utf8' });
  expect(result.status, `${command} ${args.join(' ')}: ${result.stderr}`).toBe(0);
  return result.stdout;
}

const ip = oracle('ip', 'iproute2');
const lsblk = oracle('lsblk', 'util-linux');
const findmnt = oracle('findmnt', 'util-linux');
const df = oracle('df', 'coreutils');
const numastat = oracle('numastat', 'numactl');
const iostat = oracle('iostat', 'sysstat');

/** Collects `table` on the real host. */
async function live(table: string): Promise<readonly Row[]> {
  const { collector, clock } = systemCollector(createFileReader(), { clock: createSystemClock() });
  const { batches, errors } = await collectSystem(collector, clock, [table]);
  // The only statuses a healthy host may give are the once-only notes about sources it lacks.
  expect(errors.filter((status) => status.code !== 'UNSUPPORTED')).toEqual([]);
  const schema = manifest.tables.find((candidate) => candidate.name === table)!;
  const rows = rowsOf(batches, table);
  for (const row of rows) expect(validateRow(schema, row).message).toBe('');
  return rows;
}

/** The probe's rows just before and just after `read` runs the tool. */
async function bracket<T>(table: string, read: () => T): Promise<{ before: readonly Row[]; tool: T; after: readonly Row[] }> {
  const before = await live(table);
  const tool = read();
  const after = await live(table);
  return { before, tool, after };
}

const by = (rows: readonly Row[], key: string): Map<string, Row> => new Map(rows.map((row) => [String(row[key]), row]));

describe.runIf(LINUX)('system tables against the host', () => {
  it.runIf(ip.run)('net_dev counters lie between two reads around `ip -s -j link`', async () => {
    ip.check();
    type Link = { ifname: string; stats64: { rx: Record<string, number>; tx: Record<string, number> } };
    const { before, tool, after } = await bracket('net_dev', () => JSON.parse(run('ip', ['-s', '-j', 'link'])) as Link[]);
    const [b, a] = [by(before, 'interface'), by(after, 'interface')];
    let compared = 0;
    for (const link of tool) {
      const [x, y] = [b.get(link.ifname), a.get(link.ifname)];
      if (x === undefined || y === undefined) continue;
      const pairs: [string, number][] = [
        ['rx_bytes', link.stats64.rx.bytes!],
        ['rx_packets', link.stats64.rx.packets!],
        ['rx_errors', link.stats64.rx.errors!],
        ['rx_multicast', link.stats64.rx.multicast!],
        ['tx_bytes', link.stats64.tx.bytes!],
        ['tx_packets', link.stats64.tx.packets!],
        ['tx_errors', link.stats64.tx.errors!],
        ['tx_collisions', link.stats64.tx.collisions!],
      ];
      for (const [column, value] of pairs) {
        expect(num(x[column]), `${link.ifname} ${column}`).toBeLessThanOrEqual(value);
        expect(num(y[column]), `${link.ifname} ${column}`).toBeGreaterThanOrEqual(value);
      }
      compared += 1;
    }
    expect(compared).toBeGreaterThan(0);
  });

  it.runIf(ip.run)('interfaces agree with `ip -j addr` on index, MAC, MTU, state and every address', async () => {
    ip.check();
    type Addr = { ifname: string; ifindex: number; mtu: number; operstate: string; address?: string; addr_info: { local: string; prefixlen: number }[] };
    const { before, tool } = await bracket('interfaces', () => JSON.parse(run('ip', ['-j', 'addr'])) as Addr[]);
    const rows = by(before, 'interface');
    for (const link of tool) {
      const row = rows.get(link.ifname);
      expect(row, link.ifname).toBeDefined();
      expect({ ifindex: row!.ifindex, mtu: row!.mtu, operstate: String(row!.operstate).toUpperCase() }).toEqual({ ifindex: link.ifindex, mtu: link.mtu, operstate: link.operstate });
      if (link.address !== undefined && link.address !== '') expect(row!.mac, link.ifname).toBe(link.address);
      expect([...(row!.addresses as string[])].sort(), link.ifname).toEqual(link.addr_info.map((info) => `${info.local}/${info.prefixlen}`).sort());
    }
  });

  it.runIf(lsblk.run)('disks agree with `lsblk -b -J -o NAME,SIZE,ROTA,MODEL` on size, rotational and model', async () => {
    lsblk.check();
    type Device = { name: string; size: number; rota: boolean; model: string | null; children?: Device[] };
    const { before, tool } = await bracket('disks', () => (JSON.parse(run('lsblk', ['-b', '-J', '-o', 'NAME,SIZE,ROTA,MODEL'])) as { blockdevices: Device[] }).blockdevices);
    const rows = by(before, 'name');
    const flat = (devices: readonly Device[]): Device[] => devices.flatMap((device) => [device, ...flat(device.children ?? [])]);
    const devices = flat(tool);
    expect(devices.length).toBeGreaterThan(0);
    for (const device of devices) {
      const row = rows.get(device.name);
      expect(row, device.name).toBeDefined();
      expect({ size: num(row!.size), rotational: row!.rotational, model: row!.model }).toEqual({ size: device.size, rotational: device.rota, model: device.model?.trim() || null });
    }
  });

  it.runIf(iostat.run)('disk_io lies between two reads around `iostat -d -k -o JSON` and /proc/diskstats', async () => {
    iostat.check();
    type Disk = { disk_device: string; kB_read: number; kB_wrtn: number };
    const { before, tool, after } = await bracket('disk_io', () => ({
      iostat: (JSON.parse(run('iostat', ['-d', '-k', '-o', 'JSON'])) as { sysstat: { hosts: { statistics: { disk: Disk[] }[] }[] } }).sysstat.hosts[0]!.statistics[0]!.disk,
      diskstats: readFileSync('/proc/diskstats', 'utf8'),
    }));
    const [b, a] = [by(before, 'name'), by(after, 'name')];
    const between = (name: string, column: string, value: number): void => {
      expect(num(b.get(name)![column]), `${name} ${column}`).toBeLessThanOrEqual(value);
      expect(num(a.get(name)![column]), `${name} ${column}`).toBeGreaterThanOrEqual(value);
    };
    for (const disk of tool.iostat) {
      // iostat's kB are sectors / 2, rounded down: compare in whole KiB.
      expect(Math.floor(num(b.get(disk.disk_device)!.read_bytes) / 1024)).toBeLessThanOrEqual(disk.kB_read);
      expect(Math.floor(num(a.get(disk.disk_device)!.read_bytes) / 1024)).toBeGreaterThanOrEqual(disk.kB_read);
      expect(Math.floor(num(a.get(disk.disk_device)!.write_bytes) / 1024)).toBeGreaterThanOrEqual(disk.kB_wrtn);
    }
    const columns = ['reads_completed', 'reads_merged', 'read_bytes', 'read_time', 'writes_completed', 'writes_merged', 'write_bytes', 'write_time'];
    for (const line of tool.diskstats.trim().split('\n')) {
      const [, , name, ...values] = line.trim().split(/\s+/);
      columns.forEach((column, i) => between(name!, column, Number(values[i]) * (column.endsWith('_bytes') ? 512 : 1)));
      if (values.length >= 17) between(name!, 'flushes_completed', Number(values[15]));
    }
  });

  it.runIf(findmnt.run)('mounts agree with `findmnt -J -l` on id, parent, device, mount point, type and root', async () => {
    findmnt.check();
    type Fs = { id: number; parent: number; 'maj:min': string; target: string; fstype: string; fsroot: string };
    const { before, tool } = await bracket('mounts', () => (JSON.parse(run('findmnt', ['-J', '-l', '-o', 'ID,PARENT,MAJ:MIN,TARGET,FSTYPE,FSROOT'])) as { filesystems: Fs[] }).filesystems);
    const expected = tool.map((fs) => ({ mount_id: fs.id, parent_id: fs.parent, major_minor: fs['maj:min'], path: fs.target, type: fs.fstype, root: fs.fsroot }));
    const got = before.map((row) => ({ mount_id: row.mount_id, parent_id: row.parent_id, major_minor: row.major_minor, path: row.path, type: row.type, root: row.root }));
    const order = (rows: { mount_id: unknown }[]): typeof rows => [...rows].sort((x, y) => num(x.mount_id) - num(y.mount_id));
    expect(order(got)).toEqual(order(expected));
  });

  it.runIf(df.run)('filesystem_usage agrees with `df -B1` within 1 % on size, used, available and inodes', async () => {
    df.check();
    const { before, tool } = await bracket('filesystem_usage', () => run('df', ['-B1', '--output=size,used,avail,itotal,iavail,target']));
    const rows = by(before, 'path');
    let compared = 0;
    for (const line of tool.trim().split('\n').slice(1)) {
      const match = /^\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(.+)$/.exec(line);
      if (match === null) continue;
      const row = rows.get(match[6]!);
      if (row === undefined) continue;
      const [size, used, avail, inodes, ifree] = match.slice(1, 6).map(Number) as [number, number, number, number, number];
      const near = (got: unknown, want: number, of: number, what: string): void => expect(Math.abs(num(got) - want), `${match[6]} ${what}`).toBeLessThanOrEqual(Math.max(of * 0.01, 4096));
      near(row.size, size, size, 'size');
      near(row.used, used, size, 'used');
      near(row.available, avail, size, 'available');
      near(row.inodes, inodes, inodes, 'inodes');
      near(row.inodes_free, ifree, inodes, 'inodes_free');
      compared += 1;
    }
    expect(compared).toBeGreaterThan(0);
  });

  it.runIf(numastat.run)('numa_stats counters lie between two reads around `numastat`', async () => {
    numastat.check();
    const { before, tool, after } = await bracket('numa_stats', () => run('numastat', []));
    const [header, ...lines] = tool.trim().split('\n');
    const nodes = header!.trim().split(/\s+/).map((name) => name.replace('node', ''));
    const [b, a] = [by(before, 'node'), by(after, 'node')];
    expect(lines.length).toBe(6);
    for (const line of lines) {
      const [column, ...values] = line.trim().split(/\s+/);
      nodes.forEach((node, i) => {
        expect(num(b.get(node)![column!]), `node${node} ${column}`).toBeLessThanOrEqual(Number(values[i]));
        expect(num(a.get(node)![column!]), `node${node} ${column}`).toBeGreaterThanOrEqual(Number(values[i]));
      });
    }
  });

  it('vmstat, pressure, cpu_info, numa_nodes and cgroups give schema-valid rows with unique keys', async () => {
    for (const table of ['vmstat', 'pressure', 'cpu_info', 'numa_nodes', 'cgroups']) {
      const rows = await live(table);
      const schema = manifest.tables.find((candidate) => candidate.name === table)!;
      const keys = new Set(rows.map((row) => JSON.stringify(schema.key.map((key) => row[key]))));
      expect(keys.size, table).toBe(rows.length);
      expect(rows.length, table).toBeGreaterThan(0);
    }
  });
});

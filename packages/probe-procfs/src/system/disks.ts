/**
 * disks and disk_io: block devices and their partitions from /sys/block (sizes are in 512-byte
 * sectors whatever the device's block size), and every /proc/diskstats field, sectors as bytes.
 */
import { fail, StatusCode, type Batch, type Row } from '@virtualeyes/core';
import { multiplyCount, readCount, type Count } from '@virtualeyes/linux';
import type { Budget } from '../group.js';
import { isMissing, missingSource, type Io } from './io.js';
import { parseDiskstats, type DiskstatsField } from './parse/diskstats.js';
import { SystemTable } from './tables.js';

const BLOCK_DIR = '/sys/block';
/** The kernel's sector, the unit of /sys/block/X/size and /proc/diskstats whatever the device's own. */
const SECTOR_BYTES = 512;

/** disks rows: each disk of /sys/block, then its partitions. */
export function collectDisks(io: Io, budget: Budget): Batch | undefined {
  const ts = io.clock.now();
  const listing = io.files.readDir(BLOCK_DIR);
  if (!listing.ok) {
    if (isMissing(listing.status)) io.once('block', missingSource(SystemTable.DISKS, `no ${BLOCK_DIR} (sysfs not mounted)`));
    else io.errors.push(listing.status);
    return undefined;
  }
  const disks = listing.value.filter((name) => !name.startsWith('.')).sort();
  const rows: Row[] = [];
  for (let i = 0; i < disks.length; i += 1) {
    if (budget.expired()) {
      io.errors.push(budget.cutShort(SystemTable.DISKS, i, disks.length));
      return { table: SystemTable.DISKS, ts, rows, snapshot: false };
    }
    const disk = disks[i]!;
    const dir = `${BLOCK_DIR}/${disk}`;
    rows.push(deviceRow(io, disk, null, dir, dir));
    const children = io.files.readDir(dir);
    if (!children.ok) continue;
    for (const child of children.value.sort()) {
      if (!child.startsWith(disk) || io.attribute(`${dir}/${child}/partition`) === null) continue;
      rows.push(deviceRow(io, child, disk, `${dir}/${child}`, dir));
    }
  }
  return { table: SystemTable.DISKS, ts, rows, snapshot: true };
}

/** One device's row; a partition takes the queue and device attributes of its disk (`diskDir`). */
function deviceRow(io: Io, name: string, parent: string | null, dir: string, diskDir: string): Row {
  const count = (path: string): Count | null => {
    const text = io.attribute(path);
    return text === null ? null : (readCount(text, 0, text.length) ?? null);
  };
  const flag = (path: string): boolean | null => {
    const text = io.attribute(path);
    return text === '1' ? true : text === '0' ? false : null;
  };
  const int = (path: string): number | null => {
    const value = count(path);
    return typeof value === 'number' && value < 2 ** 31 ? value : null;
  };
  const text = (path: string): string | null => {
    const value = io.attribute(path)?.trim();
    return value === undefined || value === '' ? null : value;
  };
  const sectors = count(`${dir}/size`);
  return {
    name,
    parent,
    device: text(`${dir}/dev`),
    size: sectors === null ? null : (multiplyCount(sectors, SECTOR_BYTES) ?? null),
    rotational: flag(`${diskDir}/queue/rotational`),
    removable: flag(`${diskDir}/removable`),
    read_only: flag(`${dir}/ro`),
    logical_block_size: int(`${diskDir}/queue/logical_block_size`),
    physical_block_size: int(`${diskDir}/queue/physical_block_size`),
    model: text(`${diskDir}/device/model`),
    vendor: text(`${diskDir}/device/vendor`),
    serial: text(`${diskDir}/serial`) ?? text(`${diskDir}/device/serial`),
  };
}

/** disk_io rows from /proc/diskstats. */
export function collectDiskIo(io: Io): Batch | undefined {
  const ts = io.clock.now();
  const text = io.host('/proc/diskstats');
  const parsed = text.ok ? parseDiskstats(text.value) : text;
  if (!parsed.ok) {
    io.errors.push(parsed.status);
    return undefined;
  }
  const seen = new Set<string>();
  const rows: Row[] = [];
  for (const line of parsed.value) {
    // Two devices never share a name; a malformed capture might, and keys must stay unique.
    if (seen.has(line.name)) continue;
    seen.add(line.name);
    const v = (field: DiskstatsField): Count | null => line.values.get(field) ?? null;
    const bytes = (field: DiskstatsField): Count | null => {
      const sectors = v(field);
      return sectors === null ? null : (multiplyCount(sectors, SECTOR_BYTES) ?? null);
    };
    const readBytes = bytes('sectors_read');
    const writeBytes = bytes('sectors_written');
    if (readBytes === null || writeBytes === null) {
      io.errors.push(fail(StatusCode.PARSE_ERROR, `/proc/diskstats: ${line.name}: sectors past the int64 range in bytes`, { op: 'parse /proc/diskstats' }));
      continue;
    }
    rows.push({
      name: line.name,
      reads_completed: v('reads_completed'),
      reads_merged: v('reads_merged'),
      read_bytes: readBytes,
      read_time: v('read_time'),
      writes_completed: v('writes_completed'),
      writes_merged: v('writes_merged'),
      write_bytes: writeBytes,
      write_time: v('write_time'),
      in_flight: v('in_flight'),
      io_time: v('io_time'),
      weighted_io_time: v('weighted_io_time'),
      discards_completed: v('discards_completed'),
      discards_merged: v('discards_merged'),
      discard_bytes: bytes('sectors_discarded'),
      discard_time: v('discard_time'),
      flushes_completed: v('flushes_completed'),
      flush_time: v('flush_time'),
    });
  }
  return { table: SystemTable.DISK_IO, ts, rows, snapshot: true };
}

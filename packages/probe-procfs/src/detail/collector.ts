/**
 * The detail group's collector: per due table, picks the processes its filter selects from the
 * latest scan, reads each one's file within the table's budget (yielding every `scanChunk`
 * processes), and turns what went wrong into at most one Status per kind per table: processes
 * that exited are normal, refusals are reported once per table for the probe's lifetime.
 */
import { endianness } from 'node:os';
import { fail, formatStatus, StatusCode, type Batch, type Row, type Status } from '@virtualeyes/core';
import { classifyPidStatus, PidErrno, readCount, readUint, type Count } from '@virtualeyes/linux';
import { createBudget, type Budget, type GroupCollector, type GroupContext, type GroupOutput, type ProcessInfo } from '../group.js';
import { FdInfo } from './options.js';
import { parseCgroupPaths } from './parse/cgroup.js';
import { classifyFdTarget, FdKind, parseFdInfo, type FdTarget } from './parse/fd.js';
import { parseMaps } from './parse/maps.js';
import { parseInetSockets, parseUnixSockets, type InetSocket, type UnixSocket } from './parse/net.js';
import { parseNumaMaps } from './parse/numa-maps.js';
import { parseSmapsRollup } from './parse/smaps-rollup.js';
import { needsCgroups, selectorFor, selectProcesses, type Selector } from './select.js';
import { DETAIL_TABLE_NAMES, DetailTable, ROLLUP_FIELDS } from './tables.js';

const PROC = '/proc';
/** The tables of a network namespace, read once per collection: file, family, protocol. */
const INET_TABLES: readonly (readonly [file: string, family: number, protocol: number])[] = [
  ['tcp', 2, 6],
  ['tcp6', 10, 6],
  ['udp', 2, 17],
  ['udp6', 10, 17],
];
const AF_UNIX = 1;

/** What went wrong while one table was collected, summed up at the end. */
interface Tally {
  exited: number;
  denied: number;
  readonly failures: Map<string, { first: Status; count: number }>;
}

/** One open descriptor as its link says. */
interface FdLink extends FdTarget {
  readonly fd: number;
  readonly target: string;
}

/** Where a socket was found: its namespace's tables, joined. */
interface SocketInfo {
  readonly family: number;
  readonly protocol: number;
  readonly inet?: InetSocket;
  readonly unix?: UnixSocket;
}

/** A process's descriptors, or why they could not be listed. */
type FdRead = { readonly ok: true; readonly links: FdLink[] } | { readonly ok: false; readonly status: Status };

/** Per-collection caches shared by the tables collected together (process_fds and process_sockets list the same fds). */
interface Collection {
  readonly cgroups: Map<number, readonly string[] | undefined>;
  readonly fds: Map<number, FdRead>;
}

/** Creates the collector of one probe instance; its compiled filters and "reported once" marks are its own. */
export function createDetailCollector(context: GroupContext): GroupCollector {
  const { files, config } = context;
  const { logger, clock } = context.deps;
  const selectors = new Map<DetailTable, Selector>(DETAIL_TABLE_NAMES.map((table) => [table, selectorFor(config, table)]));
  const deniedReported = new Set<string>();
  const littleEndian = endianness() === 'LE';

  /** A failed read under /proc/PID: counted as exited, refused or failed. */
  const missed = (tally: Tally, status: Status): void => {
    const kind = classifyPidStatus(status);
    if (kind === PidErrno.GONE) tally.exited += 1;
    else if (kind === PidErrno.REFUSED) tally.denied += 1;
    else failed(tally, status);
  };

  const cgroupsOf = (collection: Collection) => (process: ProcessInfo): readonly string[] | undefined => {
    if (collection.cgroups.has(process.pid)) return collection.cgroups.get(process.pid);
    const text = files.readText(`${PROC}/${process.pid}/cgroup`);
    const paths = text.ok ? parseCgroupPaths(text.value) : undefined;
    const value = paths?.ok === true ? paths.value : undefined;
    collection.cgroups.set(process.pid, value);
    return value;
  };

  const fdLinks = (collection: Collection, pid: number): FdRead => {
    const cached = collection.fds.get(pid);
    if (cached !== undefined) return cached;
    const dir = `${PROC}/${pid}/fd`;
    const names = files.readDir(dir);
    let result: FdRead;
    if (!names.ok) result = { ok: false, status: names.status };
    else {
      const links: FdLink[] = [];
      for (const name of names.value) {
        const fd = readUint(name, 0, name.length);
        if (fd < 0) continue;
        const link = files.readLink(`${dir}/${name}`);
        // A descriptor closed between the listing and its readlink is simply gone.
        if (!link.ok) continue;
        links.push({ fd, target: link.value, ...classifyFdTarget(link.value) });
      }
      links.sort((a, b) => a.fd - b.fd);
      result = { ok: true, links };
    }
    collection.fds.set(pid, result);
    return result;
  };

  /** Reads one file per selected process into rows; `toRows` gives the rows of its text or a failure. */
  const perFile = async (
    table: DetailTable,
    selected: readonly ProcessInfo[],
    budget: Budget,
    tally: Tally,
    file: string,
    toRows: (process: ProcessInfo, text: string) => Row[] | Status,
  ): Promise<{ rows: Row[]; cut?: Status }> => {
    const rows: Row[] = [];
    const cut = await eachProcess(table, selected, budget, config.scanChunk, (process) => {
      const text = files.readText(`${PROC}/${process.pid}/${file}`);
      if (!text.ok) return missed(tally, text.status);
      const out = toRows(process, text.value);
      if (Array.isArray(out)) rows.push(...out);
      else failed(tally, out);
    });
    return cut === undefined ? { rows } : { rows, cut };
  };

  const collectTable = async (table: DetailTable, selected: readonly ProcessInfo[], budget: Budget, tally: Tally, collection: Collection): Promise<{ rows: Row[]; cut?: Status }> => {
    switch (table) {
      case DetailTable.MAPS:
        return perFile(table, selected, budget, tally, 'maps', mapsRows);
      case DetailTable.MEMORY:
        return perFile(table, selected, budget, tally, 'smaps_rollup', memoryRows);
      case DetailTable.NUMA:
        return perFile(table, selected, budget, tally, 'numa_maps', numaRows);
      case DetailTable.FDS:
        return fdRows(selected, budget, tally, collection);
      case DetailTable.SOCKETS:
        return socketRows(selected, budget, tally, collection);
    }
  };

  const fdRows = async (selected: readonly ProcessInfo[], budget: Budget, tally: Tally, collection: Collection): Promise<{ rows: Row[]; cut?: Status }> => {
    const rows: Row[] = [];
    const readInfo = config.fdInfo !== FdInfo.OFF;
    const keepPos = config.fdInfo === FdInfo.POSITION;
    let deniedInfo = false;
    const cut = await eachProcess(DetailTable.FDS, selected, budget, config.scanChunk, (process) => {
      const links = fdLinks(collection, process.pid);
      if (!links.ok) return missed(tally, links.status);
      for (const link of links.links) {
        let flags: number | null = null;
        let pos: Count | null = null;
        if (readInfo) {
          const info = files.readText(`${PROC}/${process.pid}/fdinfo/${link.fd}`);
          if (info.ok) {
            const parsed = parseFdInfo(info.value);
            if (parsed.ok) {
              flags = parsed.value.flags;
              if (keepPos) pos = parsed.value.pos;
            } else failed(tally, parsed.status);
          } else {
            const kind = classifyPidStatus(info.status);
            if (kind === PidErrno.GONE) continue; // closed since its readlink
            if (kind === PidErrno.REFUSED) deniedInfo = true;
            else failed(tally, info.status);
          }
        }
        rows.push({ pid: process.pid, start_time: process.startTime, fd: link.fd, kind: link.kind, target: link.target, inode: link.inode, flags, pos });
      }
    });
    if (deniedInfo) tally.denied += 1;
    return cut === undefined ? { rows } : { rows, cut };
  };

  const socketRows = async (selected: readonly ProcessInfo[], budget: Budget, tally: Tally, collection: Collection): Promise<{ rows: Row[]; cut?: Status }> => {
    // First pass: each process's socket descriptors, grouped by network namespace.
    const namespaces = new Map<number, { readers: ProcessInfo[]; sockets: { process: ProcessInfo; link: FdLink }[] }>();
    let cut = await eachProcess(DetailTable.SOCKETS, selected, budget, config.scanChunk, (process) => {
      const links = fdLinks(collection, process.pid);
      if (!links.ok) return missed(tally, links.status);
      const sockets = links.links.filter((link) => link.kind === FdKind.SOCKET && link.inode !== null);
      if (sockets.length === 0) return;
      const ns = files.readLink(`${PROC}/${process.pid}/ns/net`);
      if (!ns.ok) return missed(tally, ns.status);
      const inode = namespaceInode(ns.value);
      if (inode === undefined) return failed(tally, fail(StatusCode.PARSE_ERROR, `/proc/[pid]/ns/net: unexpected link '${ns.value}'`, { op: 'parse /proc/[pid]/ns/net' }));
      let group = namespaces.get(inode);
      if (group === undefined) namespaces.set(inode, (group = { readers: [], sockets: [] }));
      group.readers.push(process);
      for (const link of sockets) group.sockets.push({ process, link });
    });
    // Second pass: each namespace's tables once, joined on the socket inode.
    const rows: Row[] = [];
    let done = 0;
    for (const [netNamespace, group] of namespaces) {
      if (cut !== undefined) break;
      // Past the processes, what is left is namespaces: "after done of total" counts those joined.
      if (budget.expired()) cut = budget.cutShort(DetailTable.SOCKETS, done, namespaces.size);
      if (cut !== undefined) break;
      done += 1;
      const table = namespaceSockets(group.readers, tally);
      if (table === undefined) continue;
      for (const { process, link } of group.sockets) {
        const found = table.get(String(link.inode));
        if (found === undefined) continue; // netlink, packet, raw…: not in these tables
        const { inet, unix } = found;
        rows.push({
          pid: process.pid,
          start_time: process.startTime,
          fd: link.fd,
          socket: link.inode,
          family: found.family,
          protocol: found.protocol,
          local_address: inet?.localAddress ?? null,
          local_port: inet?.localPort ?? null,
          remote_address: inet?.remoteAddress ?? null,
          remote_port: inet?.remotePort ?? null,
          state: inet?.state ?? unix?.state ?? '',
          path: unix?.path ?? null,
          net_namespace: netNamespace,
        });
      }
    }
    rows.sort((a, b) => (a.pid as number) - (b.pid as number) || (a.fd as number) - (b.fd as number));
    return cut === undefined ? { rows } : { rows, cut };
  };

  /** A namespace's sockets by inode, read through the first of its processes still alive. */
  const namespaceSockets = (readers: readonly ProcessInfo[], tally: Tally): Map<string, SocketInfo> | undefined => {
    for (const reader of readers) {
      const dir = `${PROC}/${reader.pid}/net/`;
      // tcp is in every namespace: its absence means this process is gone; tcp6 is absent without IPv6.
      const tcp = files.readText(`${dir}tcp`);
      if (!tcp.ok) {
        if (classifyPidStatus(tcp.status) === PidErrno.GONE) continue;
        missed(tally, tcp.status);
        return undefined;
      }
      const sockets = new Map<string, SocketInfo>();
      for (const [file, family, protocol] of INET_TABLES) {
        const text = file === 'tcp' ? tcp : files.readText(`${dir}${file}`);
        if (!text.ok) {
          if (classifyPidStatus(text.status) !== PidErrno.GONE) failed(tally, text.status);
          continue;
        }
        const parsed = parseInetSockets(text.value, `/proc/[pid]/net/${file}`, littleEndian);
        if (!parsed.ok) {
          failed(tally, parsed.status);
          continue;
        }
        for (const inet of parsed.value) sockets.set(String(inet.inode), { family, protocol, inet });
      }
      const unixText = files.readText(`${dir}unix`);
      if (unixText.ok) {
        const parsed = parseUnixSockets(unixText.value);
        if (parsed.ok) for (const unix of parsed.value) sockets.set(String(unix.inode), { family: AF_UNIX, protocol: unix.protocol, unix });
        else failed(tally, parsed.status);
      } else if (classifyPidStatus(unixText.status) !== PidErrno.GONE) failed(tally, unixText.status);
      return sockets;
    }
    return undefined;
  };

  const summarize = (table: DetailTable, tally: Tally): Status[] => {
    const op = `collect ${table}`;
    const statuses: Status[] = [];
    if (tally.exited > 0) statuses.push(fail(StatusCode.NOT_FOUND, `${table}: ${plural(tally.exited)} exited while being read`, { op, retryable: false }));
    if (tally.denied > 0) {
      const status = fail(StatusCode.PERMISSION_DENIED, `${table}: could not read the files of ${plural(tally.denied)} (left out); needs root or CAP_SYS_PTRACE (a sandbox's pid 1 may refuse even root)`, {
        op,
        retryable: false,
      });
      if (deniedReported.has(table)) logger.debug(formatStatus(status));
      else {
        deniedReported.add(table);
        statuses.push(status);
      }
    }
    for (const { first, count } of tally.failures.values()) statuses.push(count === 1 ? first : fail(first.code, `${first.message} (and ${count - 1} more like it)`, { ...first, op: first.op ?? op }));
    return statuses;
  };

  return {
    async collect(tables, budgets, signal): Promise<GroupOutput> {
      const batches: Batch[] = [];
      const errors: Status[] = [];
      const due = DETAIL_TABLE_NAMES.filter((table) => tables.has(table));
      if (due.length === 0) return { batches, errors };
      const processes = await context.processes(signal);
      // There is always at least this process: an empty list is a failed scan (its Status comes
      // with the process tables), and empty snapshots would end every row recorded so far.
      if (processes.length === 0) {
        errors.push(fail(StatusCode.UNAVAILABLE, `${due.join(', ')}: no process list to read (the process scan failed)`, { op: 'collect detail tables' }));
        return { batches, errors };
      }
      const collection: Collection = { cgroups: new Map(), fds: new Map() };
      for (const table of due) {
        const given = budgets.get(table);
        const selector = selectors.get(table);
        if (given === undefined || selector === undefined) continue;
        // Each table's budget starts with the table: neither the scan above nor the tables before it spend it.
        const budget = createBudget(given.ms, signal, clock.monotonic);
        const ts = clock.now();
        const selected = selectProcesses(processes, selector, needsCgroups(selector) ? cgroupsOf(collection) : () => undefined);
        const tally: Tally = { exited: 0, denied: 0, failures: new Map() };
        const { rows, cut } = await collectTable(table, selected, budget, tally, collection);
        // The rows are the state of every selected process, so a process leaving the selection ends its rows.
        batches.push({ table, ts, rows, snapshot: cut === undefined });
        errors.push(...summarize(table, tally));
        if (cut !== undefined) errors.push(cut);
      }
      return { batches, errors };
    },
  };
}

/** Longest stretch a table's reads keep the event loop, in milliseconds: a process with thousands of fds costs more than a chunk of small ones. */
const MAX_TURN_MS = 10;

/** Runs `read` over the processes, yielding every `chunk` (or MAX_TURN_MS) and stopping when the budget runs out (its cutShort Status). */
async function eachProcess(table: DetailTable, selected: readonly ProcessInfo[], budget: Budget, chunk: number, read: (process: ProcessInfo) => void): Promise<Status | undefined> {
  let turn = performance.now();
  for (let i = 0; i < selected.length; i += 1) {
    if (i > 0 && (i % chunk === 0 || performance.now() - turn > MAX_TURN_MS)) {
      await yieldToLoop();
      turn = performance.now();
    }
    if (budget.expired()) return budget.cutShort(table, i, selected.length);
    read(selected[i]!);
  }
  return undefined;
}

function mapsRows(process: ProcessInfo, text: string): Row[] | Status {
  const parsed = parseMaps(text);
  if (!parsed.ok) return parsed.status;
  return parsed.value.map((entry) => ({ pid: process.pid, start_time: process.startTime, ...entry }));
}

function memoryRows(process: ProcessInfo, text: string): Row[] | Status {
  const parsed = parseSmapsRollup(text);
  if (!parsed.ok) return parsed.status;
  if (parsed.value === null) return [];
  const values = parsed.value;
  const row: Record<string, Count | null> = { pid: process.pid, start_time: process.startTime };
  for (const [name, key, required] of ROLLUP_FIELDS) {
    const value = values.get(key);
    if (value === undefined && required) return fail(StatusCode.PARSE_ERROR, `/proc/[pid]/smaps_rollup: no ${key} line`, { op: 'parse /proc/[pid]/smaps_rollup' });
    row[name] = value ?? null;
  }
  return [row];
}

function numaRows(process: ProcessInfo, text: string): Row[] | Status {
  const parsed = parseNumaMaps(text);
  if (!parsed.ok) return parsed.status;
  return parsed.value.map((usage) => ({ pid: process.pid, start_time: process.startTime, ...usage }));
}

/** The inode of a `net:[4026531833]` link, or undefined. */
function namespaceInode(link: string): number | undefined {
  if (!link.startsWith('net:[') || !link.endsWith(']')) return undefined;
  const inode = readCount(link, 5, link.length - 1);
  return typeof inode === 'number' ? inode : undefined;
}

function failed(tally: Tally, status: Status): void {
  const seen = tally.failures.get(status.code);
  if (seen === undefined) tally.failures.set(status.code, { first: status, count: 1 });
  else seen.count += 1;
}

function plural(count: number): string {
  return `${count} ${count === 1 ? 'process' : 'processes'}`;
}

function yieldToLoop(): Promise<void> {
  return new Promise<void>((resolve) => setImmediate(resolve));
}

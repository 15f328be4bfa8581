/**
 * The system table group (see ../group.ts): CPU topology, NUMA, network, disks, mounts and
 * filesystem usage, vmstat, PSI and cgroups. Each table has a reader of its own (cpu.ts, net.ts,
 * disks.ts, fs.ts, kernel.ts, cgroups.ts); the collector runs the due ones in table order, each
 * within its budget, and keeps what outlives a collection: the statfs calls still outstanding
 * and which missing sources were already reported.
 */
import { statfs as nodeStatfs } from 'node:fs/promises';
import { statusFromError, StatusCode, type Batch, type Status } from '@virtualeyes/core';
import type { Budget, GroupCollector, GroupContext, TableGroup } from '../group.js';
import { collectCgroups } from './cgroups.js';
import { collectCpuInfo, collectNumaNodes, collectNumaStats } from './cpu.js';
import { collectDiskIo, collectDisks } from './disks.js';
import { collectMounts, createFilesystemUsage, type StatfsFn } from './fs.js';
import { createIo, type Io, type IoState } from './io.js';
import { collectPressure, collectVmstat } from './kernel.js';
import { collectInterfaces, collectNetDev } from './net.js';
import { SYSTEM_BUDGET_MS, SYSTEM_TABLES, SystemTable } from './tables.js';

/** What the system collector is built from: the group context's parts, and statfs (injected in tests). */
export interface SystemDeps {
  readonly context: GroupContext;
  /** statfs(2) of a path; defaults to Node's, with bigint counts. */
  readonly statfs?: StatfsFn;
}

/** The node statfs with exact (bigint) counts. */
const defaultStatfs: StatfsFn = (path) => nodeStatfs(path, { bigint: true });

/** Creates the system group's collector for one probe instance. */
export function createSystemCollector({ context, statfs = defaultStatfs }: SystemDeps): GroupCollector {
  const { config, files, deps } = context;
  const state: IoState = { files, clock: deps.clock, logger: deps.logger, reported: new Set() };
  const usage = createFilesystemUsage(statfs, config.fsSkipTypes, deps.clock);
  const limits = { maxDepth: config.cgroupMaxDepth, maxCount: config.cgroupMaxCount, userHz: config.userHz };

  const readers: Readonly<Record<SystemTable, (io: Io, budget: Budget, signal: AbortSignal) => Batch | undefined | Promise<Batch | undefined>>> = {
    [SystemTable.CPU_INFO]: collectCpuInfo,
    [SystemTable.NUMA_NODES]: collectNumaNodes,
    [SystemTable.NUMA_STATS]: collectNumaStats,
    [SystemTable.INTERFACES]: collectInterfaces,
    [SystemTable.NET_DEV]: collectNetDev,
    [SystemTable.DISKS]: collectDisks,
    [SystemTable.DISK_IO]: collectDiskIo,
    [SystemTable.MOUNTS]: collectMounts,
    [SystemTable.FILESYSTEM_USAGE]: (io, budget, signal) => usage.collect(io, budget, signal),
    [SystemTable.VMSTAT]: collectVmstat,
    [SystemTable.PRESSURE]: collectPressure,
    [SystemTable.CGROUPS]: (io, budget) => collectCgroups(io, budget, limits),
  };

  return {
    async collect(tables, budgets, signal) {
      const batches: Batch[] = [];
      const errors: Status[] = [];
      const io = createIo(state, errors);
      for (const schema of SYSTEM_TABLES) {
        const table = schema.name as SystemTable;
        const budget = budgets.get(table);
        if (!tables.has(table) || budget === undefined) continue;
        if (budget.expired()) {
          errors.push(budget.cutShort(table, 0, 1));
          continue;
        }
        try {
          const batch = await readers[table](io, budget, signal);
          if (batch !== undefined) batches.push(batch);
        } catch (error) {
          // Readers return Statuses; a throw is a bug, kept to this table rather than the probe.
          errors.push(statusFromError(error, { code: StatusCode.INTERNAL, op: `collect ${table}` }));
        }
      }
      return { batches, errors };
    },
  };
}

/** The system tables, their budgets and their collector. */
export const SYSTEM_GROUP: TableGroup = {
  tables: SYSTEM_TABLES,
  budgetMs: SYSTEM_BUDGET_MS,
  create: (context) => createSystemCollector({ context }),
};

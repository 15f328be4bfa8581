/**
 * mounts and filesystem_usage. Mounts come from /proc/self/mountinfo (the agent's own mount
 * namespace, which is also where its statfs calls land). statfs goes through libuv's thread
 * pool, where a call on a hung NFS mount blocks a thread until the server answers, possibly
 * forever; so the collector keeps at most one call per mount point outstanding, waits for the
 * calls no longer than the table's budget, reports a mount whose call has not returned as
 * TIMEOUT, and skips it (TIMEOUT again, without a new call) until that call settles. Each hung
 * call holds one of libuv's threads (4 unless UV_THREADPOOL_SIZE says otherwise, shared with all
 * of the agent's file I/O), so once MAX_STUCK calls hang, no new call is started on a network
 * filesystem until one returns: local filesystems are still measured.
 */
import { fail, messageOf, StatusCode, classifyErrno, type Batch, type Clock, type Row, type Status } from '@virtualeyes/core';
import { toCount } from '@virtualeyes/linux';
import type { Budget } from '../group.js';
import type { Io } from './io.js';
import { parseMountinfo, type Mount } from './parse/mountinfo.js';
import { SystemTable } from './tables.js';

/** What filesystem_usage needs from statfs(2), as Node's `fs.statfs(path, { bigint: true })` gives it. */
export interface FsStats {
  readonly bsize: bigint;
  readonly blocks: bigint;
  readonly bfree: bigint;
  readonly bavail: bigint;
  readonly files: bigint;
  readonly ffree: bigint;
}

/** statfs of a path; rejects with a Node system error. Injected so tests can make one hang. */
export type StatfsFn = (path: string) => Promise<FsStats>;

const MOUNTINFO = '/proc/self/mountinfo';
/** Hung statfs calls after which network filesystems are no longer asked (half of libuv's default pool). */
export const MAX_STUCK = 2;
/** Filesystem types whose statfs waits on a server (and so can hang); every fuse.* type counts too. */
const NETWORK_TYPES: ReadonlySet<string> = new Set(['nfs', 'nfs4', 'cifs', 'smb3', 'smbfs', 'ceph', 'glusterfs', '9p', 'afs', 'davfs', 'lustre', 'gpfs', 'fuse', 'fuseblk']);

/** Whether statfs on a filesystem of `type` waits on a server or another process. */
export function isNetworkType(type: string): boolean {
  return NETWORK_TYPES.has(type) || type.startsWith('fuse.');
}

/** Reads and parses the mount table, pushing its failure; undefined when unreadable. */
function readMounts(io: Io): Mount[] | undefined {
  const text = io.host(MOUNTINFO);
  const parsed = text.ok ? parseMountinfo(text.value) : text;
  if (parsed.ok) return parsed.value;
  io.errors.push(parsed.status);
  return undefined;
}

/** mounts rows. */
export function collectMounts(io: Io): Batch | undefined {
  const ts = io.clock.now();
  const mounts = readMounts(io);
  if (mounts === undefined) return undefined;
  const seen = new Set<number>();
  const rows: Row[] = [];
  for (const mount of mounts) {
    if (seen.has(mount.id)) continue;
    seen.add(mount.id);
    rows.push({
      mount_id: mount.id,
      parent_id: mount.parent,
      major_minor: mount.device,
      root: mount.root,
      path: mount.path,
      type: mount.type,
      device: mount.source,
      flags: mount.options,
      super_options: mount.superOptions,
      propagation: mount.propagation,
    });
  }
  return { table: SystemTable.MOUNTS, ts, rows, snapshot: true };
}

/** A statfs call in flight, kept across collections while it has not settled. */
interface Pending {
  readonly since: number;
  settled: { readonly stats: FsStats } | { readonly error: unknown } | undefined;
  readonly done: Promise<void>;
}

/** The filesystem_usage collector: owns the statfs calls still outstanding. */
export interface FilesystemUsage {
  collect(io: Io, budget: Budget, signal: AbortSignal): Promise<Batch | undefined>;
  /** Mount points with a call outstanding (for tests and the status board). */
  outstanding(): readonly string[];
}

/** Creates the filesystem_usage collector over `statfs`, with `skipTypes` never statfs'd. */
export function createFilesystemUsage(statfs: StatfsFn, skipTypes: readonly string[], clock: Clock): FilesystemUsage {
  const skip = new Set(skipTypes);
  const pending = new Map<string, Pending>();

  const start = (path: string): Pending => {
    const entry: Pending = {
      since: clock.monotonic(),
      settled: undefined,
      done: Promise.resolve()
        .then(() => statfs(path))
        .then(
          (stats) => {
            entry.settled = { stats };
          },
          (error: unknown) => {
            entry.settled = { error };
          },
        )
        .finally(() => {
          if (pending.get(path) === entry) pending.delete(path);
        }),
    };
    pending.set(path, entry);
    return entry;
  };

  return {
    outstanding: () => [...pending.keys()],
    async collect(io, budget, signal) {
      const started = clock.monotonic();
      const ts = io.clock.now();
      const mounts = readMounts(io);
      if (mounts === undefined) return undefined;
      // statfs answers for the topmost mount at a path, so only that one is asked about.
      const top = new Map<string, Mount>();
      for (const mount of mounts) if (!skip.has(mount.type)) top.set(mount.path, mount);
      const calls: { mount: Mount; entry: Pending }[] = [];
      const stuckCount = pending.size;
      for (const mount of top.values()) {
        const stuck = pending.get(mount.path);
        if (stuck !== undefined) {
          const waited = Math.round(clock.monotonic() - stuck.since);
          io.errors.push(timeout(mount, `statfs has not returned for ${waited} ms (a hung network mount?); skipped until it does`));
          continue;
        }
        if (stuckCount >= MAX_STUCK && isNetworkType(mount.type)) {
          io.errors.push(timeout(mount, `not asked: ${stuckCount} statfs calls on other mounts are hung, each holding a libuv thread`));
          continue;
        }
        calls.push({ mount, entry: start(mount.path) });
      }
      await waitAll(
        calls.map((call) => call.entry.done),
        Math.max(0, budget.ms - (clock.monotonic() - started)),
        clock,
        signal,
      );
      const rows: Row[] = [];
      for (const { mount, entry } of calls) {
        const settled = entry.settled;
        if (settled === undefined) {
          io.errors.push(timeout(mount, `statfs did not return within the ${budget.ms} ms budget (a hung network mount?); skipped until it does`));
        } else if ('error' in settled) {
          // A mount point that vanished between mountinfo and statfs is not an error; a refusal
          // (another user's FUSE mount without allow_other) stays one, so it is said once.
          const code = classifyErrno(settled.error, `statfs ${mount.path}`).code;
          const status = fail(code, `${SystemTable.FILESYSTEM_USAGE}: statfs ${mount.path}: ${messageOf(settled.error)}`, { op: `statfs ${mount.path}`, cause: settled.error });
          if (code === StatusCode.PERMISSION_DENIED) io.once(`statfs-denied ${mount.path}`, status);
          else if (code !== StatusCode.NOT_FOUND) io.errors.push(status);
        } else {
          const row = usageRow(mount, settled.stats);
          if (row === undefined) io.errors.push(fail(StatusCode.PARSE_ERROR, `${SystemTable.FILESYSTEM_USAGE}: statfs ${mount.path}: counts past the int64 range`, { op: `statfs ${mount.path}` }));
          else rows.push(row);
        }
      }
      return { table: SystemTable.FILESYSTEM_USAGE, ts, rows, snapshot: true };
    },
  };
}

function timeout(mount: Mount, message: string): Status {
  return fail(StatusCode.TIMEOUT, `${SystemTable.FILESYSTEM_USAGE}: ${mount.path} (${mount.type} ${mount.source}): ${message}`, { op: `statfs ${mount.path}` });
}

/** Resolves when every promise settled, `ms` passed on `clock`, or `signal` aborted, whichever is first. */
function waitAll(promises: readonly Promise<void>[], ms: number, clock: Clock, signal: AbortSignal): Promise<void> {
  if (promises.length === 0) return Promise.resolve();
  return new Promise((resolve) => {
    const finish = (): void => {
      timer.cancel();
      signal.removeEventListener('abort', finish);
      resolve();
    };
    const timer = clock.setTimer(finish, ms);
    signal.addEventListener('abort', finish, { once: true });
    void Promise.all(promises).then(finish);
  });
}

/** The row of one statfs answer; undefined when a byte count passes int64. */
export function usageRow(mount: Mount, stats: FsStats): Row | undefined {
  const values = {
    block_size: toCount(stats.bsize),
    size: toCount(stats.blocks * stats.bsize),
    used: toCount((stats.blocks > stats.bfree ? stats.blocks - stats.bfree : 0n) * stats.bsize),
    free: toCount(stats.bfree * stats.bsize),
    available: toCount(stats.bavail * stats.bsize),
    inodes: toCount(stats.files),
    inodes_free: toCount(stats.ffree),
  };
  const row: Record<string, string | number | bigint> = { mount_id: mount.id, path: mount.path, type: mount.type };
  for (const [name, value] of Object.entries(values)) {
    if (value === undefined) return undefined;
    row[name] = value;
  }
  return row;
}

/**
 * Opening, reading and closing counter groups on one target (a CPU, or a thread). A group's
 * leader opens disabled, its members join it, and one ioctl enables them together; a member
 * the group refuses is retried on its own, so one odd event never costs its partner. Each fd's
 * id (PERF_EVENT_IOC_ID) maps the values of a group read back to events. Per-thread counters
 * inherit into new threads only (inherit_thread), where the kernel has it.
 */
import { err, fail, ok, StatusCode, type Result, type Status } from '@virtualeyes/core';
import { encodeAttr } from '../attr.js';
import { PERF_ATTR_SIZE, PerfIoctl } from '../constants.js';
import { classifyPerfError, type PerfErrorContext, type Scope } from '../classify.js';
import type { EventDef } from '../events.js';
import { decodeGroupRead, MAX_GROUP_MEMBERS } from '../parse/group-read.js';
import type { SysResult } from '@virtualeyes/linux/native';
import type { PerfSyscalls } from './native.js';

/** Who is counted. */
export interface CounterTarget {
  /** perf_event_open's pid: -1 for a CPU, else a thread id. */
  readonly pid: number;
  /** perf_event_open's cpu: -1 for a thread, else a CPU number. */
  readonly cpu: number;
  /** Per-CPU or per-process counters. */
  readonly scope: Scope;
  /** Who, for messages: `CPU 1`, `pid 42 (nginx)`. */
  readonly label: string;
  /** Count the threads the target creates later (child processes too on kernels before 5.13). */
  readonly inherit: boolean;
  /** Count user space only. */
  readonly excludeKernel: boolean;
}

/** A group of counters read with one read(). */
export interface OpenGroup {
  /** The event whose fd leads the group. */
  readonly leader: EventDef;
  /** Leader first, then members. */
  readonly fds: readonly number[];
  /** The group's events by their kernel id. */
  readonly byId: ReadonlyMap<bigint, EventDef>;
}

/** The outcome of opening a target's groups. */
export interface OpenOutcome {
  /** Groups now counting. */
  readonly groups: OpenGroup[];
  /** Events this target showed to be unsupported, with why. */
  readonly unsupported: { readonly event: EventDef; readonly status: Status }[];
  /** A failure that stopped opening (refusal, exited target, no fds): everything opened was closed again. */
  readonly failure?: Status;
}

/** The counts of one group read. */
export interface GroupCounts {
  /** Nanoseconds the group was enabled. */
  readonly timeEnabled: bigint;
  /** Nanoseconds the group was on the PMU. */
  readonly timeRunning: bigint;
  /** Raw count per event. */
  readonly values: ReadonlyMap<EventDef, bigint>;
}

/** What opening and reading needs besides the target: the system calls, scratch buffers, context for messages. */
export interface CounterIo {
  readonly sys: PerfSyscalls;
  /** perf_event_paranoid for messages, or null. */
  readonly paranoid: () => number | null;
  /** Scratch for perf_event_attr. */
  readonly attr: Buffer;
  /** Scratch for PERF_EVENT_IOC_ID. */
  readonly id: Buffer;
  /** Scratch for group reads, large enough for the largest group. */
  readonly read: Buffer;
  /**
   * Whether inherited counters follow threads only (inherit_thread). Cleared, for the rest of
   * the instance, the first time the kernel refuses that flag (before Linux 5.13).
   */
  inheritThread: boolean;
  /** Called once when inheritThread is cleared. */
  readonly onOldKernel: () => void;
}

/** Scratch buffers and kernel facts for one probe instance. */
export function createCounterIo(sys: PerfSyscalls, paranoid: () => number | null, onOldKernel: () => void = () => undefined): CounterIo {
  return {
    sys,
    paranoid,
    attr: Buffer.alloc(PERF_ATTR_SIZE),
    id: Buffer.alloc(8),
    read: Buffer.alloc(24 + 16 * MAX_GROUP_MEMBERS),
    inheritThread: true,
    onOldKernel,
  };
}

/**
 * Opens `groups` on `target`, skipping events `skip` rejects. UNSUPPORTED events are dropped
 * and reported; any other failure closes what was opened and stops.
 */
export function openGroups(io: CounterIo, groups: readonly (readonly EventDef[])[], target: CounterTarget, skip: (event: EventDef) => boolean): OpenOutcome {
  const opened: OpenGroup[] = [];
  const unsupported: { event: EventDef; status: Status }[] = [];
  const context = (event: EventDef, op: PerfErrorContext['op']): PerfErrorContext => ({
    op,
    event,
    scope: target.scope,
    target: target.label,
    paranoid: io.paranoid(),
    excludeKernel: target.excludeKernel,
  });
  const stop = (status: Status): OpenOutcome => {
    closeGroups(io.sys, opened);
    return { groups: [], unsupported, failure: status };
  };

  for (const group of groups) {
    let pending = group.filter((event) => !skip(event));
    while (pending.length > 0) {
      const [leader, ...members] = pending as [EventDef, ...EventDef[]];
      const lead = openOne(io, leader, target, -1, true);
      if (!lead.ok) {
        const status = classifyPerfError(lead.errno, context(leader, 'open'));
        if (status.code !== StatusCode.UNSUPPORTED) return stop(status);
        unsupported.push({ event: leader, status });
        pending = members;
        continue;
      }
      const fds = [lead.value];
      const events = [leader];
      const refused: EventDef[] = [];
      for (const member of members) {
        const joined = openOne(io, member, target, lead.value, false);
        if (joined.ok) {
          fds.push(joined.value);
          events.push(member);
        } else {
          // Whatever the reason, the member gets a chance on its own (as a later leader).
          refused.push(member);
        }
      }
      const byId = new Map<bigint, EventDef>();
      for (const [index, fd] of fds.entries()) {
        const got = io.sys.ioctlOut(fd, PerfIoctl.ID, io.id);
        if (!got.ok) {
          closeFds(io.sys, fds);
          return stop(classifyPerfError(got.errno, context(events[index]!, 'enable')));
        }
        byId.set(io.id.readBigUInt64LE(0), events[index]!);
      }
      const enabled = io.sys.ioctl(lead.value, PerfIoctl.ENABLE, 0);
      if (!enabled.ok) {
        closeFds(io.sys, fds);
        return stop(classifyPerfError(enabled.errno, context(leader, 'enable')));
      }
      opened.push({ leader, fds, byId });
      pending = refused;
    }
  }
  return { groups: opened, unsupported };
}

/** Reads one group; the Status (already classified) when read() fails or returns something undecodable. */
export function readGroup(io: CounterIo, group: OpenGroup, target: CounterTarget): Result<GroupCounts> {
  const got = io.sys.read(group.fds[0]!, io.read);
  if (!got.ok) {
    const status = classifyPerfError(got.errno, {
      op: 'read',
      event: group.leader,
      scope: target.scope,
      target: target.label,
      paranoid: io.paranoid(),
      excludeKernel: target.excludeKernel,
    });
    return err(status);
  }
  const decoded = decodeGroupRead(io.read, got.value);
  if (!decoded.ok) return decoded;
  const values = new Map<EventDef, bigint>();
  for (const { id, value } of decoded.value.values) {
    const event = group.byId.get(id);
    if (event === undefined) return unknownId(id, group, target);
    values.set(event, value);
  }
  return ok({ timeEnabled: decoded.value.timeEnabled, timeRunning: decoded.value.timeRunning, values });
}

/** Closes every fd of `groups`. */
export function closeGroups(sys: PerfSyscalls, groups: readonly OpenGroup[]): void {
  for (const group of groups) closeFds(sys, group.fds);
}

/** Number of fds `groups` hold. */
export function fdCount(groups: readonly OpenGroup[]): number {
  let count = 0;
  for (const group of groups) count += group.fds.length;
  return count;
}

function openOne(io: CounterIo, event: EventDef, target: CounterTarget, groupFd: number, leader: boolean): SysResult {
  const attempt = (inheritThread: boolean): SysResult => {
    encodeAttr({ type: event.type, config: event.config, disabled: leader, inherit: target.inherit, inheritThread, excludeKernel: target.excludeKernel }, io.attr);
    return io.sys.open(io.attr, target.pid, target.cpu, groupFd);
  };
  const opened = attempt(target.inherit && io.inheritThread);
  if (opened.ok || opened.errno !== 'EINVAL' || !target.inherit || !io.inheritThread) return opened;
  // Kernels before 5.13 reject the inherit_thread bit; if the same counter opens without it, that was why.
  const retried = attempt(false);
  if (retried.ok) {
    io.inheritThread = false;
    io.onOldKernel();
  }
  return retried;
}

function closeFds(sys: PerfSyscalls, fds: readonly number[]): void {
  // Members first, then the leader; close() of a perf fd fails only for a bad fd, which would be our bug.
  for (let i = fds.length - 1; i >= 0; i -= 1) sys.close(fds[i]!);
}

function unknownId(id: bigint, group: OpenGroup, target: CounterTarget): Result<GroupCounts> {
  return err(
    fail(StatusCode.PARSE_ERROR, `perf group read: the ${group.leader.name} group on ${target.label} returned unknown id ${id}`, {
      op: `read ${group.leader.name}`,
    }),
  );
}

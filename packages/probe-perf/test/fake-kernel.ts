/**
 * A scripted stand-in for the perf system calls, so lifecycle and error handling are tested
 * without a kernel: it decodes each perf_event_attr, answers opens with fds or the errno a
 * test chooses, keeps groups, answers group reads in the kernel's layout, and tracks which
 * fds are open so leaks show.
 */
import { ok } from '@virtualeyes/core';
import { AttrFlagBit, AttrOffset, PerfIoctl } from '../src/constants.js';
import type { SysResult } from '@virtualeyes/linux/native';
import type { PerfSyscalls, PerfSyscallsLoader } from '../src/linux/native.js';

/** One perf_event_open call as the fake saw it. */
export interface OpenCall {
  readonly type: number;
  readonly config: number;
  readonly pid: number;
  readonly cpu: number;
  readonly groupFd: number;
  readonly disabled: boolean;
  readonly inherit: boolean;
  readonly inheritThread: boolean;
  readonly excludeKernel: boolean;
}

/** An open fake fd. */
export interface FakeFd extends OpenCall {
  readonly fd: number;
  readonly id: bigint;
  readonly leader: number;
  enabled: boolean;
  reads: number;
}

/** What a test can script. */
export interface FakeBehaviour {
  /** The errno an open fails with, or undefined to succeed. */
  open?: (call: OpenCall) => string | undefined;
  /** time_enabled and time_running of a group read (nanoseconds), by leader. */
  times?: (leader: FakeFd) => readonly [bigint, bigint];
  /** The raw count of a member at a read. */
  value?: (member: FakeFd) => bigint;
  /** Bytes to return instead of a well-formed reading. */
  readBytes?: (leader: FakeFd) => Buffer | undefined;
}

/** The fake and what it saw. */
export interface FakeKernel {
  readonly loader: PerfSyscallsLoader;
  readonly sys: PerfSyscalls;
  /** fds open now. */
  readonly fds: Map<number, FakeFd>;
  /** Every open call, failed ones included. */
  readonly opens: OpenCall[];
  /** fds closed twice (a bug). */
  readonly doubleCloses: number[];
  behaviour: FakeBehaviour;
}

/** Creates a fake kernel; `behaviour` may be replaced at any time. */
export function createFakeKernel(behaviour: FakeBehaviour = {}): FakeKernel {
  const fds = new Map<number, FakeFd>();
  const opens: OpenCall[] = [];
  const doubleCloses: number[] = [];
  let nextFd = 1000;
  let nextId = 7n;
  const fail = (errno: string): SysResult => ({ ok: false, errno });

  const kernel: FakeKernel = {
    fds,
    opens,
    doubleCloses,
    behaviour,
    loader: () => Promise.resolve(ok(kernel.sys)),
    sys: {
      open(attr, pid, cpu, groupFd) {
        const flags = attr.readBigUInt64LE(AttrOffset.FLAGS);
        const bit = (n: number): boolean => ((flags >> BigInt(n)) & 1n) === 1n;
        const call: OpenCall = {
          type: attr.readUInt32LE(AttrOffset.TYPE),
          config: Number(attr.readBigUInt64LE(AttrOffset.CONFIG)),
          pid,
          cpu,
          groupFd,
          disabled: bit(AttrFlagBit.DISABLED),
          inherit: bit(AttrFlagBit.INHERIT),
          inheritThread: bit(AttrFlagBit.INHERIT_THREAD),
          excludeKernel: bit(AttrFlagBit.EXCLUDE_KERNEL),
        };
        opens.push(call);
        if (groupFd !== -1 && !fds.has(groupFd)) return fail('EBADF');
        const errno = kernel.behaviour.open?.(call);
        if (errno !== undefined) return fail(errno);
        const fd = (nextFd += 1);
        fds.set(fd, { ...call, fd, id: (nextId += 3n), leader: groupFd === -1 ? fd : groupFd, enabled: !call.disabled, reads: 0 });
        return { ok: true, value: fd };
      },
      read(fd, buffer) {
        const leader = fds.get(fd);
        if (leader === undefined) return fail('EBADF');
        leader.reads += 1;
        const custom = kernel.behaviour.readBytes?.(leader);
        if (custom !== undefined) {
          custom.copy(buffer);
          return { ok: true, value: custom.length };
        }
        const members = [...fds.values()].filter((candidate) => candidate.leader === fd).sort((a, b) => a.fd - b.fd);
        const [enabled, running] = kernel.behaviour.times?.(leader) ?? [BigInt(leader.reads) * 1_000_000n, BigInt(leader.reads) * 1_000_000n];
        buffer.writeBigUInt64LE(BigInt(members.length), 0);
        buffer.writeBigUInt64LE(enabled, 8);
        buffer.writeBigUInt64LE(running, 16);
        members.forEach((member, index) => {
          buffer.writeBigUInt64LE(kernel.behaviour.value?.(member) ?? BigInt(leader.reads * 100 + member.config), 24 + index * 16);
          buffer.writeBigUInt64LE(member.id, 32 + index * 16);
        });
        return { ok: true, value: 24 + members.length * 16 };
      },
      ioctl(fd, request) {
        const event = fds.get(fd);
        if (event === undefined) return fail('EBADF');
        if (request === PerfIoctl.ENABLE) event.enabled = true;
        return { ok: true, value: 0 };
      },
      ioctlOut(fd, request, out) {
        const event = fds.get(fd);
        if (event === undefined) return fail('EBADF');
        if (request !== PerfIoctl.ID) return fail('ENOTTY');
        out.writeBigUInt64LE(event.id, 0);
        return { ok: true, value: 0 };
      },
      close(fd) {
        if (!fds.delete(fd)) {
          doubleCloses.push(fd);
          return fail('EBADF');
        }
        return { ok: true, value: 0 };
      },
    },
  };
  return kernel;
}

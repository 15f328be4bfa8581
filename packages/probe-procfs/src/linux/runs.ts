/**
 * Which processes ran, from the kernel's context-switch records: one perf_event_open per online
 * CPU (a software dummy event with `context_switch`, CPU-wide, so every switch on that CPU is
 * recorded with the pid and tid of the task switched out and the one switched in, and with
 * `task`, so every fork and exit is too, a fork before its child first runs), each with a
 * small ring buffer mapped into this process. Draining the rings costs a few hundred
 * nanoseconds per switch and no system call, so the process scan can skip every process that
 * was not switched in or out since it last read it: a sleeping process costs no read at all,
 * where reading its stat and schedstat costs two system calls each second.
 *
 * Nothing here is trusted blindly: a ring that overflowed (the kernel's LOST record, or more
 * bytes than the ring holds), a record that does not parse, a CPU that came online after the
 * rings were opened, or a drain that was not done for a while makes every process count as run
 * for that interval, which is the scan reading everything, as without the watch. Only x86-64:
 * the ring's head and tail need no memory barriers there, and JavaScript has none to give.
 *
 * Needs root, CAP_PERFMON or kernel.perf_event_paranoid ≤ 0 (CPU-wide events); without, the
 * open fails and the scan reads every process each time, as it did before.
 */
import { err, fail, messageOf, ok, StatusCode, type FileReader, type Result } from '@virtualeyes/core';
import { loadLibc } from '@virtualeyes/linux/native';
import { readUint } from '@virtualeyes/linux';

/** perf_event_open on x86-64. */
const PERF_EVENT_OPEN_X64 = 298;
const PERF_TYPE_SOFTWARE = 1;
const PERF_COUNT_SW_DUMMY = 9;
const PERF_SAMPLE_TID = 1 << 1;
/** perf_event_attr flag bits: exclude_hv, task (fork and exit records), sample_id_all, context_switch (Linux 4.3+). */
const FLAG_EXCLUDE_HV = 6n;
const FLAG_TASK = 13n;
const FLAG_SAMPLE_ID_ALL = 18n;
const FLAG_CONTEXT_SWITCH = 26n;
const PERF_FLAG_FD_CLOEXEC = 8;
const ATTR_SIZE = 112;
const PERF_RECORD_LOST = 2;
const PERF_RECORD_EXIT = 4;
const PERF_RECORD_FORK = 7;
const PERF_RECORD_SWITCH_CPU_WIDE = 15;
const PERF_RECORD_MISC_SWITCH_OUT = 1 << 13;
/** struct perf_event_mmap_page: where data_head and data_tail live. */
const DATA_HEAD = 1024;
const DATA_TAIL = 1032;
const PAGE = 4096;
/** Data pages per CPU (a power of two): 128 KiB holds about 2,700 switches, 11,000 a second between drains 250 ms apart. */
export const DATA_PAGES = 32;
const PROT_READ_WRITE = 3;
const MAP_SHARED = 1;
/** (void *) -1 as koffi reads an address: unsigned. */
const MAP_FAILED_ADDRESS = 2n ** 64n - 1n;
/** How often the rings are drained between scans, so a busy CPU cannot overflow its ring while the scan is idle. */
export const DRAIN_EVERY_MS = 250;

/** What the scan asks of the watch. */
export interface RunWatch {
  /** Drains every ring; the intervals up to now get the next sequence number. `checkCpus` also reads the online CPU list (the scan's drain does; the timer's does not). */
  drain(checkCpus?: boolean): void;
  /** The sequence number of the last drain: what the scan records as "read as of". */
  readonly seq: number;
  /** Whether `pid` may have run after the drain numbered `since` (true whenever that is not known). */
  ranSince(pid: number, since: number): boolean;
  /**
   * Every pid switched in or out after the drain numbered `since`, or undefined when that is not
   * known (a lost or unparsed record, a changed CPU list, a closed watch). A process cannot begin
   * without being forked, so a new process is among them: the scan learns births here instead of
   * listing /proc. A process whose exit was recorded after its fork is left out.
   */
  ranAfter(since: number): number[] | undefined;
  /** Whether a process with this pid may have been forked after the drain numbered `since` (true whenever that is not known): a pid found gone may be another's already. */
  forkedAfter(pid: number, since: number): boolean;
  /** Forgets pids that are not in `live` (after a complete scan) and have not run after the drain numbered `through`, so the map does not grow with every pid ever used. */
  retain(live: ReadonlySet<number>, through?: number): void;
  /** Stops watching: every process counts as run from now on. */
  close(): void;
}

/** The parts of libc the watch calls (exported for the test that feeds it rings it writes itself). */
export interface Native {
  open(attr: Buffer, cpu: number): number;
  mmap(fd: number, length: number): unknown;
  view(pointer: unknown, length: number): ArrayBuffer | null;
  munmap(pointer: unknown, length: number): void;
  close(fd: number): void;
  errno(): string;
}

interface Ring {
  readonly cpu: number;
  readonly fd: number;
  readonly pointer: unknown;
  readonly view: DataView;
  tail: number;
  /** The task on this CPU after its last record (0: idle); undefined until the CPU's first record, since a task that held it from before the open shows in none. */
  current: number | undefined;
}

/** Opens a watch over every online CPU of the host whose /sys `files` reads; UNSUPPORTED or PERMISSION_DENIED when it cannot. */
export async function openRunWatch(files: FileReader, cpuList = '/sys/devices/system/cpu/online'): Promise<Result<RunWatch>> {
  if (process.arch !== 'x64') return err(fail(StatusCode.UNSUPPORTED, `context-switch records are read on x86-64 only (this is ${process.arch})`, { op: 'open run watch', retryable: false }));
  const online = files.readText(cpuList);
  if (!online.ok) return online;
  const cpus = parseCpuList(online.value.trim());
  if (cpus === undefined) return err(fail(StatusCode.INTERNAL, `cannot parse ${cpuList}: ${JSON.stringify(online.value.slice(0, 80))}`, { op: 'open run watch', retryable: false }));
  const native = await bindNative();
  if (!native.ok) return native;
  return createRunWatch(native.value, cpus, () => {
    const now = files.readText(cpuList);
    return now.ok ? now.value.trim() : undefined;
  }, online.value.trim());
}

/** Builds the watch over `cpus`; the CPU list is read again at each drain, and a change makes every interval unknown until reopened. */
export function createRunWatch(native: Native, cpus: readonly number[], cpuListNow: () => string | undefined, cpuListAtOpen: string): Result<RunWatch> {
  const attr = Buffer.alloc(ATTR_SIZE);
  attr.writeUInt32LE(PERF_TYPE_SOFTWARE, 0);
  attr.writeUInt32LE(ATTR_SIZE, 4);
  attr.writeBigUInt64LE(BigInt(PERF_COUNT_SW_DUMMY), 8);
  attr.writeBigUInt64LE(BigInt(PERF_SAMPLE_TID), 24);
  attr.writeBigUInt64LE((1n << FLAG_EXCLUDE_HV) | (1n << FLAG_TASK) | (1n << FLAG_SAMPLE_ID_ALL) | (1n << FLAG_CONTEXT_SWITCH), 40);
  const length = (DATA_PAGES + 1) * PAGE;
  const size = DATA_PAGES * PAGE;
  const mask = size - 1;
  const rings: Ring[] = [];
  const closeRings = (): void => {
    for (const ring of rings.splice(0)) {
      native.munmap(ring.pointer, length);
      native.close(ring.fd);
    }
  };
  for (const cpu of cpus) {
    const fd = native.open(attr, cpu);
    if (fd < 0) {
      const errno = native.errno();
      closeRings();
      const denied = errno === 'EACCES' || errno === 'EPERM';
      return err(
        fail(denied ? StatusCode.PERMISSION_DENIED : StatusCode.UNSUPPORTED, `perf_event_open of context-switch records on CPU ${cpu} failed (${errno})${denied ? ': needs root, CAP_PERFMON or kernel.perf_event_paranoid <= 0' : ''}`, {
          op: 'open run watch',
          retryable: false,
        }),
      );
    }
    const pointer = native.mmap(fd, length);
    if (pointer === null) {
      const errno = native.errno();
      native.close(fd);
      closeRings();
      return err(fail(errno === 'EPERM' ? StatusCode.PERMISSION_DENIED : StatusCode.UNAVAILABLE, `mmap of the context-switch ring of CPU ${cpu} failed (${errno}): kernel.perf_event_mlock_kb may be too small`, { op: 'open run watch', retryable: false }));
    }
    const memory = native.view(pointer, length);
    if (memory === null) {
      native.munmap(pointer, length);
      native.close(fd);
      closeRings();
      return err(fail(StatusCode.UNAVAILABLE, `cannot view the context-switch ring of CPU ${cpu} through koffi`, { op: 'open run watch', retryable: false }));
    }
    rings.push({ cpu, fd, pointer, view: new DataView(memory), tail: 0, current: undefined });
  }

  /** The drain after which each pid was last seen switching (or running). */
  const lastRan = new Map<number, number>();
  /** Per process (its leader thread), the kernel time of its last fork and exit record, and the drain that saw the fork. */
  const forkedAt = new Map<number, bigint>();
  const exitedAt = new Map<number, bigint>();
  const forkedIn = new Map<number, number>();
  let seq = 0;
  /** The last drain whose interval is not known (lost records, a CPU list change, a closed watch): every pid counts as run in it. */
  let unknownSeq = 0;
  let closed = false;
  const at = (offset: number): number => PAGE + (offset & mask);

  const drainRing = (ring: Ring, next: number): boolean => {
    const { view } = ring;
    const head = Number(view.getBigUint64(DATA_HEAD, true));
    let tail = ring.tail;
    let whole = head - tail <= size;
    if (!whole) tail = head;
    while (tail < head) {
      const type = view.getUint32(at(tail), true);
      const misc = view.getUint16(at(tail + 4), true);
      const recordSize = view.getUint16(at(tail + 6), true);
      if (recordSize < 8 || recordSize % 8 !== 0 || tail + recordSize > head) {
        whole = false;
        tail = head;
        break;
      }
      if (type === PERF_RECORD_SWITCH_CPU_WIDE && recordSize >= 24) {
        // next_prev_pid, next_prev_tid, then sample_id's pid and tid (the task the record is about).
        const other = view.getUint32(at(tail + 8), true);
        const own = view.getUint32(at(tail + 16), true);
        if (own !== 0) lastRan.set(own, next);
        if (other !== 0) lastRan.set(other, next);
        ring.current = (misc & PERF_RECORD_MISC_SWITCH_OUT) !== 0 ? other : own;
      } else if ((type === PERF_RECORD_FORK || type === PERF_RECORD_EXIT) && recordSize >= 24) {
        // pid (the process), ppid, tid, ptid: a fork is recorded before the child first runs, which a switch record would only show later.
        const pid = view.getUint32(at(tail + 8), true);
        const tid = view.getUint32(at(tail + 16), true);
        if (pid !== 0) lastRan.set(pid, next);
        if (pid !== 0 && pid === tid && recordSize >= 32) {
          // The process itself (not one of its threads) began or ended; the time orders records of different CPUs.
          const time = view.getBigUint64(at(tail + 24), true);
          if (type === PERF_RECORD_FORK) {
            forkedAt.set(pid, time);
            forkedIn.set(pid, next);
          } else {
            exitedAt.set(pid, time);
          }
        }
      } else if (type === PERF_RECORD_LOST) {
        whole = false;
      }
      tail += recordSize;
    }
    ring.tail = tail;
    view.setBigUint64(DATA_TAIL, BigInt(tail), true);
    // A task that kept its CPU through the whole interval was never switched: it ran too. Which
    // task holds a CPU that has had no record since the open is not known, so neither is the interval.
    if (ring.current === undefined) return false;
    if (ring.current !== 0) lastRan.set(ring.current, next);
    return whole;
  };

  const watch: RunWatch = {
    get seq() {
      return seq;
    },
    drain(checkCpus = false) {
      const next = seq + 1;
      let whole = !closed;
      for (const ring of rings) if (!drainRing(ring, next)) whole = false;
      if (whole && checkCpus && cpuListNow() !== cpuListAtOpen) {
        // A CPU came online (or went away) since the rings were opened: this watch no longer sees every CPU.
        whole = false;
        closed = true;
        closeRings();
      }
      if (!whole) unknownSeq = next;
      seq = next;
    },
    ranSince(pid, since) {
      if (since < unknownSeq || closed) return true;
      return (lastRan.get(pid) ?? 0) > since;
    },
    ranAfter(since) {
      if (since < unknownSeq || closed) return undefined;
      const pids: number[] = [];
      for (const [pid, ran] of lastRan) {
        if (ran <= since) continue;
        // Ended after its last fork: nothing to read (a child that came and went between two scans).
        const exited = exitedAt.get(pid);
        if (exited !== undefined && exited > (forkedAt.get(pid) ?? -1n)) continue;
        pids.push(pid);
      }
      return pids;
    },
    forkedAfter(pid, since) {
      if (since < unknownSeq || closed) return true;
      return (forkedIn.get(pid) ?? 0) > since;
    },
    retain(live, through = seq) {
      // A pid first seen by a drain during the scan (the timer's, while it yielded) is a birth the scan did not read yet.
      for (const [pid, ran] of lastRan) {
        if (ran > through || live.has(pid)) continue;
        lastRan.delete(pid);
        forkedAt.delete(pid);
        exitedAt.delete(pid);
        forkedIn.delete(pid);
      }
    },
    close() {
      if (closed) return;
      closed = true;
      closeRings();
    },
  };
  return ok(watch);
}

/** Parses a kernel CPU list (`0-3,8,10-11`), or undefined when it is not one. */
export function parseCpuList(text: string): number[] | undefined {
  if (text === '') return [];
  const cpus: number[] = [];
  for (const part of text.split(',')) {
    const match = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (match === null) return undefined;
    const from = readUint(match[1]!, 0, match[1]!.length);
    const to = match[2] === undefined ? from : readUint(match[2], 0, match[2].length);
    if (to < from || to - from > 65536) return undefined;
    for (let cpu = from; cpu <= to; cpu += 1) cpus.push(cpu);
  }
  return cpus;
}

async function bindNative(): Promise<Result<Native>> {
  const libc = await loadLibc();
  if (!libc.ok) return libc;
  const { koffi, lib, errnoName } = libc.value;
  try {
    const syscall = lib.func('long syscall(long number, ...)');
    const mmap = lib.func('void *mmap(void *addr, size_t length, int prot, int flags, int fd, long offset)');
    const munmap = lib.func('int munmap(void *addr, size_t length)');
    const close = lib.func('int close(int fd)');
    const guarded = <T>(fn: () => T, otherwise: T): T => {
      try {
        return fn();
      } catch {
        return otherwise;
      }
    };
    return ok({
      open: (attr, cpu) => guarded(() => Number(syscall(PERF_EVENT_OPEN_X64, 'void *', attr, 'int', -1, 'int', cpu, 'int', -1, 'unsigned long', PERF_FLAG_FD_CLOEXEC)), -1),
      mmap: (fd, length) =>
        guarded(() => {
          const pointer: unknown = mmap(null, length, PROT_READ_WRITE, MAP_SHARED, fd, 0);
          return pointer === null || koffi.address(pointer) === MAP_FAILED_ADDRESS ? null : pointer;
        }, null),
      view: (pointer, length) => guarded(() => koffi.view(pointer, length), null),
      munmap: (pointer, length) => guarded(() => void munmap(pointer, length), undefined),
      close: (fd) => guarded(() => void close(fd), undefined),
      errno: () => errnoName(koffi.errno()),
    });
  } catch (error) {
    return err(fail(StatusCode.UNAVAILABLE, `cannot bind libc for context-switch records: ${messageOf(error)}`, { op: 'open run watch', cause: error, retryable: false }));
  }
}

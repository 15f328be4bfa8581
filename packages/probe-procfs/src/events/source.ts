/**
 * Process events as the probe uses them: one connector socket per probe instance, each kernel
 * event completed the moment it arrives (start time, command, arguments and owner read from
 * /proc/PID before a short-lived process is gone), then handed to every subscribed cursor, each
 * with its own bounded queue. The process_events table is one cursor; the core collector may
 * take another to learn births and exits at their exact times.
 *
 * Only processes are reported: a thread's fork, exit, exec, id or comm change (pid !== tgid)
 * is counted and dropped; setsid and coredump, which concern the whole process, are reported
 * under its tgid whichever thread caused them.
 */
import { OK, StatusCode, type FileReader, type Logger, type Status } from '@virtualeyes/core';
import { parsePidStat, processStartTime, type PidStat } from '@virtualeyes/linux';
import { parsePidStatus } from '../parse/pid-status.js';
import { createEventClock, elapsedMs, type EventClock } from './clock.js';
import { createConnector, type Connector, type ConnectorStats } from './connector.js';
import { decodeWaitStatus, type KernelMessage } from './decode.js';
import type { ConnectorSyscalls } from './native.js';

/** What happened to a process. */
export type ProcessEventKind = 'fork' | 'exec' | 'exit' | 'uid' | 'gid' | 'sid' | 'comm' | 'ptrace' | 'coredump';

/** One event about one process, completed from /proc when it arrived; null where unknown. */
export interface ProcessEvent {
  readonly kind: ProcessEventKind;
  /** Process id (the thread-group id). */
  readonly pid: number;
  /** When the kernel reported it: epoch milliseconds, microsecond precision. */
  readonly time: number;
  /** The same instant as the kernel stamped it: CLOCK_MONOTONIC nanoseconds. */
  readonly ns: bigint;
  /** The process's start_time as the processes table has it (epoch ms), so the two join on (pid, start_time). */
  readonly startTime: number | null;
  /** Parent process id (fork: the forking process; exit: the parent at exit). */
  readonly ppid: number | null;
  /** Command name (fork: inherited from the parent; exec: the new one; comm: what it was renamed to). */
  readonly comm: string | null;
  /** exec: the arguments, read from /proc/PID/cmdline on arrival (null when the process was already gone). */
  readonly argv: readonly string[] | null;
  /** Effective uid (fork, exec: from /proc/PID/status; uid: the new one). */
  readonly uid: number | null;
  /** Effective gid (fork, exec, gid). */
  readonly gid: number | null;
  /** uid events: the new real uid. */
  readonly ruid: number | null;
  /** gid events: the new real gid. */
  readonly rgid: number | null;
  /** exit: the exit status when it exited, null when a signal killed it. */
  readonly exitCode: number | null;
  /** exit: the signal that killed it, null when it exited. */
  readonly signal: number | null;
  /** exit: whether the killing signal dumped core. */
  readonly coreDumped: boolean | null;
  /** ptrace: the tracer's pid (0 on detach). */
  readonly tracerPid: number | null;
  /** exit: milliseconds since its fork event (microsecond precision), when this source saw the fork. */
  readonly lifetimeMs: number | null;
  /** fork, exec: the process group, session and controlling terminal (stat's, else the parent's), for a processes row of a process no scan saw. */
  readonly pgid: number | null;
  readonly sid: number | null;
  readonly ttyNr: number | null;
}

/** An independent reader of the source's events. */
export interface EventCursor {
  /** Every event since the last drain (or the subscription), in time order; empties the queue. */
  drain(): ProcessEvent[];
  /**
   * Events this cursor missed since the last call: `dropped` because its queue held `maxBuffered`
   * already, `lost` because the socket's receive buffer overran (the kernel's own count).
   */
  missed(): { readonly dropped: number; readonly lost: number; readonly overruns: number };
  /** Stops this cursor; the source goes on for the others. */
  close(): void;
}

/** Counters of the source since it started. */
export interface EventSourceStats extends ConnectorStats {
  /** Events handed to cursors. */
  readonly events: number;
  /** Thread (not process) events dropped. */
  readonly threadEvents: number;
  /** Processes whose start time and fork instant are remembered until they exit. */
  readonly tracked: number;
}

/** One probe instance's process-events source. */
export interface EventSource {
  /** Opens the socket; the Status says why there will be no events (once), OK otherwise. */
  start(): Promise<Status>;
  /** A new cursor; it sees every event from now on, whoever else subscribed. */
  subscribe(): EventCursor;
  /** Counters since start. */
  stats(): EventSourceStats;
  /** The first unexpected receive failure, once (the socket keeps retrying); later ones go to the debug log. */
  takeProblem(): Status | undefined;
  /** Closes the socket (no worker thread stays blocked); idempotent. */
  close(): Promise<Status>;
}

/** What the source needs from the probe. */
export interface EventSourceConfig {
  /** Loads the native calls; called once, by start(). */
  readonly syscalls: () => Promise<{ ok: true; value: ConnectorSyscalls } | { ok: false; status: Status }>;
  readonly files: FileReader;
  /** `/proc`, as `files` reads it. */
  readonly proc: string;
  readonly userHz: number;
  /** Longest argument list kept, in characters; 0 keeps it whole. */
  readonly maxCmdlineChars: number;
  /** Boot time, epoch ms (start times are relative to it), undefined while unknown. */
  readonly bootMs: () => number | undefined;
  /** Socket receive buffer, bytes. */
  readonly bufferBytes: number;
  /** 0: blocking receive on a worker thread; > 0: drain every pollMs. */
  readonly pollMs: number;
  /** Events each cursor holds between drains; more are dropped and counted. */
  readonly maxBuffered: number;
  /** Milliseconds on a monotonic clock (when to re-measure the wall-clock offset). */
  readonly monotonic: () => number;
  readonly logger: Logger;
}

/** Processes remembered from their fork (or first event) to their exit: at most this many, oldest forgotten first. */
export const MAX_TRACKED = 65536;

/** What the source remembers of a live process. */
interface Known {
  readonly startTime: number | null;
  /** Its fork event's CLOCK_MONOTONIC time, when seen. */
  readonly forkNs: bigint | null;
  comm: string | null;
  /**
   * Effective ids, once read or inherited: a fork copies its parent's and an exec keeps them
   * (a set-user-ID exec changes them through a uid event, which updates them here).
   */
  uid: number | null;
  gid: number | null;
  /** From its stat when read (a fork inherits them). */
  readonly pgid: number | null;
  readonly sid: number | null;
  readonly ttyNr: number | null;
}

/** A cursor's queue. */
interface Queue {
  events: ProcessEvent[];
  dropped: number;
  /** The connector's lost and overrun counts when last reported to this cursor. */
  lostSeen: number;
  overrunsSeen: number;
}

const NULLS = {
  startTime: null,
  ppid: null,
  comm: null,
  argv: null,
  uid: null,
  gid: null,
  ruid: null,
  rgid: null,
  exitCode: null,
  signal: null,
  coreDumped: null,
  tracerPid: null,
  lifetimeMs: null,
  pgid: null,
  sid: null,
  ttyNr: null,
} as const;

const EMPTY_STATS: ConnectorStats = { datagrams: 0, overruns: 0, lost: 0, malformed: 0, bufferBytes: 0, forced: false };

/** Creates a source; nothing opens until start(). */
export function createEventSource(config: EventSourceConfig): EventSource {
  const queues = new Set<Queue>();
  const known = new Map<number, Known>();
  let connector: Connector | undefined;
  let clock: EventClock | undefined;
  let started: Promise<Status> | undefined;
  let closed = false;
  let events = 0;
  let threadEvents = 0;
  // A receive failure is said once; the connector retries on its own.
  let problem: Status | undefined;
  let problemTaken = false;

  const stats = (): ConnectorStats => connector?.stats() ?? EMPTY_STATS;

  const publish = (event: ProcessEvent): void => {
    events += 1;
    for (const queue of queues) {
      if (queue.events.length < config.maxBuffered) queue.events.push(event);
      else queue.dropped += 1;
    }
  };

  const read = (pid: number, file: string): string | null => {
    const text = config.files.readText(`${config.proc}/${pid}/${file}`);
    return text.ok ? text.value : null;
  };

  const readStat = (pid: number): PidStat | null => {
    const text = read(pid, 'stat');
    if (text === null) return null;
    const parsed = parsePidStat(text);
    return parsed.ok ? parsed.value : null;
  };

  const startOf = (stat: PidStat | null, ns: bigint | null): number | null => {
    const boot = config.bootMs();
    if (boot === undefined) return null;
    if (stat !== null) return processStartTime(boot, stat.starttime, config.userHz);
    // Gone before its stat could be read: the tick its fork fell in (the kernel stamps the task
    // microseconds before the event, so only a fork within them of a tick boundary differs).
    return ns === null || clock === undefined ? null : processStartTime(boot, clock.startTicks(ns, config.userHz), config.userHz);
  };

  const owner = (pid: number): { uid: number | null; gid: number | null } => {
    const text = read(pid, 'status');
    const parsed = text === null ? undefined : parsePidStatus(text);
    return parsed?.ok === true ? { uid: parsed.value.uid, gid: parsed.value.gid } : { uid: null, gid: null };
  };

  /** Process group, session and terminal: from a stat, else as remembered (a fork's, its parent's). */
  const sessionOf = (stat: PidStat | null, known: Known | undefined): { pgid: number | null; sid: number | null; ttyNr: number | null } =>
    stat !== null ? { pgid: stat.pgid, sid: stat.sid, ttyNr: stat.ttyNr } : { pgid: known?.pgid ?? null, sid: known?.sid ?? null, ttyNr: known?.ttyNr ?? null };

  /** The ids of a remembered process, else read from its status (null when gone). */
  const idsOf = (pid: number, seen: Known | undefined): { uid: number | null; gid: number | null } =>
    seen !== undefined && seen.uid !== null ? { uid: seen.uid, gid: seen.gid } : owner(pid);

  /**
   * A forking parent the source does not know yet (it ran before the source started): remembered
   * from its stat and status, read once, so its later forks inherit from it without reading.
   */
  const parentOf = (ppid: number): Known | undefined => {
    const seen = known.get(ppid);
    if (seen !== undefined || ppid <= 0) return seen;
    const stat = readStat(ppid);
    if (stat === null) return undefined;
    const entry: Known = { startTime: startOf(stat, null), forkNs: null, comm: stat.comm, ...owner(ppid), ...sessionOf(stat, undefined) };
    remember(ppid, entry);
    return entry;
  };

  const argvOf = (pid: number): string[] | null => {
    const text = read(pid, 'cmdline');
    // A process gone (or a zombie) has no arguments left to read.
    if (text === null || text === '') return null;
    let end = text.length;
    while (end > 0 && text.charCodeAt(end - 1) === 0) end -= 1;
    if (config.maxCmdlineChars > 0 && end > config.maxCmdlineChars) end = config.maxCmdlineChars;
    return text.slice(0, end).split('\0');
  };

  const remember = (pid: number, entry: Known): void => {
    known.delete(pid);
    if (known.size >= MAX_TRACKED) known.delete(known.keys().next().value!);
    known.set(pid, entry);
  };

  const complete = (message: Exclude<KernelMessage, { kind: 'ack' | 'unknown' | 'other' }>): ProcessEvent | undefined => {
    const { ns } = message;
    const time = clock!.epochMs(ns);
    const wholeProcess = message.kind === 'sid' || message.kind === 'coredump';
    if (!wholeProcess && message.pid !== message.tgid) {
      threadEvents += 1;
      return undefined;
    }
    const pid = message.tgid;
    const base = { ...NULLS, kind: message.kind, pid, time, ns };
    const seen = known.get(pid);
    switch (message.kind) {
      case 'fork': {
        // The stat for the exact start time (the key processes joins on); the ids are the parent's.
        const stat = readStat(pid);
        const startTime = startOf(stat, ns);
        const parent = parentOf(message.parentTgid);
        const comm = stat?.comm ?? parent?.comm ?? null;
        const ids = parent !== undefined && parent.uid !== null ? { uid: parent.uid, gid: parent.gid } : owner(pid);
        const session = sessionOf(stat, parent);
        remember(pid, { startTime, forkNs: ns, comm, ...ids, ...session });
        return { ...base, startTime, ppid: message.parentTgid, comm, ...ids, ...session };
      }
      case 'exec': {
        const stat = readStat(pid);
        const argv = argvOf(pid);
        const startTime = seen?.startTime ?? startOf(stat, null);
        const comm = stat?.comm ?? null;
        const ids = idsOf(pid, seen);
        const session = sessionOf(stat, seen);
        remember(pid, { startTime, forkNs: seen?.forkNs ?? null, comm: comm ?? seen?.comm ?? null, ...ids, ...session });
        return { ...base, startTime, ppid: stat?.ppid ?? null, comm, argv, ...ids, ...session };
      }
      case 'exit': {
        // Still readable as a zombie until its parent reaps it.
        const stat = seen === undefined ? readStat(pid) : null;
        known.delete(pid);
        const wait = decodeWaitStatus(message.status);
        return {
          ...base,
          startTime: seen?.startTime ?? startOf(stat, null),
          ppid: message.parentTgid > 0 ? message.parentTgid : (stat?.ppid ?? null),
          comm: seen?.comm ?? stat?.comm ?? null,
          exitCode: wait.exitCode,
          signal: wait.signal,
          coreDumped: wait.coreDumped,
          lifetimeMs: seen?.forkNs === null || seen === undefined ? null : elapsedMs(seen.forkNs, ns),
        };
      }
      case 'comm': {
        if (seen !== undefined) seen.comm = message.comm;
        return { ...base, startTime: seen?.startTime ?? startOf(readStat(pid), null), comm: message.comm };
      }
      case 'uid':
      case 'gid': {
        if (seen !== undefined && message.kind === 'uid') seen.uid = message.effective;
        if (seen !== undefined && message.kind === 'gid') seen.gid = message.effective;
        const startTime = seen?.startTime ?? startOf(readStat(pid), null);
        return message.kind === 'uid'
          ? { ...base, startTime, uid: message.effective, ruid: message.real }
          : { ...base, startTime, gid: message.effective, rgid: message.real };
      }
      case 'ptrace':
        return { ...base, startTime: seen?.startTime ?? startOf(readStat(pid), null), tracerPid: message.tracerTgid };
      case 'sid':
      case 'coredump': {
        const stat = seen === undefined ? readStat(pid) : null;
        return { ...base, startTime: seen?.startTime ?? startOf(stat, null), comm: seen?.comm ?? stat?.comm ?? null };
      }
    }
  };

  const onEvent = (message: KernelMessage): void => {
    if (message.kind === 'ack' || message.kind === 'unknown' || message.kind === 'other') return;
    const event = complete(message);
    if (event !== undefined) publish(event);
  };

  const open = async (): Promise<Status> => {
    const sys = await config.syscalls();
    if (!sys.ok) return sys.status;
    if (closed) return OK;
    clock = createEventClock(() => sys.value.clocks(), config.monotonic);
    // Measured now, before the first event needs it.
    clock.epochMs(0n);
    connector = createConnector(sys.value, { bufferBytes: config.bufferBytes, pollMs: config.pollMs }, onEvent, (status) => {
      if (problem === undefined && !problemTaken) problem = status;
      else config.logger.debug(status.message);
    });
    const status = await connector.open();
    if (status.code === StatusCode.OK) {
      const { bufferBytes, forced } = connector.stats();
      config.logger.debug(`listening to process events (receive buffer ${bufferBytes} bytes${forced ? '' : ', capped by net.core.rmem_max'})`);
    }
    return status;
  };

  return {
    start() {
      started ??= open();
      return started;
    },
    subscribe() {
      const base = stats();
      const queue: Queue = { events: [], dropped: 0, lostSeen: base.lost, overrunsSeen: base.overruns };
      queues.add(queue);
      return {
        drain() {
          connector?.pump();
          const taken = queue.events;
          queue.events = [];
          // Reports from different CPUs can reach the socket out of order by microseconds.
          return taken.sort((a, b) => (a.ns < b.ns ? -1 : a.ns > b.ns ? 1 : 0));
        },
        missed() {
          connector?.pump();
          const now = stats();
          const result = { dropped: queue.dropped, lost: now.lost - queue.lostSeen, overruns: now.overruns - queue.overrunsSeen };
          queue.dropped = 0;
          queue.lostSeen = now.lost;
          queue.overrunsSeen = now.overruns;
          return result;
        },
        close() {
          queues.delete(queue);
          queue.events = [];
        },
      };
    },
    stats: () => ({ ...stats(), events, threadEvents, tracked: known.size }),
    takeProblem() {
      const taken = problem;
      if (taken !== undefined) problemTaken = true;
      problem = undefined;
      return taken;
    },
    async close() {
      closed = true;
      if (started !== undefined) await started;
      const status = connector === undefined ? OK : await connector.close();
      known.clear();
      return status;
    },
  };
}

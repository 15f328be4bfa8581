/**
 * What the process scan keeps of each process between scans, so that an idle process costs
 * three small reads and no parsing: its /proc/PID/stat, schedstat and io held open (a /proc
 * file regenerates at offset 0 on every read, and a held one fails with ESRCH once its process
 * is gone, so a reused pid is never mistaken for the old process), their last contents, and the
 * rows built from them. When none of them changed, the process did not run (schedstat counts
 * every time its main thread is scheduled, which moves its run time even when the run was too
 * short for stat's clock ticks; stat's times, faults, rss and thread count cover the other
 * threads; io, read only for processes with more than one thread, covers their I/O), so status,
 * cmdline and exe are not read again and the last rows stand. Descriptors are capped; beyond the cap a process is read by opening
 * its files, which still skips status when nothing changed.
 */
import { errnoOf, StatusCode, type FileReader, type HeldFile, type Result, type Row } from '@virtualeyes/core';
import type { ProcessInfo } from '../group.js';

/** Every this many scans a process is read whole even when unchanged (staggered by pid), bounding what a rare unseen change could leave stale. */
export const REFRESH_SCANS = 60;
/** Bytes of the read buffer: /proc/PID/stat is about 300 bytes, io and schedstat less. */
const INITIAL_READ_BYTES = 1024;

/** The pseudo-files held per process. */
export type HeldName = 'stat' | 'schedstat' | 'io';

/** One process between scans. */
export interface Tracked {
  /** Held descriptors by file; a file that could not be held (cap, refused) is read by path. */
  readonly held: Map<HeldName, HeldFile>;
  /** The last text of each file read ('' not read; null refused or absent). */
  readonly last: Map<HeldName, string | null>;
  /** The processes row built from the current texts, if the last scan that changed wanted it. */
  processRow: Row | undefined;
  /** The process_stats row built from the current texts. */
  statsRow: Row | undefined;
  /** The process_sched row built from the current texts. */
  schedRow: Row | undefined;
  /** As the scan that last saw a change described it, and with no recent CPU for unchanged scans. */
  info: ProcessInfo | undefined;
  idleInfo: ProcessInfo | undefined;
  /** The scan generation that last saw this process. */
  seenIn: number;
  /** Whether its io was refused (not absent) when last asked. */
  ioRefused: boolean;
  /** Threads when last parsed: a single-threaded process whose stat and schedstat are unchanged did no I/O either. */
  threads: number;
  /** The parent pid when last parsed: a child is read again when its parent ran (it may have been reparented). */
  ppid: number;
  /** The run watch's sequence number when the process was last read (-1: never), see runs.ts. */
  checkedSeq: number;
}

/** The processes tracked by one collector, and the descriptors they hold. */
export interface ProcessTracker {
  readonly entries: Map<number, Tracked>;
  /** Scan generation, one more per complete or partial scan. */
  generation: number;
  /**
   * The run watch's drain through which every live process is tracked (a complete scan read all
   * of them, and any process begun later ran after it), or undefined when no complete scan
   * vouches for that: the next scan then lists /proc.
   */
  knownThrough: number | undefined;
  /** Complete scans since the last one that listed /proc. */
  scansSinceListing: number;
  /** Descriptors held now, and the most to hold. */
  heldCount: number;
  limit: number;
  /** Reads `path` (held for `pid` when possible): its text, or the failed read's Status. */
  read(entry: Tracked, name: HeldName, path: string, latin1: boolean): Result<string>;
  /** Forgets a process, closing what it holds. */
  drop(pid: number): void;
  /** Forgets the processes a complete scan did not see. */
  sweep(): void;
  /** Closes every held descriptor. */
  close(): void;
}

/** Creates a tracker reading through `files`, holding at most `limit` descriptors. */
export function createTracker(files: FileReader, limit: number): ProcessTracker {
  let buffer = Buffer.allocUnsafe(INITIAL_READ_BYTES);
  const tracker: ProcessTracker = {
    entries: new Map(),
    generation: 0,
    knownThrough: undefined,
    scansSinceListing: 0,
    heldCount: 0,
    limit,
    read(entry, name, path, latin1) {
      const encoding = latin1 ? 'latin1' : 'utf8';
      let file = entry.held.get(name);
      if (file === undefined && files.open !== undefined && tracker.heldCount < tracker.limit) {
        const opened = files.open(path);
        if (!opened.ok) {
          // Out of descriptors: hold no more, read the rest by path.
          const errno = errnoOf(opened.status.cause);
          if (errno === 'EMFILE' || errno === 'ENFILE') tracker.limit = tracker.heldCount;
          else return opened;
        } else {
          file = opened.value;
          entry.held.set(name, file);
          tracker.heldCount += 1;
        }
      }
      if (file === undefined) return files.readText(path);
      for (;;) {
        const read = file.readInto(buffer);
        if (!read.ok) return read;
        if (read.value < buffer.length) return { ok: true, value: buffer.toString(encoding, 0, read.value) };
        buffer = Buffer.allocUnsafe(buffer.length * 2);
      }
    },
    drop(pid) {
      const entry = tracker.entries.get(pid);
      if (entry === undefined) return;
      release(entry);
      tracker.entries.delete(pid);
    },
    sweep() {
      for (const [pid, entry] of tracker.entries) {
        if (entry.seenIn === tracker.generation) continue;
        release(entry);
        tracker.entries.delete(pid);
      }
    },
    close() {
      for (const entry of tracker.entries.values()) release(entry);
      tracker.entries.clear();
    },
  };
  const release = (entry: Tracked): void => {
    for (const file of entry.held.values()) file.close();
    tracker.heldCount -= entry.held.size;
    entry.held.clear();
  };
  return tracker;
}

/** A new, empty entry. */
export function newTracked(generation: number): Tracked {
  return { held: new Map(), last: new Map(), processRow: undefined, statsRow: undefined, schedRow: undefined, info: undefined, idleInfo: undefined, seenIn: generation, ioRefused: false, threads: 0, ppid: 0, checkedSeq: -1 };
}

/** Whether a read failed because the file is absent or refused for a live process (a kernel without schedstat, io without privilege). */
export function isOptionalAbsence(code: string): boolean {
  return code === StatusCode.NOT_FOUND || code === StatusCode.PERMISSION_DENIED;
}

/**
 * Giving memory the daemon no longer uses back to the kernel, on Linux, through koffi:
 *
 * - the pages of program text and read-only data that only start-up touched (module loading,
 *   compiling, config validation, DuckDB opening the store): once recording is steady, every
 *   clean file-backed read-only mapping is given back (see releaseFilePages), and the pages
 *   the daemon still uses fault back in on their next use. Steady RSS is then the working set,
 *   not everything start-up ever touched (about 40 MB of the 74 MB of file-backed RSS,
 *   measured in docs/benchmarks.md).
 * - the C heap's free memory (glibc's arenas grow under DuckDB's and the API's bursts and keep
 *   what they grew): `malloc_trim(0)` returns it after heavy queries and now and then.
 * - after heavy queries, the V8 heap's garbage (a full collection) and the program pages the
 *   queries touched (dropped again from the page tables, without freeing: see releaseFilePages).
 *
 * Nothing here throws: each call answers a Status, and koffi loads only when first needed.
 */
import { readFileSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { err, fail, formatStatus, messageOf, ok, StatusCode, type Logger, type Result } from '@virtualeyes/core';
import { LIBC, loadLibc } from '@virtualeyes/linux/native';

/** madvise(2) advice: drop the mapping's pages from this process; clean file pages stay in the page cache. */
const MADV_DONTNEED = 4;
/** madvise(2) advice: reclaim the given pages, freeing those no other process maps (Linux 5.4+). */
const MADV_PAGEOUT = 21;
const KIB = 1024;

/** What a release did: how many mappings were advised (and how many calls the kernel refused), and the resident file-backed memory before and after. */
export interface PageRelease {
  readonly mappings: number;
  readonly refused: number;
  readonly fileBytesBefore: number;
  readonly fileBytesAfter: number;
}

/** The native calls used here; tests of the logic may pass their own. */
export interface MemoryCalls {
  /** madvise(addr, length, advice): 0, or -1 with errno set. */
  madvise(addr: bigint, length: bigint, advice: number): number;
  /** malloc_trim(0): 1 if memory was returned to the kernel. */
  mallocTrim(): number;
}

/** A readable, not writable, file-backed mapping from /proc/self/smaps that holds no private copies. */
export interface CleanMapping {
  readonly start: bigint;
  readonly end: bigint;
  readonly path: string;
}

let bound: Result<MemoryCalls> | undefined;

/** Binds madvise and malloc_trim from glibc once; UNSUPPORTED off Linux or without glibc. */
export async function loadMemoryCalls(platform: string = process.platform): Promise<Result<MemoryCalls>> {
  if (platform !== 'linux') return err(fail(StatusCode.UNSUPPORTED, `releasing memory is only done on Linux, not ${platform}`, { op: 'load libc' }));
  if (bound !== undefined) return bound;
  const libc = await loadLibc();
  if (!libc.ok) {
    bound = libc;
    return bound;
  }
  try {
    const { lib } = libc.value;
    const madvise = lib.func('int madvise(uint64_t addr, uint64_t length, int advice)');
    const trim = lib.func('int malloc_trim(size_t pad)');
    bound = ok({
      madvise: (addr, length, advice) => Number(madvise(addr, length, advice)),
      mallocTrim: () => Number(trim(0)),
    });
  } catch (error) {
    bound = err(fail(StatusCode.UNSUPPORTED, `cannot bind madvise and malloc_trim from ${LIBC}: ${messageOf(error)}`, { op: 'load libc', cause: error, retryable: false }));
  }
  return bound;
}

/**
 * The clean file-backed mappings of an smaps text: readable, not writable, backed by a file
 * (inode not 0), with no anonymous (copied-on-write, relocated) pages. Those are the only
 * pages the release touches; anything else in the process is left alone.
 */
export function cleanMappings(smaps: string): { mappings: CleanMapping[]; fileBytes: number } {
  const mappings: CleanMapping[] = [];
  let fileBytes = 0;
  let current: { start: bigint; end: bigint; path: string; candidate: boolean; anonymous: number; rss: number } | undefined;
  const finish = (): void => {
    if (current === undefined) return;
    if (current.path !== '') fileBytes += current.rss - current.anonymous;
    if (current.candidate && current.anonymous === 0) mappings.push({ start: current.start, end: current.end, path: current.path });
  };
  for (const line of smaps.split('\n')) {
    const header = /^([0-9a-f]+)-([0-9a-f]+) (\S{4}) \S+ \S+ (\d+)\s*(.*)$/.exec(line);
    if (header !== null) {
      finish();
      const [, start = '0', end = '0', perms = '----', inode = '0', path = ''] = header;
      // A deleted file (a memfd among them) is left alone and not counted.
      const fileBacked = inode !== '0' && path.startsWith('/') && !path.endsWith(' (deleted)');
      current = {
        start: BigInt(`0x${start}`),
        end: BigInt(`0x${end}`),
        path: fileBacked ? path : '',
        candidate: fileBacked && perms[0] === 'r' && perms[1] !== 'w',
        anonymous: 0,
        rss: 0,
      };
      continue;
    }
    if (current === undefined) continue;
    const field = /^(Rss|Anonymous):\s+(\d+) kB/.exec(line);
    if (field === null) continue;
    const bytes = Number(field[2]) * KIB;
    if (field[1] === 'Rss') current.rss = bytes;
    else current.anonymous = bytes;
  }
  finish();
  return { mappings, fileBytes };
}

function readSmaps(): Result<string> {
  try {
    return ok(readFileSync('/proc/self/smaps', 'utf8'));
  } catch (error) {
    return err(fail(StatusCode.UNAVAILABLE, `cannot read /proc/self/smaps: ${messageOf(error)}`, { op: 'read smaps', cause: error }));
  }
}

/**
 * Gives back the resident pages of every clean file-backed mapping; they fault back in when
 * used. With `free`, pages no other process maps are reclaimed (MADV_PAGEOUT: freed, read from
 * the file again if needed); then every page is dropped from this process's page tables
 * (MADV_DONTNEED: what another process maps stays its own, the rest stays in the page cache and
 * faults back without I/O). Only mappings without private copies are touched, so no content changes.
 */
export function releaseFilePages(calls: MemoryCalls, options: { free: boolean }, smaps: () => Result<string> = readSmaps): Result<PageRelease> {
  const before = smaps();
  if (!before.ok) return before;
  const { mappings, fileBytes } = cleanMappings(before.value);
  const advices = options.free ? [MADV_PAGEOUT, MADV_DONTNEED] : [MADV_DONTNEED];
  let refused = 0;
  for (const mapping of mappings) {
    for (const advice of advices) {
      try {
        if (calls.madvise(mapping.start, mapping.end - mapping.start, advice) !== 0) refused += 1;
      } catch {
        refused += 1;
      }
    }
  }
  const after = smaps();
  const fileBytesAfter = after.ok ? cleanMappings(after.value).fileBytes : fileBytes;
  return ok({ mappings: mappings.length, refused, fileBytesBefore: fileBytes, fileBytesAfter });
}

/** Returns the C heap's free memory to the kernel; true if any was. */
export function trimNativeHeap(calls: MemoryCalls): Result<boolean> {
  try {
    return ok(calls.mallocTrim() === 1);
  } catch (error) {
    return err(fail(StatusCode.INTERNAL, `malloc_trim failed: ${messageOf(error)}`, { op: 'malloc_trim', cause: error }));
  }
}

/**
 * A full garbage collection, for after a burst of queries: V8 grows its heap for a large
 * answer and, with no allocation pressure afterwards, keeps the garbage (17 MB after the
 * benchmark's queries, measured) until the next major collection, which an idle recorder may
 * not need for a long time. Exposed the way Jest's leak detector does it (`--expose-gc` set
 * at run time, `gc` taken from a fresh context); undefined if this V8 refuses.
 */
export function fullCollector(): (() => void) | undefined {
  try {
    setFlagsFromString('--expose-gc');
    const gc: unknown = runInNewContext('gc');
    return typeof gc === 'function' ? () => (gc as () => void)() : undefined;
  } catch {
    return undefined;
  }
}

/** How long after the store opens the daemon gives back the pages only start-up used: several collections in. */
const RELEASE_AFTER_MS = 30_000;
/** How often the C heap's free memory goes back to the kernel. */
const TRIM_EVERY_MS = 15_000;
/** How long the API must have been idle before the memory a burst of requests took is given back. */
const IDLE_MS = 3000;
/** Least time between two such give-backs, so a client polling every second costs little. */
const TIDY_GAP_MS = 10_000;

/** The tidier's timings (the defaults above) and environment, for tests. */
export interface TidierOptions {
  readonly releaseAfterMs?: number;
  readonly trimEveryMs?: number;
  readonly idleMs?: number;
  readonly gapMs?: number;
  readonly env?: NodeJS.ProcessEnv;
}

/** Keeps the daemon's memory near its working set; see the top of this file. */
export interface MemoryTidier {
  /** Recording is under way: schedules the start-up release and the periodic trim. */
  start(): void;
  /**
   * The API's requests in flight changed to `inFlight`. Once none is, what they took is given
   * back {@link IDLE_MS} later (at most every {@link TIDY_GAP_MS}), or at the next idle moment
   * if requests are running then.
   */
  requests(inFlight: number): void;
  /** Clears every timer. */
  stop(): void;
}

/**
 * The daemon's tidier. Timers are unref'd (they never keep the daemon alive), and every step
 * logs at debug level what it gave back. Off with VWATCHD_KEEP_MEMORY=1, for comparisons such
 * as docs/benchmarks.md's.
 */
export function createMemoryTidier(logger: Logger, options: TidierOptions = {}): MemoryTidier {
  const { releaseAfterMs = RELEASE_AFTER_MS, trimEveryMs = TRIM_EVERY_MS, idleMs = IDLE_MS, gapMs = TIDY_GAP_MS, env = process.env } = options;
  const off = env.VWATCHD_KEEP_MEMORY === '1';
  const timers = new Set<NodeJS.Timeout>();
  let stopped = false;
  let started = false;
  let scheduled = false;
  let busy = false;
  let lastTidy = 0;
  let collect: (() => void) | undefined;
  const later = (ms: number, fn: () => void, repeat = false): void => {
    const timer = repeat ? setInterval(fn, ms) : setTimeout(() => {
      timers.delete(timer);
      fn();
    }, ms);
    timer.unref();
    timers.add(timer);
  };
  const withCalls = (what: string, fn: (calls: MemoryCalls) => void): void => {
    void loadMemoryCalls().then((calls) => {
      if (stopped) return;
      if (calls.ok) fn(calls.value);
      else if (calls.status.code !== StatusCode.UNSUPPORTED) logger.debug(`Not ${what}: ${formatStatus(calls.status)}`);
    });
  };
  const release = (what: string, calls: MemoryCalls, free: boolean): void => {
    const released = releaseFilePages(calls, { free });
    if (!released.ok) {
      logger.debug(`Not releasing ${what}: ${formatStatus(released.status)}`);
      return;
    }
    const { mappings, refused, fileBytesBefore, fileBytesAfter } = released.value;
    logger.debug(`Released ${what}: ${mappings} mappings (${refused} calls refused), file-backed RSS ${mb(fileBytesBefore)} → ${mb(fileBytesAfter)} MB`, {
      mappings,
      refused,
      fileBytesBefore,
      fileBytesAfter,
    });
  };
  const tidy = (): void => {
    scheduled = false;
    if (busy) return; // scheduled again when the running requests end
    lastTidy = Date.now();
    if (collect !== undefined) {
      const before = process.memoryUsage();
      collect();
      const after = process.memoryUsage();
      logger.debug(`Collected the JavaScript heap: ${mb(before.heapTotal)} → ${mb(after.heapTotal)} MB (${mb(before.heapUsed)} → ${mb(after.heapUsed)} MB in use)`, {
        heapBefore: before.heapTotal,
        heapAfter: after.heapTotal,
      });
    }
    withCalls('tidying after requests', (calls) => {
      trimNativeHeap(calls);
      release('the pages requests touched', calls, false);
    });
  };
  return {
    start() {
      if (off || started || stopped) return;
      started = true;
      collect = fullCollector();
      later(releaseAfterMs, () =>
        withCalls('releasing start-up pages', (calls) => {
          trimNativeHeap(calls);
          release('start-up pages', calls, true);
          later(trimEveryMs, () => trimNativeHeap(calls), true);
        }),
      );
    },
    requests(inFlight) {
      busy = inFlight > 0;
      if (busy || scheduled || !started || stopped) return;
      scheduled = true;
      later(Math.max(idleMs, lastTidy + gapMs - Date.now()), tidy);
    },
    stop() {
      stopped = true;
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
    },
  };
}

const mb = (bytes: number): string => (bytes / 1024 / 1024).toFixed(1);

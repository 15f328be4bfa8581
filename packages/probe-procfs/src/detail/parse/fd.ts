/**
 * Parsers for open file descriptors: what a /proc/PID/fd/N link target is (a path, socket:[N],
 * pipe:[N], anon_inode:…, net:[N]…), and /proc/PID/fdinfo/N's pos and flags (flags in octal).
 */
import { ok, type Result } from '@virtualeyes/core';
import { clip, fieldEnd, parseError, readCount, skipBlanks, type Count } from '@virtualeyes/linux';

/** What a descriptor refers to. */
export const FdKind = {
  FILE: 'file',
  DEVICE: 'device',
  SOCKET: 'socket',
  PIPE: 'pipe',
  ANON_INODE: 'anon_inode',
  NAMESPACE: 'namespace',
  OTHER: 'other',
} as const;

/** One of the {@link FdKind} strings. */
export type FdKind = (typeof FdKind)[keyof typeof FdKind];

/** A link target, classified. */
export interface FdTarget {
  readonly kind: FdKind;
  /** The N of `type:[N]` targets; null for paths and anon inodes. */
  readonly inode: Count | null;
}

/** Namespace link names (`net:[4026531833]`), as /proc/PID/ns lists them. */
const NAMESPACES: ReadonlySet<string> = new Set(['cgroup', 'ipc', 'mnt', 'net', 'pid', 'time', 'user', 'uts']);
/** tmpfs folders under /dev holding ordinary files, not devices. */
const DEV_FILES = ['/dev/shm/', '/dev/mqueue/', '/dev/hugepages/'];

/** Classifies a /proc/PID/fd/N target by its text alone (no stat: one readlink per fd is the cost). */
export function classifyFdTarget(target: string): FdTarget {
  if (target.charCodeAt(0) === 47 /* / */) {
    const device = target.startsWith('/dev/') && !DEV_FILES.some((prefix) => target.startsWith(prefix));
    return { kind: device ? FdKind.DEVICE : FdKind.FILE, inode: null };
  }
  if (target.startsWith('anon_inode:')) return { kind: FdKind.ANON_INODE, inode: null };
  const open = target.indexOf(':[');
  if (open > 0 && target.endsWith(']')) {
    const type = target.slice(0, open);
    const inode = readCount(target, open + 2, target.length - 1) ?? null;
    if (type === 'socket') return { kind: FdKind.SOCKET, inode };
    if (type === 'pipe') return { kind: FdKind.PIPE, inode };
    if (NAMESPACES.has(type)) return { kind: FdKind.NAMESPACE, inode };
  }
  return { kind: FdKind.OTHER, inode: null };
}

/** The fdinfo fields process_fds keeps. */
export interface FdInfoFields {
  readonly pos: Count;
  /** Open flags (O_* bits) as a number. */
  readonly flags: number;
}

const SOURCE = '/proc/[pid]/fdinfo/[fd]';
const MAX_FLAGS_DIGITS = 11;

/** Parses /proc/PID/fdinfo/N's pos and flags lines (always its first two); PARSE_ERROR when either is missing or malformed. */
export function parseFdInfo(text: string): Result<FdInfoFields> {
  if (!text.startsWith('pos:')) return parseError(SOURCE, `no pos line in '${clip(text)}'`);
  const posStart = skipBlanks(text, 4);
  const posEnd = fieldEnd(text, posStart);
  const pos = readCount(text, posStart, posEnd);
  if (pos === undefined) return parseError(SOURCE, 'malformed pos line');
  const flagsAt = text.indexOf('\nflags:', posEnd);
  if (flagsAt < 0) return parseError(SOURCE, 'no flags line');
  const flagsStart = skipBlanks(text, flagsAt + 7);
  const flagsEnd = fieldEnd(text, flagsStart);
  const digits = text.slice(flagsStart, flagsEnd);
  if (digits === '' || digits.length > MAX_FLAGS_DIGITS || !/^[0-7]+$/.test(digits)) return parseError(SOURCE, 'malformed flags line');
  return ok({ pos, flags: Number.parseInt(digits, 8) });
}

/**
 * The data directory holds command lines and paths of every user's processes, so it is private
 * to the daemon's user and group: created or tightened to 0750, with every file in it 0640 or
 * tighter (the process umask covers what DuckDB creates later: the WAL, spill and temp files).
 * A directory vwatchd cannot make private (a foreign owner, a shared sticky directory such as
 * /tmp or a 1777 tmpfs) is refused with one clear line, unless the operator says it is shared.
 */
import { chmodSync, lstatSync, mkdirSync, readdirSync, statSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { classifyErrno, err, fail, ok, StatusCode, type Result, type Status } from '@virtualeyes/core';

/** Mode of the data directory and of directories inside it. */
export const DIRECTORY_MODE = 0o750;

/** Loosest mode a file in the data directory may have. */
export const FILE_MODE = 0o640;

/** The umask the daemon runs under: new files 0640, new directories 0750. */
export const DAEMON_UMASK = 0o027;

/** How deep {@link tightenTree} descends (the store's temp and spill folders are one or two levels down). */
const MAX_DEPTH = 4;

/** What {@link prepareDataDir} changed, for the log. */
export interface PreparedDataDir {
  /** True when the directory did not exist. */
  readonly created: boolean;
  /** `path: from -> to` for every mode tightened, in octal. */
  readonly tightened: readonly string[];
  /** True when the directory is a shared sticky one, used as it is because the operator allowed it. */
  readonly shared: boolean;
}

/** Options of {@link prepareDataDir}. */
export interface DataDirOptions {
  /** Accept a shared world-writable sticky directory (such as /tmp) as it is. */
  readonly shared?: boolean;
  /** The user the daemon runs as. @default process.geteuid() */
  readonly uid?: number;
}

/**
 * Creates `dir` (0750) or checks and tightens an existing one, then tightens every file and
 * directory in it that the daemon owns. INVALID_CONFIG, with what to do, when it cannot be private.
 */
export function prepareDataDir(dir: string, options: DataDirOptions = {}): Result<PreparedDataDir> {
  const uid = options.uid ?? process.geteuid?.() ?? 0;
  const existed = statOf(dir);
  if (!existed.ok && existed.status.code !== StatusCode.NOT_FOUND) return existed;
  if (!existed.ok) {
    try {
      mkdirSync(dir, { recursive: true, mode: DIRECTORY_MODE });
    } catch (error) {
      return err(classifyErrno(error, `create data directory ${dir}`, 'vwatchd'));
    }
  }
  const stat = statOf(dir);
  if (!stat.ok) return stat;
  if (!stat.value.isDirectory()) return err(refuse(`data directory ${dir} is not a directory`));
  const mode = stat.value.mode & 0o7777;
  const sharedPlace = (mode & 0o1002) === 0o1002;
  if (sharedPlace) {
    if (options.shared !== true) {
      return err(
        refuse(
          `data directory ${dir} is shared and world-writable (mode ${octal(mode)}); ` +
            `use a private subdirectory such as ${join(dir, 'vwatchd')}, or pass --shared-data-dir to record there anyway`,
        ),
      );
    }
    return ok({ created: !existed.ok, tightened: tightenTree(dir, uid, 1), shared: true });
  }
  if (stat.value.uid !== uid) {
    return err(
      refuse(`data directory ${dir} is owned by uid ${stat.value.uid}, not by this user (uid ${uid}); chown it or choose another --data-dir`),
    );
  }
  const tightened: string[] = [];
  const wanted = mode & DIRECTORY_MODE;
  if (wanted !== mode) {
    try {
      chmodSync(dir, wanted);
    } catch (error) {
      return err(classifyErrno(error, `make data directory ${dir} private (chmod ${octal(wanted)})`, 'vwatchd'));
    }
    tightened.push(`${dir}: ${octal(mode)} -> ${octal(wanted)}`);
  }
  tightened.push(...tightenTree(dir, uid, 1));
  return ok({ created: !existed.ok, tightened, shared: false });
}

/**
 * Removes group-write and all other-user bits from what `uid` owns under `dir` (files to at most
 * 0640, directories to 0750). Sockets keep their 0660; symbolic links are not followed. An entry
 * that vanishes or cannot be changed is left alone: the umask still protects new files.
 */
function tightenTree(dir: string, uid: number, depth: number): string[] {
  const changed: string[] = [];
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return changed; // Unreadable or gone: nothing of ours to tighten there.
  }
  for (const name of names) {
    const path = join(dir, name);
    let entry: Stats;
    try {
      entry = lstatSync(path);
    } catch {
      continue; // Vanished meanwhile.
    }
    if (entry.uid !== uid || entry.isSymbolicLink() || entry.isSocket()) continue;
    const mode = entry.mode & 0o7777;
    const wanted = mode & (entry.isDirectory() ? DIRECTORY_MODE : FILE_MODE);
    if (wanted !== mode) {
      try {
        chmodSync(path, wanted);
        changed.push(`${path}: ${octal(mode)} -> ${octal(wanted)}`);
      } catch {
        // Read-only file system or a race: the umask still applies to what the daemon creates.
      }
    }
    if (entry.isDirectory() && depth < MAX_DEPTH) changed.push(...tightenTree(path, uid, depth + 1));
  }
  return changed;
}

function statOf(path: string): Result<Stats> {
  try {
    return ok(statSync(path));
  } catch (error) {
    return err(classifyErrno(error, `stat ${path}`, 'vwatchd'));
  }
}

function refuse(message: string): Status {
  return fail(StatusCode.INVALID_CONFIG, message, { source: 'vwatchd', op: 'data directory', retryable: false });
}

function octal(mode: number): string {
  return `0${mode.toString(8).padStart(3, '0')}`;
}

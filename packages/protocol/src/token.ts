/**
 * The bearer token file of the API's TCP listener, read the way both ends need it: vwatchd
 * before it listens (it generates the file when missing), the CLI before it connects. The file
 * must be a regular file, not a symbolic link, owned by the reading user, mode 0600 or
 * stricter, and hold one token of at least {@link MIN_TOKEN_LENGTH} characters on one line.
 */
import { closeSync, constants, fstatSync, openSync, readFileSync } from 'node:fs';
import { classifyErrno, err, errnoOf, fail, ok, StatusCode, type Result, type Status } from '@virtualeyes/core';

/** Mode of a generated token file, and the loosest an existing one may have. */
export const TOKEN_FILE_MODE = 0o600;

/** Shortest token accepted from a file: a few words typed by hand are guessable. */
export const MIN_TOKEN_LENGTH = 16;

/** Largest token file read; a token is one short line. */
const MAX_TOKEN_FILE_BYTES = 4096;

/** Options of {@link readTokenFile}. */
export interface ReadTokenOptions {
  /** The user who must own the file. @default process.geteuid() */
  readonly uid?: number;
  /** Status source. @default 'virtualeyes' */
  readonly source?: string;
  /** What names the file in a refusal's advice, e.g. `api.tcp.tokenFile` or `--token-file`. @default 'the token file' */
  readonly setting?: string;
  /** True when a missing file is generated (vwatchd), so the advice may be to remove a bad one. */
  readonly generates?: boolean;
}

/**
 * The token in `path`, or undefined when the file does not exist. INVALID_CONFIG, saying what
 * to do, for a file other users could read or replace: a looser mode, another owner, a
 * symbolic link, not a regular file; or for one that does not hold one token. Never throws.
 */
export function readTokenFile(path: string, options: ReadTokenOptions = {}): Result<string | undefined> {
  const uid = options.uid ?? process.geteuid?.() ?? 0;
  const source = options.source ?? 'virtualeyes';
  const refuse = (message: string): Status => fail(StatusCode.INVALID_CONFIG, message, { source, op: 'token file', retryable: false });
  let fd: number;
  try {
    // No symbolic links (whoever controls the link controls the token), and no waiting on a FIFO.
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (error) {
    const errno = errnoOf(error);
    if (errno === 'ELOOP') return err(refuse(`token file ${path} is a symbolic link; point ${options.setting ?? 'the token file'} at the file itself`));
    if (errno === 'ENOENT') return ok(undefined);
    return err(classifyErrno(error, `open token file ${path}`, source));
  }
  try {
    // fstat on the open descriptor: the file checked is the file read, whatever renames happen meanwhile.
    const stat = fstatSync(fd);
    if (!stat.isFile()) return err(refuse(`token file ${path} is not a regular file`));
    if (stat.uid !== uid) return err(refuse(`token file ${path} is owned by uid ${stat.uid}, not by this user (uid ${uid}); ${options.generates === true ? 'chown it or remove it to have a new one generated' : 'use a copy of your own (mode 0600)'}`));
    const mode = stat.mode & 0o7777;
    if ((mode & ~TOKEN_FILE_MODE) !== 0) return err(refuse(`token file ${path} has mode ${octal(mode)}; it must be 0600 or stricter (chmod 600 ${path})`));
    if (stat.size > MAX_TOKEN_FILE_BYTES) return err(refuse(`token file ${path} is over ${MAX_TOKEN_FILE_BYTES} bytes; it must hold one token on one line`));
    const text = readFileSync(fd, 'utf8').trim();
    if (text.length < MIN_TOKEN_LENGTH) return err(refuse(`token file ${path} holds fewer than ${MIN_TOKEN_LENGTH} characters${options.generates === true ? '; remove it to have a random token generated' : ''}`));
    if (/\s/.test(text)) return err(refuse(`token file ${path} must hold one token on one line, without spaces`));
    return ok(text);
  } catch (error) {
    return err(classifyErrno(error, `read token file ${path}`, source));
  } finally {
    closeSync(fd);
  }
}

function octal(mode: number): string {
  return `0${mode.toString(8).padStart(3, '0')}`;
}

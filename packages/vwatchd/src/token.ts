/**
 * The bearer token of the API's TCP listener: read from `api.tcp.tokenFile` (a regular file,
 * mode 0600 or stricter, owned by the daemon's user, so no other local user can read it),
 * or generated there when the file is missing. Only the token's SHA-256 digest stays in
 * memory, and requests are compared against it in constant time.
 */
import { closeSync, constants, fstatSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { classifyErrno, err, errnoOf, fail, ok, StatusCode, type Result, type Status } from '@virtualeyes/core';

/** Mode of a generated token file, and the loosest an existing one may have. */
export const TOKEN_FILE_MODE = 0o600;

/** Random bytes in a generated token (encoded base64url: 43 characters). */
export const TOKEN_BYTES = 32;

/** Shortest token accepted from a file: a few words typed by hand are guessable. */
export const MIN_TOKEN_LENGTH = 16;

/** Largest token file read; a token is one short line. */
const MAX_TOKEN_FILE_BYTES = 4096;

/** A loaded token: it can only be compared against, never read back. */
export interface ApiToken {
  /** True when `presented` is the token; takes the same time whatever `presented` is. */
  matches(presented: string): boolean;
}

/** What {@link loadApiToken} found. */
export interface LoadedToken {
  /** The token, or undefined when the file is missing and `create` was false. */
  readonly token: ApiToken | undefined;
  /** True when the file was missing and a token was generated into it. */
  readonly created: boolean;
}

/** Options of {@link loadApiToken}. */
export interface TokenOptions {
  /** Generate a token into the file when it does not exist. */
  readonly create: boolean;
  /** The user the daemon runs as. @default process.geteuid() */
  readonly uid?: number;
}

/**
 * Reads the token from `path`, or generates one there (0600) when it is missing and
 * `options.create` is set. INVALID_CONFIG, saying what to do, for a file other users could
 * read or replace: a looser mode, another owner, a symbolic link, not a regular file.
 */
export function loadApiToken(path: string, options: TokenOptions): Result<LoadedToken> {
  const uid = options.uid ?? process.geteuid?.() ?? 0;
  let fd: number;
  try {
    // No symbolic links (whoever controls the link controls the token), and no waiting on a FIFO.
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (error) {
    const errno = errnoOf(error);
    if (errno === 'ELOOP') return err(refuse(`token file ${path} is a symbolic link; point api.tcp.tokenFile at the file itself`));
    if (errno !== 'ENOENT') return err(classifyErrno(error, `open token file ${path}`, 'vwatchd'));
    if (!options.create) return ok({ token: undefined, created: false });
    return generate(path);
  }
  try {
    // fstat on the open descriptor: the file checked is the file read, whatever renames happen meanwhile.
    const stat = fstatSync(fd);
    if (!stat.isFile()) return err(refuse(`token file ${path} is not a regular file`));
    if (stat.uid !== uid) return err(refuse(`token file ${path} is owned by uid ${stat.uid}, not by this user (uid ${uid}); chown it or remove it to have a new one generated`));
    const mode = stat.mode & 0o7777;
    if ((mode & ~TOKEN_FILE_MODE) !== 0) return err(refuse(`token file ${path} has mode ${octal(mode)}; it must be 0600 or stricter (chmod 600 ${path})`));
    if (stat.size > MAX_TOKEN_FILE_BYTES) return err(refuse(`token file ${path} is over ${MAX_TOKEN_FILE_BYTES} bytes; it must hold one token on one line`));
    const text = readFileSync(fd, 'utf8').trim();
    if (text.length < MIN_TOKEN_LENGTH) return err(refuse(`token file ${path} holds fewer than ${MIN_TOKEN_LENGTH} characters; remove it to have a random token generated`));
    if (/\s/.test(text)) return err(refuse(`token file ${path} must hold one token on one line, without spaces`));
    return ok({ token: tokenOf(text), created: false });
  } catch (error) {
    return err(classifyErrno(error, `read token file ${path}`, 'vwatchd'));
  } finally {
    closeSync(fd);
  }
}

function generate(path: string): Result<LoadedToken> {
  const text = randomBytes(TOKEN_BYTES).toString('base64url');
  try {
    // `wx`: never through a link, and never over a file someone created in between.
    writeFileSync(path, `${text}\n`, { mode: TOKEN_FILE_MODE, flag: 'wx' });
  } catch (error) {
    return err(classifyErrno(error, `create token file ${path}`, 'vwatchd'));
  }
  return ok({ token: tokenOf(text), created: true });
}

function tokenOf(text: string): ApiToken {
  const expected = digest(text);
  // Digests have one length, so timingSafeEqual applies and the token's length is not revealed either.
  return { matches: (presented) => timingSafeEqual(digest(presented), expected) };
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

function refuse(message: string): Status {
  return fail(StatusCode.INVALID_CONFIG, message, { source: 'vwatchd', op: 'token file', retryable: false });
}

function octal(mode: number): string {
  return `0${mode.toString(8).padStart(3, '0')}`;
}

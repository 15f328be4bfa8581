/**
 * The bearer token of the API's TCP listener: read from `api.tcp.tokenFile` (a regular file,
 * mode 0600 or stricter, owned by the daemon's user, so no other local user can read it),
 * or generated there when the file is missing. Only the token's SHA-256 digest stays in
 * memory, and requests are compared against it in constant time.
 */
import { writeFileSync } from 'node:fs';
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { classifyErrno, err, ok, type Result } from '@virtualeyes/core';
import { readTokenFile, TOKEN_FILE_MODE } from '@virtualeyes/protocol';

export { MIN_TOKEN_LENGTH, TOKEN_FILE_MODE } from '@virtualeyes/protocol';

/** Random bytes in a generated token (encoded base64url: 43 characters). */
export const TOKEN_BYTES = 32;

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
  const read = readTokenFile(path, { ...(options.uid === undefined ? {} : { uid: options.uid }), source: 'vwatchd', setting: 'api.tcp.tokenFile', generates: true });
  if (!read.ok) return read;
  if (read.value !== undefined) return ok({ token: tokenOf(read.value), created: false });
  return options.create ? generate(path) : ok({ token: undefined, created: false });
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

/**
 * Parser of /proc/PID/cmdline: arguments separated (and usually ended) by NUL bytes, joined
 * with spaces as ps prints them. Empty for kernel threads and zombies. A process may rewrite
 * its arguments (setproctitle), so anything at all is accepted.
 */
import { ok, type Result } from '@virtualeyes/core';

/** Joins the NUL-separated arguments with spaces, cut to `maxChars` characters unless it is 0. */
export function parseCmdline(text: string, maxChars = 0): Result<string> {
  let end = text.length;
  while (end > 0 && text.charCodeAt(end - 1) === 0) end -= 1;
  if (maxChars > 0 && end > maxChars) end = maxChars;
  const args = end === text.length ? text : text.slice(0, end);
  return ok(args.includes('\0') ? args.replaceAll('\0', ' ') : args);
}

/**
 * How every parser of kernel text says it could not read a file: one PARSE_ERROR shape, with
 * the file named in the message and in `op` (`parse /proc/[pid]/stat`), so a probe's status
 * board groups failures by file.
 */
import { err, fail, StatusCode, type Result } from '@virtualeyes/core';

const CLIP_CHARS = 60;

/** A failed parse of `source`, saying what was wrong. */
export function parseError<T>(source: string, message: string): Result<T> {
  return err(fail(StatusCode.PARSE_ERROR, `${source}: ${message}`, { op: `parse ${source}` }));
}

/** The first 60 characters of `text`, so a message quoting a malformed line stays one short line. */
export function clip(text: string): string {
  return text.length > CLIP_CHARS ? `${text.slice(0, CLIP_CHARS)}…` : text;
}

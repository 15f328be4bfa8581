/**
 * Parser of /proc/self/mountinfo: `id parent major:minor root mountpoint options [optional…] -
 * fstype source superoptions`, with spaces, tabs, newlines and backslashes in paths written as
 * octal escapes (`\040`). See proc_pid_mountinfo(5).
 */
import { ok, type Result } from '@virtualeyes/core';
import { clip, parseError } from '@virtualeyes/linux';

/** One mount. */
export interface Mount {
  readonly id: number;
  readonly parent: number;
  /** `major:minor` of st_dev for files on this mount. */
  readonly device: string;
  readonly root: string;
  readonly path: string;
  /** Per-mount options (rw, nosuid, relatime…). */
  readonly options: string;
  /** Optional fields (`shared:1 master:2`), space-separated; empty when there are none. */
  readonly propagation: string;
  readonly type: string;
  /** Mount source (`/dev/vda1`, `tmpfs`, `server:/export`); `none` when the kernel has none. */
  readonly source: string;
  /** Per-superblock options. */
  readonly superOptions: string;
}

const SOURCE = '/proc/self/mountinfo';

/** Parses mountinfo; PARSE_ERROR on a line without the separator or with a non-numeric id. */
export function parseMountinfo(text: string): Result<Mount[]> {
  const out: Mount[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const fields = line.split(' ');
    const separator = fields.indexOf('-', 6);
    if (fields.length < 10 || separator < 0 || fields.length - separator < 3) return parseError(SOURCE, `malformed line '${clip(line)}'`);
    const [id, parent, device, root, path, options] = fields;
    if (!/^\d{1,9}$/.test(id!) || !/^\d{1,9}$/.test(parent!) || !/^\d+:\d+$/.test(device!)) return parseError(SOURCE, `malformed line '${clip(line)}'`);
    out.push({
      id: Number(id),
      parent: Number(parent),
      device: device!,
      root: unescapeOctal(root!),
      path: unescapeOctal(path!),
      options: options!,
      propagation: fields.slice(6, separator).join(' '),
      type: unescapeOctal(fields[separator + 1]!),
      source: unescapeOctal(fields[separator + 2]!),
      superOptions: fields.slice(separator + 3).join(' '),
    });
  }
  return ok(out);
}

/** Undoes the kernel's `\ooo` escapes of space, tab, newline and backslash. */
export function unescapeOctal(text: string): string {
  return text.includes('\\') ? text.replace(/\\([0-7]{3})/g, (_match, octal: string) => String.fromCharCode(Number.parseInt(octal, 8))) : text;
}

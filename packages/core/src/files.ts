/**
 * The file reader core hands to plugins. Absolute paths are mapped through injectable roots
 * (`/proc` → a fixture folder) so tests never patch `fs`. Reads are synchronous on purpose:
 * pseudo-files in /proc and /sys never block on disk, and one reused buffer per reader keeps
 * a full process scan to three system calls per file.
 */
import { closeSync, openSync, readdirSync, readlinkSync, readSync } from 'node:fs';
import { classifyErrno, err, fail, ok, StatusCode, type Result } from './status.js';

/** Reads files, directories and links under mapped roots; failures come back as Status. */
export interface FileReader {
  /** The path actually opened for `path` after root mapping. */
  resolve(path: string): string;
  /** Reads a whole file as UTF-8 text. */
  readText(path: string): Result<string>;
  /** Lists a directory's entry names. */
  readDir(path: string): Result<string[]>;
  /** Reads a symbolic link's target. */
  readLink(path: string): Result<string>;
  /**
   * Opens a file to read again and again from its start: a /proc file regenerates its content on
   * every read at offset 0, so a collector holding it saves the open and close of each sample.
   * Optional: readers without it (wrappers in tests) make callers open and read each time.
   */
  open?(path: string): Result<HeldFile>;
}

/** A file held open by {@link FileReader.open}. */
export interface HeldFile {
  /**
   * Reads the file from offset 0 into `buffer` in one read: the bytes read (a full buffer may mean
   * more content, so a caller seeing one reads again with a larger buffer), or the failed read's Status
   * (NOT_FOUND once the process of a /proc/PID file is gone).
   */
  readInto(buffer: Buffer): Result<number>;
  /** Closes the descriptor; reads after it fail. Closing twice does nothing. */
  close(): void;
}

/** Options for {@link createFileReader}. */
export interface FileReaderOptions {
  /** Absolute path prefixes mapped to other folders, e.g. `{ '/proc': '/tmp/fixture/proc' }`. */
  readonly roots?: Readonly<Record<string, string>>;
  /** Name put in the `source` of every Status. */
  readonly source?: string;
}

const INITIAL_BUFFER_BYTES = 64 * 1024;

/** Creates a reader; each reader owns its read buffer, so readers never share state. */
export function createFileReader(options: FileReaderOptions = {}): FileReader {
  const roots = Object.entries(options.roots ?? {}).sort(([a], [b]) => b.length - a.length);
  const source = options.source;
  let buffer = Buffer.allocUnsafe(INITIAL_BUFFER_BYTES);

  const resolve = (path: string): string => {
    for (const [prefix, target] of roots) {
      if (path === prefix) return target;
      if (path.startsWith(prefix) && path.charAt(prefix.length) === '/') return target + path.slice(prefix.length);
    }
    return path;
  };

  return {
    resolve,
    readText(path) {
      const real = resolve(path);
      let fd: number;
      try {
        fd = openSync(real, 'r');
      } catch (error) {
        return { ok: false, status: classifyErrno(error, `read ${path}`, source) };
      }
      try {
        let length = 0;
        for (;;) {
          if (length === buffer.length) {
            const bigger = Buffer.allocUnsafe(buffer.length * 2);
            buffer.copy(bigger, 0, 0, length);
            buffer = bigger;
          }
          const read = readSync(fd, buffer, length, buffer.length - length, null);
          if (read === 0) break;
          length += read;
        }
        return ok(buffer.toString('utf8', 0, length));
      } catch (error) {
        return { ok: false, status: classifyErrno(error, `read ${path}`, source) };
      } finally {
        closeSync(fd);
      }
    },
    readDir(path) {
      try {
        return ok(readdirSync(resolve(path)));
      } catch (error) {
        return { ok: false, status: classifyErrno(error, `list ${path}`, source) };
      }
    },
    readLink(path) {
      try {
        return ok(readlinkSync(resolve(path)));
      } catch (error) {
        return { ok: false, status: classifyErrno(error, `readlink ${path}`, source) };
      }
    },
    open(path) {
      let fd: number;
      try {
        fd = openSync(resolve(path), 'r');
      } catch (error) {
        return { ok: false, status: classifyErrno(error, `open ${path}`, source) };
      }
      let open = true;
      return ok({
        readInto(into) {
          if (!open) return err(fail(StatusCode.INTERNAL, `read ${path}: the file was closed`, { op: `read ${path}`, source, retryable: false }));
          try {
            // One read: /proc makes a small file's content at once, and a short read is its end.
            return ok(readSync(fd, into, 0, into.length, 0));
          } catch (error) {
            return { ok: false, status: classifyErrno(error, `read ${path}`, source) };
          }
        },
        close() {
          if (!open) return;
          open = false;
          try {
            closeSync(fd);
          } catch {
            // Closing a descriptor cannot usefully fail here: it is released either way.
          }
        },
      });
    },
  };
}

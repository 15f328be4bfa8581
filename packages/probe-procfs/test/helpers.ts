/**
 * Shared test helpers: fixture locations, a file reader that can be moved from one fixture
 * step to the next (so one probe instance walks a multi-step capture), readers that inject
 * failures, and row normalisation for comparing with expected.json.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fail, StatusCode, type Batch, type FileReader, type PluginDeps, type Probe, type Result, type Row, type Status } from '@virtualeyes/core';
import { createFixtureReader, createTestDeps } from '@virtualeyes/core/testing';
import { createProbe, parseConfig, type ProcfsConfig, type ProcfsOptions } from '../src/index.js';
import { REFRESH_SCANS } from '../src/linux/tracker.js';

/** The fixtures folder. */
export const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');

/** A step folder of a fixture case. */
export const stepDir = (name: string, step: string): string => join(FIXTURES, name, step);

/** Reads a fixture file as text. */
export const fixtureText = (name: string, step: string, path: string): string => readFileSync(join(stepDir(name, step), path), 'utf8');

/** Every table name. */
export const ALL_TABLES = ['system_info', 'cpu', 'memory', 'load', 'processes', 'process_stats'] as const;

/** A FileReader delegating to a fixture step that the test can change. */
export interface SteppingReader extends FileReader {
  /** Points the reader at another step folder. */
  use(dir: string): void;
}

/** Creates a reader over fixture step folders. */
export function createSteppingReader(dir: string): SteppingReader {
  let inner = createFixtureReader(dir);
  return {
    use(next) {
      inner = createFixtureReader(next);
    },
    resolve: (path) => inner.resolve(path),
    readText: (path) => inner.readText(path),
    readDir: (path) => inner.readDir(path),
    readLink: (path) => inner.readLink(path),
  };
}

/** A reader that fails the paths `failing` picks with an errno-carrying Status, and counts reads. */
export function createFaultyReader(
  inner: FileReader,
  failing: (path: string, kind: 'text' | 'dir' | 'link') => string | undefined,
): FileReader & { readonly reads: Map<string, number> } {
  const reads = new Map<string, number>();
  const wrap = <T>(kind: 'text' | 'dir' | 'link', path: string, read: () => Result<T>): Result<T> => {
    reads.set(path, (reads.get(path) ?? 0) + 1);
    const errno = failing(path, kind);
    if (errno === undefined) return read();
    const cause = Object.assign(new Error(`${errno}: injected, ${path}`), { code: errno });
    const code = errno === 'ENOENT' || errno === 'ESRCH' ? StatusCode.NOT_FOUND : errno === 'EACCES' ? StatusCode.PERMISSION_DENIED : StatusCode.INTERNAL;
    const status: Status = fail(code, cause.message, { op: `read ${path}`, cause });
    return { ok: false, status };
  };
  return {
    reads,
    resolve: (path) => inner.resolve(path),
    readText: (path) => wrap('text', path, () => inner.readText(path)),
    readDir: (path) => wrap('dir', path, () => inner.readDir(path)),
    readLink: (path) => wrap('link', path, () => inner.readLink(path)),
  };
}

/** Options through parseConfig, as the loader validates and defaults them (failing the test when they do not validate). */
export function validOptions(options: ProcfsOptions = {}): ProcfsConfig {
  const config = parseConfig(options);
  if (!config.ok) throw new Error(config.status.message);
  return config.value;
}

/** Creates a probe over `files` (expecting success), on Linux unless `deps.platform` says otherwise. */
export function probeOver(files: FileReader, options: ProcfsOptions = {}, deps: Partial<PluginDeps> = {}): Probe {
  const created = createProbe(validOptions(options), createTestDeps({ files, platform: 'linux', ...deps }));
  if (!created.ok) throw new Error(created.status.message);
  return created.value;
}

/** Collects `tables` once with a fresh signal. */
export function collect(probe: Probe, tables: readonly string[] = ALL_TABLES, signal = new AbortController().signal): ReturnType<Probe['collect']> {
  return probe.collect({ tables, ts: 0, signal });
}

/** The batch of `table`, failing the test when there is none. */
export function batchOf(batches: readonly Batch[], table: string): Batch {
  const batch = batches.find((candidate) => candidate.table === table);
  if (batch === undefined) throw new Error(`no ${table} batch`);
  return batch;
}

/** Rows with bigints as numbers when safe (as JSON has them), sorted by pid or cpu when keyed. */
export function plain(rows: readonly Row[]): Record<string, unknown>[] {
  const out = rows.map((row) =>
    Object.fromEntries(Object.entries(row).map(([key, value]) => [key, typeof value === 'bigint' ? Number(value) : value])),
  );
  return out.sort((a, b) => Number(a.pid ?? 0) - Number(b.pid ?? 0));
}

/** A reader answering some paths with given text instead of the inner reader's. */
export function createOverlayReader(inner: FileReader, texts: Readonly<Record<string, string>>): FileReader {
  // No `open`: a held file would read the inner reader's text, not the overlay's.
  return {
    resolve: (path) => inner.resolve(path),
    readText: (path) => (path in texts ? { ok: true, value: texts[path]! } : inner.readText(path)),
    readDir: (path) => inner.readDir(path),
    readLink: (path) => inner.readLink(path),
  };
}

/** Whether the staggered whole refresh (every REFRESH_SCANS scans, by pid) reads `pid` in none of a fresh probe's scans 2 to `scans`. */
export function refreshFree(pid: number, scans: number): boolean {
  for (let generation = 2; generation <= scans; generation += 1) if ((generation + pid) % REFRESH_SCANS === 0) return false;
  return true;
}

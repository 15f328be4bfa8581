/**
 * What the events tests share: whether this run may listen (root on Linux), an events collector
 * over the real /proc and the real clock, and children whose lifetimes the tests know.
 */
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createFileReader, createSystemClock, type PluginDeps } from '@virtualeyes/core';
import { createMemoryLogger, createTestDeps, type MemoryLogger } from '@virtualeyes/core/testing';
import { readBootMs } from '@virtualeyes/linux';
import { parseConfig, type ProcfsOptions } from '../../src/index.js';
import { createEventsCollector, type EventsCollector } from '../../src/events/index.js';
import type { SyscallsLoader } from '../../src/events/collector.js';

/** Whether CI runs this (a test that cannot listen there fails instead of skipping). */
export const IN_CI = process.env.CI === 'true';
/** Root on Linux: the connector is reachable on any kernel. */
export const IS_ROOT = process.platform === 'linux' && process.geteuid?.() === 0;
/** Why a root-only test is skipped, in one line. */
export const NOT_ROOT = 'skipped: listening to the process-events connector needs root on Linux here';

/** Real deps: the system clock, the real file system, a logger that keeps its records. */
export function liveDeps(): PluginDeps & { logger: MemoryLogger } {
  return { ...createTestDeps({ clock: createSystemClock(), files: createFileReader() }), logger: createMemoryLogger('debug') } as PluginDeps & { logger: MemoryLogger };
}

/** An events collector over the real /proc with `options` (defaults otherwise). */
export function liveCollector(options: ProcfsOptions = {}, deps = liveDeps(), syscalls?: SyscallsLoader): { collector: EventsCollector; deps: PluginDeps & { logger: MemoryLogger } } {
  const config = parseConfig({ processEvents: true, ...options });
  if (!config.ok) throw new Error(config.status.message);
  const boot = readBootMs(deps.files);
  const collector = createEventsCollector({
    config: config.value,
    deps,
    files: deps.files,
    bootMs: () => (boot.ok ? boot.value : undefined),
    processes: () => Promise.resolve([]),
  }, syscalls);
  return { collector, deps };
}

/** A child the test spawned: its pid and what the test measured from outside. */
export interface Child {
  readonly pid: number;
  /** process.hrtime.bigint() just before spawn(). */
  readonly spawnedNs: bigint;
  /** process.hrtime.bigint() in the 'exit' handler. */
  readonly exitedNs: bigint;
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** What the child printed. */
  readonly stdout: string;
}

/** Spawns `command` and resolves when it exits; `kill` sends a signal after that many ms. */
export function runChild(command: string, args: readonly string[], kill?: { readonly signal: NodeJS.Signals; readonly afterMs: number }): Promise<Child> {
  return new Promise((resolve, reject) => {
    const spawnedNs = process.hrtime.bigint();
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'ignore'] });
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.once('error', reject);
    if (kill !== undefined) setTimeout(() => child.kill(kill.signal), kill.afterMs);
    child.once('exit', (code, signal) => {
      const exitedNs = process.hrtime.bigint();
      child.stdout.once('end', () => resolve({ pid: child.pid!, spawnedNs, exitedNs, code, signal, stdout }));
      if (child.stdout.readableEnded) resolve({ pid: child.pid!, spawnedNs, exitedNs, code, signal, stdout });
    });
  });
}

/** Resolves after `ms`. */
export const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Bundles child-main.ts (TypeScript, workspace sources) into one ES module in a fresh folder
 * anyone may read, koffi left outside and imported by absolute path; returns the file.
 */
export async function bundleChild(): Promise<{ file: string; dir: string }> {
  const { build } = await import('rolldown');
  const here = dirname(fileURLToPath(import.meta.url));
  const koffi = pathToFileURL(createRequire(import.meta.url).resolve('koffi')).href;
  const dir = mkdtempSync(join(tmpdir(), 've-events-child-'));
  chmodSync(dir, 0o755);
  const out = await build({
    input: join(here, 'child-main.ts'),
    cwd: join(here, '..', '..'),
    platform: 'node',
    external: ['koffi'],
    resolve: { conditionNames: ['@virtualeyes/source', 'import', 'default'] },
    write: false,
    logLevel: 'silent',
    output: { format: 'esm', codeSplitting: false, paths: { koffi } },
  });
  const file = join(dir, 'child.mjs');
  writeFileSync(file, out.output[0].code, { mode: 0o644 });
  return { file, dir };
}

/** What a child run printed and how it ended. */
export interface ChildRun {
  readonly report: Record<string, unknown> | undefined;
  readonly stderr: string;
  readonly code: number | null;
  /** From its report line to its exit, ms (how long something kept it alive after close). */
  readonly lingerMs: number;
}

/** Runs `command args…`, parsing its first stdout line as JSON; killed after `timeoutMs`. */
export function runReporting(command: string, args: readonly string[], timeoutMs: number): Promise<ChildRun> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs, killSignal: 'SIGKILL' });
    let stdout = '';
    let stderr = '';
    let reportedAt: number | undefined;
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      if (reportedAt === undefined && stdout.includes('\n')) reportedAt = performance.now();
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.once('exit', (code) => {
      const line = stdout.split('\n')[0] ?? '';
      let report: Record<string, unknown> | undefined;
      try {
        report = JSON.parse(line) as Record<string, unknown>;
      } catch {
        report = undefined;
      }
      resolve({ report, stderr, code, lingerMs: reportedAt === undefined ? Number.NaN : performance.now() - reportedAt });
    });
  });
}

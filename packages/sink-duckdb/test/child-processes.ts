/**
 * Child processes for the tests that need a second process: the sink is built to dist/ first
 * (children run plain Node), then a fixture program is started and awaited.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const packageDir = fileURLToPath(new URL('..', import.meta.url));

/** Compiles the sink into dist/ (incremental) so fixture programs can import it. */
export async function buildSink(): Promise<void> {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  await run(process.execPath, [tsc, '-p', `${packageDir}tsconfig.json`], { cwd: packageDir });
}

/** The path of a fixture program. */
export function fixture(name: string): string {
  return fileURLToPath(new URL(`fixtures/${name}`, import.meta.url));
}

/** Runs a fixture to its end; resolves with its exit code or signal and output. */
export function runFixture(name: string, args: readonly string[]): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [fixture(name), ...args], { cwd: packageDir, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/** Starts a fixture and resolves once it printed `line`; the caller ends it. */
export function startFixture(name: string, args: readonly string[], line: string): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [fixture(name), ...args], { cwd: packageDir, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdout!.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (stdout.includes(line)) resolve(child);
    });
    child.on('close', (code) => reject(new Error(`${name} exited with ${String(code)}: ${stderr}`)));
  });
}

/** Ends a fixture started with {@link startFixture} by closing its stdin, and waits. */
export function stopFixture(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.on('close', () => resolve());
    child.stdin!.end();
  });
}

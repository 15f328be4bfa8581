/**
 * Root-only live test of the detail tables as an unprivileged user: the worker drops its
 * effective uid to nobody for the collections (as an unprivileged vwatchd would run), beside a
 * child of nobody's own. Root's processes must be left out with exactly one PERMISSION_DENIED
 * per table, reported once (the next collection is quiet), and nobody's child read in full.
 */
import { spawn } from 'node:child_process';
import { chmodSync, copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { createFileReader, createSystemClock, StatusCode } from '@virtualeyes/core';
import { describe, expect, it } from 'vitest';
import { batchOf, collect, probeOver } from '../helpers.js';
import { raw } from './fixture.js';

const NOBODY = 65534;
const TABLES = ['process_maps', 'process_memory', 'process_numa', 'process_fds', 'process_sockets'];
const isRoot = process.platform === 'linux' && process.geteuid?.() === 0;
const canSwitch = typeof process.seteuid === 'function' && typeof process.setegid === 'function';

if (process.env.CI === 'true') {
  it('runs as root with seteuid available in CI', () => {
    expect(isRoot, 'CI runs the tests as root').toBe(true);
    expect(canSwitch, 'vitest runs test files in forked processes (pool: forks)').toBe(true);
  });
}

/** Runs `fn` with the effective uid and gid of nobody. */
async function asNobody<T>(fn: () => Promise<T>): Promise<T> {
  process.setegid!(NOBODY);
  process.seteuid!(NOBODY);
  try {
    return await fn();
  } finally {
    process.seteuid!(0);
    process.setegid!(0);
  }
}

describe.skipIf(!isRoot || !canSwitch)('detail tables as an unprivileged user (skipped unless root in a forked worker: it switches euid)', () => {
  it("leaves root's processes out with one PERMISSION_DENIED per table, once, and reads nobody's own child", async () => {
    const every = { top: 0 };
    const options = raw({ detailTables: { process_maps: every, process_memory: every, process_numa: every, process_fds: every, process_sockets: every } });
    const probe = probeOver(createFileReader(), options, { clock: createSystemClock() });
    // A clone only root may enter: nobody runs a copy of the child from a folder it can read.
    const readable = mkdtempSync(join(tmpdir(), 've-detail-nobody-'));
    chmodSync(readable, 0o755);
    const script = join(readable, 'child.mjs');
    copyFileSync(join(dirname(fileURLToPath(import.meta.url)), 'child.mjs'), script);
    chmodSync(script, 0o644);
    const child = spawn(process.execPath, [script, '2'], { uid: NOBODY, gid: NOBODY, cwd: readable, stdio: ['pipe', 'pipe', 'ignore'] });
    try {
      const info = JSON.parse(await new Promise<string>((resolve) => createInterface({ input: child.stdout }).once('line', resolve))) as { pid: number; tcp: number };
      const first = await asNobody(() => collect(probe, TABLES));
      const second = await asNobody(() => collect(probe, TABLES));
      expect(process.geteuid!()).toBe(0);

      const denied = first.errors.filter((status) => status.code === StatusCode.PERMISSION_DENIED);
      expect(denied.map((status) => status.message.split(':')[0]).sort()).toEqual([...TABLES].sort());
      for (const status of denied) expect(status.message).toMatch(/^process_\w+: could not read the files of \d+ process(es)? \(left out\); needs root or CAP_SYS_PTRACE/);
      expect(first.errors.filter((status) => status.code !== StatusCode.PERMISSION_DENIED && status.code !== StatusCode.NOT_FOUND)).toEqual([]);
      expect(second.errors.filter((status) => status.code !== StatusCode.NOT_FOUND)).toEqual([]);

      /** The effective uid of a pid, undefined once it exited. */
      const euid = (pid: number): number | undefined => {
        try {
          return Number(/^Uid:\s+\d+\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]);
        } catch {
          return undefined;
        }
      };
      for (const table of TABLES) {
        const pids = new Set(batchOf(first.batches, table).rows.map((row) => row.pid as number));
        expect(pids.has(info.pid), table).toBe(true);
        // Only nobody's processes, and this worker (a process may always read its own files).
        for (const pid of pids) if (pid !== process.pid) expect([NOBODY, undefined], `${table} pid ${pid}`).toContain(euid(pid));
      }
      const sockets = batchOf(first.batches, 'process_sockets').rows.filter((row) => row.pid === info.pid);
      expect(sockets.find((row) => row.local_port === info.tcp)).toMatchObject({ state: 'LISTEN', protocol: 6 });
      expect(batchOf(first.batches, 'process_fds').rows.filter((row) => row.pid === info.pid && row.kind === 'file' && String(row.target).endsWith('/node'))).toHaveLength(2);
    } finally {
      child.kill('SIGKILL');
      rmSync(readable, { recursive: true, force: true });
    }
  });
});

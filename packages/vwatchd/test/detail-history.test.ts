// Per-process detail with history, end to end: the real daemon records process_fds and
// process_sockets every second while a child holds a file open and listens on a TCP port; the
// child then closes both and lives on. `virtualeyes query --at T` answers, for an instant
// before the close, with the file and the listening port owned by the child's pid, and, for an
// instant after, without them. Needs `npx tsc -b` first.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sleep, startWith, VIRTUALEYES, type TestDaemon } from './helpers.js';

/** A child that opens FILE and listens on an ephemeral loopback port, prints the port, closes both on its first stdin line, and waits. */
const HOLDER = `
import socket, sys
f = open(sys.argv[1], 'w')
s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen(1)
print(s.getsockname()[1], flush=True)
sys.stdin.readline()
f.close(); s.close()
print('closed', flush=True)
sys.stdin.readline()
`;

function run(args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [VIRTUALEYES, ...args], { timeout: 30_000 }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : 1, stdout, stderr });
    });
  });
}

describe.skipIf(process.platform !== 'linux')('per-process detail as of an instant', () => {
  const intervals = { processes: 1000, process_stats: 1000, process_fds: 1000, process_sockets: 1000 };
  let daemon: TestDaemon;
  let holder: ChildProcess;
  let config = '';
  let dataDir = '';
  let file = '';

  beforeAll(async () => {
    // Written each second (no write window), so the instants the test asks about are stored by the time it asks.
    daemon = await startWith('ve-detail-history-', { probes: [{ use: '@virtualeyes/probe-procfs', intervals }], buffer: { writeWindowMs: 0 } });
    ({ config, dataDir } = daemon);
    file = join(dataDir, 'held-by-the-child.txt');
  }, 40_000);

  afterAll(async () => {
    holder?.kill('SIGKILL');
    await daemon.stop();
  });

  it('answers with the open file and the listening port before they were closed, and without them after', async () => {
    holder = spawn('python3', ['-c', HOLDER, file], { stdio: ['pipe', 'pipe', 'inherit'] });
    let output = '';
    holder.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const lines: string[] = [];
    const waitLine = async (count: number): Promise<void> => {
      const until = Date.now() + 10_000;
      while (output.split('\n').filter((line) => line !== '').length < count && Date.now() < until) await sleep(20);
      lines.splice(0, lines.length, ...output.split('\n').filter((line) => line !== ''));
    };
    await waitLine(1);
    const port = Number(lines[0]);
    expect(port).toBeGreaterThan(0);
    const pid = holder.pid!;
    const query = async (at: string | undefined, sql: string): Promise<unknown[]> => {
      const result = await run(['query', '--config', config, '--data-dir', dataDir, ...(at === undefined ? [] : ['--at', at]), '--format', 'json', sql]);
      expect(result.stderr, sql).toBe('');
      expect(result.code, `${sql}: ${result.stdout.slice(0, 300)}`).toBe(0);
      return JSON.parse(result.stdout) as unknown[];
    };
    /** Polls the whole history until `sql` counts at least one row: the collections of a loaded host take their time. */
    const recorded = async (sql: string): Promise<void> => {
      const until = Date.now() + 30_000;
      while (Date.now() < until) {
        const [row] = (await query(undefined, sql)) as { n: number }[];
        if (Number(row?.n) > 0) return;
        await sleep(500);
      }
      expect.fail(`never recorded: ${sql}`);
    };
    const open = `from history.process_fds f join history.process_sockets s using (pid) where f.pid = ${pid} and f.target = '${file}' and s.local_port = ${port}`;
    await recorded(`select count(*) as n ${open}`);
    const before = new Date().toISOString();
    holder.stdin!.write('\n');
    await waitLine(2);
    expect(lines[1]).toBe('closed');
    // Both versions are closed once a collection after the close ran.
    await recorded(`select count(*) as n ${open} and f.valid_to is not null and s.valid_to is not null`);
    await sleep(200);
    const after = new Date().toISOString();
    const fds = `select target from process_fds where pid = ${pid} and target = '${file}'`;
    const sockets = `select local_port, state from process_sockets where pid = ${pid} and local_port = ${port}`;
    expect(await query(before, fds)).toEqual([{ target: file }]);
    expect(await query(before, sockets)).toEqual([{ local_port: port, state: 'LISTEN' }]);
    expect(await query(after, fds)).toEqual([]);
    expect(await query(after, sockets)).toEqual([]);
    expect(daemon.stderr()).not.toMatch(/ERROR/);
  }, 60_000);
});

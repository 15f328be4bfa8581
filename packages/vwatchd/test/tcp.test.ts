// vwatchd's optional TCP listener, end to end: a real daemon recording procfs with
// `api.tcp: { port: 0 }`. It binds loopback, generates its 0600 token file, answers 401
// without the right bearer token and real queries with it, keeps the socket's limits, serves
// the Unix socket alongside, and closes the port on stop. Daemons started with a readable
// token file, a remote host or a port in use refuse to start.
import { execFile, spawn } from 'node:child_process';
import { chmodSync, chownSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, request } from 'node:http';
import { createConnection, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callDaemon, createDaemonClient, type DaemonStatus } from '@virtualeyes/protocol';
import { MAX_BODY_BYTES } from '../src/index.js';
import { sleep, VIRTUALEYES, VWATCHD } from './helpers.js';

interface Daemon {
  readonly dataDir: string;
  readonly socket: string;
  stderr(): string;
  /** Resolves with the exit code once the process ends. */
  readonly exited: Promise<number | null>;
  /** SIGTERM (if still running), then the exit code. */
  stop(): Promise<number | null>;
}

/** Starts vwatchd on a fresh data directory with `api`; resolves once it records, or once it exits. */
async function startDaemon(api: object): Promise<Daemon> {
  const dataDir = mkdtempSync(join(tmpdir(), 've-tcp-'));
  const config = join(dataDir, 'vwatchd.conf');
  const intervals = { processes: 500, process_stats: 500, cpu: 500, load: 500, memory: 500 };
  writeFileSync(config, JSON.stringify({ probes: [{ use: '@virtualeyes/probe-procfs', intervals }], api }));
  const child = spawn(process.execPath, [VWATCHD, '--config', config, '--data-dir', dataDir], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let running = true;
  void exited.then(() => (running = false));
  const until = Date.now() + 30_000;
  while (!stderr.includes('Recording into') && running && Date.now() < until) await sleep(100);
  return {
    dataDir,
    socket: join(dataDir, 'vwatchd.sock'),
    stderr: () => stderr,
    exited,
    stop: async () => {
      if (running) child.kill('SIGTERM');
      return exited;
    },
  };
}

interface Reply {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly text: string;
}

/** One raw HTTP request to 127.0.0.1:`port`. */
function call(port: number, method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** True when a TCP connection to 127.0.0.1:`port` is accepted. */
function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.end();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** The real virtualeyes CLI: exit code, stdout, stderr. */
function virtualeyes(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [VIRTUALEYES, ...args], { timeout: 30_000 }, (error, out, err) => resolve({ code: error === null ? 0 : Number(error.code ?? 1), out, err }));
  });
}

describe('vwatchd TCP listener', () => {
  let daemon: Daemon;
  let port = 0;
  let token = '';
  let url = '';

  beforeAll(async () => {
    daemon = await startDaemon({ tcp: { port: 0 } });
    const listening = /API on .* and http:\/\/127\.0\.0\.1:(\d+) \(bearer token in (.*)\)/.exec(daemon.stderr());
    if (listening === null) throw new Error(`vwatchd did not report a TCP listener:\n${daemon.stderr()}`);
    port = Number(listening[1]);
    token = readFileSync(join(daemon.dataDir, 'vwatchd.token'), 'utf8').trim();
    url = `http://127.0.0.1:${port}`;
  });

  afterAll(async () => {
    await daemon.stop();
    rmSync(daemon.dataDir, { recursive: true, force: true });
  });

  it('binds loopback by default, and says where in its log and its status', async () => {
    expect(daemon.stderr()).toContain(`API on ${daemon.socket} and http://127.0.0.1:${port} (bearer token in ${join(daemon.dataDir, 'vwatchd.token')})`);
    const status = await callDaemon<DaemonStatus>(daemon.socket, 'GET', '/v1/status');
    expect(status.ok && status.value.tcp).toBe(`127.0.0.1:${port}`);
  });

  it('generated its token file 0600 and never shows the token', async () => {
    const path = join(daemon.dataDir, 'vwatchd.token');
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(daemon.stderr()).toContain(`Created the API token file ${path} (mode 0600)`);
    expect(daemon.stderr()).not.toContain(token);
    const status = await call(port, 'GET', '/v1/status', { authorization: `Bearer ${token}` });
    expect(status.status).toBe(200);
    expect(status.text).not.toContain(token);
  });

  it('answers 401 with a Bearer challenge to a request without a token', async () => {
    for (const [method, path, body] of [['GET', '/v1/health', undefined], ['GET', '/v1/tables', undefined], ['POST', '/v1/query', '{"sql":"select 1"}']] as const) {
      const reply = await call(port, method, path, body === undefined ? {} : { 'content-type': 'application/json' }, body);
      expect(reply.status).toBe(401);
      expect(reply.headers['www-authenticate']).toBe('Bearer realm="vwatchd"');
      expect(JSON.parse(reply.text)).toMatchObject({ status: { code: 'PERMISSION_DENIED', message: expect.stringContaining('Authorization: Bearer <token>') } });
      expect(reply.text).not.toContain(token);
    }
  });

  it('answers 401 to a wrong token, a near miss, or another scheme', async () => {
    const wrong = [`Bearer ${'x'.repeat(token.length)}`, `Bearer ${token.slice(0, -1)}`, `Bearer ${token}x`, `Basic ${Buffer.from(`u:${token}`).toString('base64')}`, 'Bearer', `Bearer ${token} extra`];
    for (const authorization of wrong) {
      const reply = await call(port, 'GET', '/v1/health', { authorization });
      expect(reply.status, authorization).toBe(401);
      expect(reply.headers['www-authenticate']).toBe('Bearer realm="vwatchd", error="invalid_token"');
      expect(JSON.parse(reply.text)).toEqual({ status: { code: 'PERMISSION_DENIED', message: 'the bearer token was not accepted', retryable: false, source: 'vwatchd', op: 'authorize' } });
    }
  });

  it('answers a real query over TCP with the right token', async () => {
    const client = createDaemonClient({ url, token });
    let count = 0;
    const until = Date.now() + 15_000;
    while (count === 0 && Date.now() < until) {
      const answer = await client.query({ sql: 'select count(*) as n from processes', at: Date.now() });
      if (!answer.ok) throw new Error(answer.status.message);
      count = Number(answer.value.rows[0]?.[0]);
      if (count === 0) await sleep(200);
    }
    expect(count).toBeGreaterThan(0);
    const tables = await client.tables();
    expect(tables.ok && tables.value.map((table) => table.name)).toContain('processes');
    // The scheme is case-insensitive (RFC 6750): what a browser or curl sends either way works.
    expect((await call(port, 'GET', '/v1/health', { authorization: `bearer ${token}` })).status).toBe(200);
    await client.close();
  });

  it('keeps the socket’s limits and validation on TCP', async () => {
    const auth = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const big = await call(port, 'POST', '/v1/query', auth, JSON.stringify({ sql: `select '${'x'.repeat(MAX_BODY_BYTES)}'` }));
    expect(big.status).toBe(413);
    const invalid = await call(port, 'POST', '/v1/query', auth, JSON.stringify({ sql: 'select 1', bogus: true }));
    expect(invalid.status).toBe(400);
    expect(JSON.parse(invalid.text)).toMatchObject({ status: { code: 'INVALID_ARGUMENT' } });
    const denied = await call(port, 'POST', '/v1/query', auth, JSON.stringify({ sql: "copy (select 1) to '/tmp/x.csv'" }));
    expect(denied.status).toBeGreaterThanOrEqual(400);
    expect((await call(port, 'GET', '/v1/nope', auth)).status).toBe(404);
  });

  it('answers the CLI over --url with the token file, by default the data directory\'s', async () => {
    const elsewhere = mkdtempSync(join(tmpdir(), 've-tcp-cli-'));
    try {
      // A data directory without a daemon or store: every answer comes over TCP.
      const copy = join(elsewhere, 'token');
      writeFileSync(copy, `${token}\n`, { mode: 0o600 });
      const ps = await virtualeyes('--data-dir', elsewhere, '--url', url, '--token-file', copy, 'ps', '--json');
      expect([ps.code, ps.err]).toEqual([0, '']);
      expect((JSON.parse(ps.out) as { pid: number }[]).length).toBeGreaterThan(1);
      const counted = await virtualeyes('--data-dir', daemon.dataDir, '--socket', join(elsewhere, 'none.sock'), '--url', url, 'query', '--json', 'select count(*) as n from processes');
      expect([counted.code, counted.err]).toEqual([0, '']);
      expect((JSON.parse(counted.out) as { n: number }[])[0]!.n).toBeGreaterThan(1);
      const status = await virtualeyes('--data-dir', elsewhere, '--url', url, '--token-file', copy, 'status', '--json');
      expect((JSON.parse(status.out) as { running: boolean }).running).toBe(true);
      expect(`${ps.out}${counted.out}${status.out}`).not.toContain(token);
    } finally {
      rmSync(elsewhere, { recursive: true, force: true });
    }
  });

  it('refuses over --url, with one line: a wrong token, a loose or missing token file, a port nobody listens on', async () => {
    const elsewhere = mkdtempSync(join(tmpdir(), 've-tcp-cli-'));
    try {
      const wrong = join(elsewhere, 'wrong');
      writeFileSync(wrong, `${'x'.repeat(token.length)}\n`, { mode: 0o600 });
      const loose = join(elsewhere, 'loose');
      writeFileSync(loose, `${token}\n`);
      chmodSync(loose, 0o644);
      const closed = await new Promise<number>((resolve) => {
        const server = createServer();
        server.listen(0, '127.0.0.1', () => {
          const { port: free } = server.address() as AddressInfo;
          server.close(() => resolve(free));
        });
      });
      const cases: [string[], number, string][] = [
        [['--url', url, '--token-file', wrong], 1, `virtualeyes: vwatchd at ${url} refused the token: use the content of its api.tcp.tokenFile (--token-file)`],
        [['--url', url, '--token-file', loose], 2, `virtualeyes: token file ${loose} has mode 0644; it must be 0600 or stricter (chmod 600 ${loose})`],
        [['--url', url, '--token-file', join(elsewhere, 'none')], 2, `virtualeyes: no token file at ${join(elsewhere, 'none')}: pass --token-file with a copy (mode 0600) of the daemon's api.tcp.tokenFile`],
        [['--url', `http://127.0.0.1:${closed}`, '--token-file', join(daemon.dataDir, 'vwatchd.token')], 1, `virtualeyes: vwatchd at http://127.0.0.1:${closed} did not answer`],
        [['--url', 'https://127.0.0.1:1', '--token-file', join(daemon.dataDir, 'vwatchd.token')], 2, 'virtualeyes: vwatchd serves http:// only'],
        [['--token-file', wrong], 2, 'virtualeyes: --token-file goes with --url'],
      ];
      // Another user's file (root can make one): the CLI says to use a copy of one's own, not to remove it.
      if (process.getuid?.() === 0) {
        const foreign = join(elsewhere, 'foreign');
        writeFileSync(foreign, `${token}\n`, { mode: 0o600 });
        chownSync(foreign, 65_534, 65_534);
        cases.push([['--url', url, '--token-file', foreign], 2, `virtualeyes: token file ${foreign} is owned by uid 65534, not by this user (uid 0); use a copy of your own (mode 0600)`]);
      }
      for (const [args, code, line] of cases) {
        const result = await virtualeyes('--data-dir', elsewhere, ...args, 'ps');
        expect({ args, code: result.code, out: result.out }).toEqual({ args, code, out: '' });
        expect(result.err.startsWith('virtualeyes: '), result.err).toBe(true);
        expect(result.err, args.join(' ')).toContain(line.replace(/^virtualeyes: /, ''));
        expect(result.err.trimEnd().split('\n')).toHaveLength(1);
        expect(result.err).not.toContain(token);
      }
    } finally {
      rmSync(elsewhere, { recursive: true, force: true });
    }
  });

  it('still serves the Unix socket alongside', async () => {
    const client = createDaemonClient(daemon.socket);
    const answer = await client.query({ sql: 'select 41 + 1 as n' });
    expect(answer.ok && answer.value.rows).toEqual([[42]]);
    await client.close();
  });

  it('closes the TCP port and the socket when it stops', async () => {
    expect(await accepts(port)).toBe(true);
    const code = await daemon.stop();
    expect([0, 3]).toContain(code);
    expect(await accepts(port)).toBe(false);
    expect(() => statSync(daemon.socket)).toThrow();
    const after = await callDaemon<unknown>({ url, token }, 'GET', '/v1/health');
    expect(after.ok ? '' : after.status.code).toBe('UNAVAILABLE');
  });
});

describe('vwatchd refuses an unsafe or unusable TCP listener', () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('refuses to start with a token file other users can read (exit 2, one line)', async () => {
    // Outside the data directory, which vwatchd would tighten to 0640 on its own.
    const elsewhere = mkdtempSync(join(tmpdir(), 've-tcp-token-'));
    dirs.push(elsewhere);
    const tokenFile = join(elsewhere, 'api.token');
    writeFileSync(tokenFile, 'a-long-enough-token-for-the-test-0123\n', { mode: 0o644 });
    const daemon = await startDaemon({ tcp: { port: 0, tokenFile } });
    dirs.push(daemon.dataDir);
    expect(await daemon.exited).toBe(2);
    expect(daemon.stderr()).toContain(`\nvwatchd: token file ${tokenFile} has mode 0644; it must be 0600 or stricter (chmod 600 ${tokenFile})\n`);
    // Refused before any plugin loaded: no boot tree, nothing recorded.
    expect(daemon.stderr()).not.toContain('├──');
    expect(() => statSync(join(daemon.dataDir, 'vwatchd.db'))).toThrow();
    expect(statSync(tokenFile).mode & 0o777).toBe(0o644);
  });

  it('refuses a non-loopback host at config load unless allowRemote is set (exit 2)', async () => {
    const daemon = await startDaemon({ tcp: { host: '0.0.0.0', port: 0 } });
    dirs.push(daemon.dataDir);
    expect(await daemon.exited).toBe(2);
    expect(daemon.stderr()).toMatch(/^vwatchd: .*vwatchd\.conf: \$\.api\.tcp\.host: 0\.0\.0\.0 is not a loopback address .*allowRemote to true/);
    expect(daemon.stderr().trim().split('\n')).toHaveLength(1);
    // Nothing was created: the refusal came before the data directory was touched.
    expect(() => statSync(join(daemon.dataDir, 'vwatchd.token'))).toThrow();
  });

  it('does not start half-configured when the port is in use (exit 1, no socket left)', async () => {
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen({ host: '127.0.0.1', port: 0 }, resolve));
    const port = (holder.address() as AddressInfo).port;
    try {
      const daemon = await startDaemon({ tcp: { port } });
      dirs.push(daemon.dataDir);
      expect(await daemon.exited).toBe(1);
      expect(daemon.stderr()).toContain(`Cannot serve the API: `);
      expect(daemon.stderr()).toContain(`cannot listen on 127.0.0.1:${port}: the port is in use; choose another api.tcp.port`);
      expect(daemon.stderr()).not.toContain('Recording into');
      expect(() => statSync(daemon.socket)).toThrow();
    } finally {
      await new Promise((resolve) => holder.close(resolve));
    }
  });
});

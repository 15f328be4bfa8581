// The TCP listener's parts in process, on real files and real sockets: the token file's
// checks (mode, owner, links, FIFOs, short tokens) and its generation, the constant-time
// comparison, and the listener itself: a port in use refuses the whole API (the Unix socket
// is not left behind), and an allowed remote bind (0.0.0.0) serves with the token only.
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createLogger } from '@virtualeyes/core';
import { loadHostConfig } from '@virtualeyes/protocol';
import { loadApiToken, socketAnswers, startApiServer, TOKEN_FILE_MODE, type ApiDeps } from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 've-tcp-unit-'));
const uid = process.geteuid?.() ?? 0;
const TOKEN = 'a-token-typed-by-an-operator-0123';

function tokenFile(name: string, text: string, mode: number): string {
  const path = join(dir, name);
  writeFileSync(path, text, { mode });
  chmodSync(path, mode);
  return path;
}

const deps: ApiDeps = {
  reader: () => undefined,
  starting: () => false,
  logger: createLogger({ level: 'silent' }),
  version: '9.9.9',
  status: () => ({ version: '9.9.9', pid: process.pid, configSource: 'test', dataDir: dir, socket: '', agent: {} as never }),
};

function get(port: number, path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end();
  });
}

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('loadApiToken', () => {
  it('generates a random 32-byte base64url token into a missing file, mode 0600', () => {
    const path = join(dir, 'generated.token');
    const loaded = loadApiToken(path, { create: true });
    expect(loaded.ok && loaded.value.created).toBe(true);
    expect(statSync(path).mode & 0o777).toBe(TOKEN_FILE_MODE);
    const text = readFileSync(path, 'utf8').trim();
    expect(text).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(text, 'base64url')).toHaveLength(32);
    expect(loaded.ok && loaded.value.token?.matches(text)).toBe(true);
    // The next start reads the same file back instead of replacing it.
    const again = loadApiToken(path, { create: true });
    expect(again.ok && again.value.created).toBe(false);
    expect(again.ok && again.value.token?.matches(text)).toBe(true);
    const other = loadApiToken(join(dir, 'generated-2.token'), { create: true });
    expect(other.ok && other.value.token?.matches(text)).toBe(false);
  });

  it('only inspects a missing file when told not to create it', () => {
    const path = join(dir, 'not-created.token');
    const loaded = loadApiToken(path, { create: false });
    expect(loaded.ok && loaded.value).toEqual({ token: undefined, created: false });
    expect(() => statSync(path)).toThrow();
  });

  it.each([0o600, 0o400])('accepts a token file of mode %s and matches only the exact token', (mode) => {
    const path = tokenFile(`mode-${mode.toString(8)}.token`, `${TOKEN}\n`, mode);
    const loaded = loadApiToken(path, { create: true });
    expect(loaded.ok).toBe(true);
    if (!loaded.ok || loaded.value.token === undefined) return;
    const { token } = loaded.value;
    expect(token.matches(TOKEN)).toBe(true);
    expect(token.matches(`${TOKEN}x`)).toBe(false);
    expect(token.matches(TOKEN.slice(0, -1))).toBe(false);
    expect(token.matches(`${TOKEN.slice(0, -1)}4`)).toBe(false);
    expect(token.matches('')).toBe(false);
  });

  it.each([
    ['0644', 0o644, 'has mode 0644; it must be 0600 or stricter'],
    ['0640', 0o640, 'has mode 0640; it must be 0600 or stricter'],
    ['0602', 0o602, 'has mode 0602'],
    ['0700', 0o700, 'has mode 0700'],
  ])('refuses a token file of mode %s with INVALID_CONFIG', (_name, mode, message) => {
    const path = tokenFile(`loose-${mode.toString(8)}.token`, TOKEN, mode);
    const loaded = loadApiToken(path, { create: true });
    expect(loaded.ok ? '' : loaded.status.code).toBe('INVALID_CONFIG');
    expect(loaded.ok ? '' : loaded.status.message).toContain(message);
    expect(loaded.ok ? '' : loaded.status.message).not.toContain(TOKEN);
  });

  it('refuses a token file owned by another user', () => {
    const path = tokenFile('foreign.token', TOKEN, 0o600);
    const loaded = loadApiToken(path, { create: true, uid: uid + 1 });
    expect(loaded.ok ? '' : loaded.status.message).toContain(`is owned by uid ${uid}, not by this user (uid ${uid + 1})`);
  });

  it('refuses a symbolic link, a FIFO, a directory and tokens too short or with spaces', () => {
    const target = tokenFile('link-target.token', TOKEN, 0o600);
    const link = join(dir, 'link.token');
    symlinkSync(target, link);
    const fifo = join(dir, 'fifo.token');
    execFileSync('mkfifo', ['-m', '600', fifo]);
    const cases: [string, string][] = [
      [link, 'is a symbolic link'],
      [fifo, 'is not a regular file'],
      [dir, 'is not a regular file'],
      [tokenFile('short.token', 'secret\n', 0o600), 'fewer than 16 characters'],
      [tokenFile('empty.token', '', 0o600), 'fewer than 16 characters'],
      [tokenFile('two.token', `${TOKEN} ${TOKEN}`, 0o600), 'one token on one line'],
    ];
    for (const [path, message] of cases) {
      const loaded = loadApiToken(path, { create: true });
      expect(loaded.ok ? `${path} accepted` : loaded.status.message).toContain(message);
    }
  });
});

describe('TCP listener', () => {
  it('refuses the whole API when the port is in use, leaving no socket behind', async () => {
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen({ host: '127.0.0.1', port: 0 }, resolve));
    const port = (holder.address() as AddressInfo).port;
    const token = loadApiToken(tokenFile('busy.token', TOKEN, 0o600), { create: false });
    if (!token.ok || token.value.token === undefined) throw new Error('token');
    const socket = join(dir, 'busy.sock');
    const started = await startApiServer(socket, deps, { host: '127.0.0.1', port, token: token.value.token });
    await new Promise((resolve) => holder.close(resolve));
    expect(started.ok).toBe(false);
    if (started.ok) return;
    expect(started.status.code).toBe('UNAVAILABLE');
    expect(started.status.message).toBe(`cannot listen on 127.0.0.1:${port}: the port is in use; choose another api.tcp.port`);
    expect(await socketAnswers(socket)).toBe(false);
    expect(() => statSync(socket)).toThrow();
  });

  it('refuses a host that is not an address of this machine as a config error', async () => {
    const token = loadApiToken(tokenFile('foreign-host.token', TOKEN, 0o600), { create: false });
    if (!token.ok || token.value.token === undefined) throw new Error('token');
    // 192.0.2.0/24 is TEST-NET-1: never assigned to a host.
    const started = await startApiServer(join(dir, 'foreign-host.sock'), deps, { host: '192.0.2.1', port: 0, token: token.value.token });
    expect(started.ok ? '' : started.status.code).toBe('INVALID_CONFIG');
    expect(started.ok ? '' : started.status.message).toContain('192.0.2.1 is not an address of this machine');
  });

  it('binds 0.0.0.0 when the config allows remote clients, and still wants the token', async () => {
    const conf = join(dir, 'remote.conf');
    writeFileSync(conf, JSON.stringify({ api: { tcp: { host: '0.0.0.0', port: 0, allowRemote: true, tokenFile: join(dir, 'remote.token') } } }));
    const config = loadHostConfig({ configPath: conf, dataDir: dir });
    if (!config.ok || config.value.api.tcp === undefined) throw new Error(config.ok ? 'no tcp' : config.status.message);
    const tcp = config.value.api.tcp;
    const token = loadApiToken(tcp.tokenFile, { create: true });
    if (!token.ok || token.value.token === undefined) throw new Error('token');
    const started = await startApiServer(join(dir, 'remote.sock'), deps, { host: tcp.host, port: tcp.port, token: token.value.token });
    if (!started.ok) throw new Error(started.status.message);
    try {
      expect(started.value.tcp).toMatch(/^0\.0\.0\.0:\d+$/);
      const port = Number(started.value.tcp?.split(':')[1]);
      expect((await get(port, '/v1/health')).status).toBe(401);
      const text = readFileSync(tcp.tokenFile, 'utf8').trim();
      const answer = await get(port, '/v1/health', { authorization: `Bearer ${text}` });
      expect(answer.status).toBe(200);
      expect(JSON.parse(answer.body)).toMatchObject({ ok: true, version: '9.9.9' });
    } finally {
      await started.value.close();
    }
  });
});

// The client against real HTTP servers, one on loopback TCP and one on a Unix socket: the
// bearer header goes out on TCP only, refusals come back as the server's Status, unusable
// URLs and tokens are refused before connecting, and no message ever carries the token.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callDaemon, createDaemonClient } from '../src/index.js';

const TOKEN = 'tok_0123456789abcdefghijklmnopqrstuvwxyz';

interface Seen {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** A stand-in daemon that records what it was sent and answers like vwatchd does. */
function fakeDaemon(seen: Seen[]): Server {
  return createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      seen.push({ method: request.method ?? '', url: request.url ?? '', headers: request.headers, body: Buffer.concat(chunks).toString('utf8') });
      const json = (code: number, body: unknown, headers: Record<string, string> = {}): void => {
        response.writeHead(code, { 'content-type': 'application/json', ...headers });
        response.end(JSON.stringify(body));
      };
      if (request.url?.endsWith('/v1/query') === true) {
        json(200, { columns: [{ name: 'one', type: 'INTEGER' }], rows: [[1]], truncated: false });
      } else if (request.url?.endsWith('/v1/status') === true && request.headers.authorization !== `Bearer ${TOKEN}`) {
        json(401, { status: { code: 'PERMISSION_DENIED', message: 'the bearer token was not accepted', retryable: false } }, { 'www-authenticate': 'Bearer' });
      } else {
        json(200, { ok: true, pid: 1, version: 'test' });
      }
    });
  });
}

describe('daemon client', () => {
  const dir = mkdtempSync(join(tmpdir(), 've-client-'));
  const socket = join(dir, 'fake.sock');
  const seen: Seen[] = [];
  const tcp = fakeDaemon(seen);
  const unix = fakeDaemon(seen);
  let url = '';

  beforeAll(async () => {
    await new Promise<void>((resolve) => tcp.listen({ host: '127.0.0.1', port: 0 }, resolve));
    await new Promise<void>((resolve) => unix.listen(socket, resolve));
    url = `http://127.0.0.1:${(tcp.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise((resolve) => tcp.close(resolve));
    await new Promise((resolve) => unix.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  it('sends the bearer token over TCP and reads the answer', async () => {
    seen.length = 0;
    const client = createDaemonClient({ url, token: TOKEN });
    const answer = await client.query({ sql: 'select 1 as one' });
    expect(answer.ok && answer.value.rows).toEqual([[1]]);
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ method: 'POST', url: '/v1/query', body: JSON.stringify({ sql: 'select 1 as one' }) });
    expect(seen[0]!.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(client.socket).toBe(url);
    await client.close();
  });

  it('keeps a path prefix of the URL in front of the route', async () => {
    seen.length = 0;
    const result = await callDaemon<{ ok: boolean }>({ url: `${url}/vwatchd/`, token: TOKEN }, 'GET', '/v1/health');
    expect(result.ok).toBe(true);
    expect(seen[0]?.url).toBe('/vwatchd/v1/health');
  });

  it('hands back the Status of a 401 refusal', async () => {
    const client = createDaemonClient({ url, token: 'not-the-token-at-all' });
    const refused = await client.status();
    expect(refused.ok ? '' : refused.status.code).toBe('PERMISSION_DENIED');
    expect(refused.ok ? '' : refused.status.message).toBe('the bearer token was not accepted');
  });

  it('still calls over the Unix socket, without an authorization header', async () => {
    seen.length = 0;
    const health = await callDaemon<{ ok: boolean }>(socket, 'GET', '/v1/health');
    expect(health.ok && health.value.ok).toBe(true);
    expect(seen[0]?.headers.authorization).toBeUndefined();
    expect(createDaemonClient(socket).socket).toBe(socket);
  });

  it.each([
    ['an https URL', { url: 'https://127.0.0.1:1', token: TOKEN }, 'http:// only'],
    ['credentials in the URL', { url: 'http://user:pw@127.0.0.1:1', token: TOKEN }, 'must not hold credentials'],
    ['a bare host:port', { url: '127.0.0.1:7710', token: TOKEN }, 'not an http://host:port URL'],
    ['a garbled URL', { url: 'http://[::1', token: TOKEN }, 'not an http://host:port URL'],
    ['an empty token', { url: 'http://127.0.0.1:1', token: '' }, 'the token is empty'],
    ['a token with a line break', { url: 'http://127.0.0.1:1', token: `${TOKEN}\r\nx-evil: 1` }, 'holds whitespace'],
    ['a token Node cannot send', { url: 'http://127.0.0.1:1', token: 'tökén-with-non-latin-ä-€' }, 'cannot call http://127.0.0.1:1'],
  ])('refuses %s with INVALID_ARGUMENT before connecting', async (_name, target, message) => {
    const result = await callDaemon<unknown>(target, 'GET', '/v1/health');
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.status.code).toBe('INVALID_ARGUMENT');
    expect(result.status.message).toContain(message);
    expect(result.status.message).not.toContain(TOKEN);
  });

  it('names the URL, not the token, when nothing listens', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen({ host: '127.0.0.1', port: 0 }, resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const result = await callDaemon<unknown>({ url: `http://127.0.0.1:${port}`, token: TOKEN }, 'GET', '/v1/health');
    expect(result.ok ? '' : result.status.code).toBe('UNAVAILABLE');
    expect(result.ok ? '' : result.status.op).toBe(`connect http://127.0.0.1:${port}`);
    expect(JSON.stringify(result)).not.toContain(TOKEN);
  });
});

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_PROBES, DEFAULT_SINKS, isLoopback, loadHostConfig } from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 've-hostcfg-'));
const file = (name: string, text: string): string => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

describe('loadHostConfig', () => {
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  it('runs procfs into duckdb with defaults when there is no config file', () => {
    const result = loadHostConfig({ dataDir: '/tmp/d' }, join(dir, 'absent.conf'));
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.value.source).toBe('defaults');
    expect(result.value.agent.probes).toEqual(DEFAULT_PROBES);
    expect(result.value.agent.sinks).toEqual(DEFAULT_SINKS);
    expect(result.value.api.socket).toBe('/tmp/d/vwatchd.sock');
    expect(result.value.logLevel).toBe('info');
    expect(result.value.agent.scheduler.timeoutMs).toBe(10_000);
  });

  it('reads a file, lets flags override it, and accepts a $schema key', () => {
    const path = file('ok.conf', JSON.stringify({ $schema: './vwatchd.schema.json', dataDir: '/from/file', log: { level: 'debug' }, probes: [] }));
    const result = loadHostConfig({ configPath: path, socket: '/run/x.sock' });
    expect(result.ok && result.value).toMatchObject({ source: path, logLevel: 'debug', api: { socket: '/run/x.sock' }, agent: { dataDir: '/from/file', probes: [] } });
    const overridden = loadHostConfig({ configPath: path, dataDir: '/flag' });
    expect(overridden.ok && overridden.value.agent.dataDir).toBe('/flag');
  });

  it('hands the file’s roots to the agent', () => {
    const path = file('roots.conf', JSON.stringify({ roots: { proc: '/host/proc', sys: '/host/sys' } }));
    const result = loadHostConfig({ configPath: path });
    expect(result.ok && result.value.agent.roots).toEqual({ proc: '/host/proc', sys: '/host/sys' });
  });

  it.each([
    ['relative root', JSON.stringify({ roots: { proc: 'host/proc' } }), '$.roots.proc: must match pattern'],
    ['wrong type', JSON.stringify({ scheduler: { timeoutMs: 'soon' } }), '$.scheduler.timeoutMs: must be integer'],
    ['unknown key', JSON.stringify({ probez: [] }), '$.probez: is not a known option'],
    ['bad plugin spec', JSON.stringify({ probes: [{ name: 'x' }] }), '$.probes[0].use: is required'],
    ['bad log level', JSON.stringify({ log: { level: 'loud' } }), '$.log.level: must be one of'],
    ['broken JSON', '{ "dataDir": ', 'not valid JSON'],
  ])('rejects %s with INVALID_CONFIG naming the file and path', (name, text, message) => {
    const path = file(`${name.replace(/ /g, '-')}.conf`, text);
    const result = loadHostConfig({ configPath: path });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.status.code).toBe('INVALID_CONFIG');
    expect(result.status.message).toContain(path);
    expect(result.status.message).toContain(message);
  });

  it('fails for a missing --config file but not for a missing default file', () => {
    const missing = loadHostConfig({ configPath: join(dir, 'nope.conf') });
    expect(missing.ok ? '' : missing.status.message).toContain('cannot read config');
    expect(loadHostConfig({}, join(dir, 'nope.conf')).ok).toBe(true);
  });

  it('rejects an unknown --log-level', () => {
    const result = loadHostConfig({ logLevel: 'chatty' }, join(dir, 'absent.conf'));
    expect(result.ok ? '' : result.status.message).toBe('--log-level must be one of debug, info, warn, error, silent');
  });

  it('turns no TCP listener on unless the file asks for one', () => {
    const result = loadHostConfig({ dataDir: '/tmp/d' }, join(dir, 'absent.conf'));
    expect(result.ok && result.value.api.tcp).toBeUndefined();
  });

  it('binds the TCP listener to loopback with the token in the data directory by default', () => {
    const path = file('tcp.conf', JSON.stringify({ api: { tcp: { port: 0 } } }));
    const result = loadHostConfig({ configPath: path, dataDir: '/srv/ve' });
    expect(result.ok && result.value.api.tcp).toEqual({ host: '127.0.0.1', port: 0, tokenFile: '/srv/ve/vwatchd.token', allowRemote: false });
  });

  it('keeps an explicit loopback host and token file', () => {
    const path = file('tcp-v6.conf', JSON.stringify({ api: { tcp: { host: '::1', port: 7710, tokenFile: '/etc/vwatchd.token' } } }));
    const result = loadHostConfig({ configPath: path });
    expect(result.ok && result.value.api.tcp).toEqual({ host: '::1', port: 7710, tokenFile: '/etc/vwatchd.token', allowRemote: false });
  });

  it.each(['0.0.0.0', '::', '192.168.1.10', 'example.org', '128.0.0.1'])('refuses the non-loopback host %s naming $.api.tcp.host', (host) => {
    const path = file(`remote-${host.replace(/[^a-z0-9]/gi, '_')}.conf`, JSON.stringify({ api: { tcp: { host, port: 7710 } } }));
    const result = loadHostConfig({ configPath: path });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.status.code).toBe('INVALID_CONFIG');
    expect(result.status.message).toContain(path);
    expect(result.status.message).toContain('$.api.tcp.host');
    expect(result.status.message).toContain('allowRemote');
  });

  it('accepts a non-loopback host when allowRemote is true', () => {
    const path = file('remote-ok.conf', JSON.stringify({ api: { tcp: { host: '0.0.0.0', port: 7710, allowRemote: true } } }));
    const result = loadHostConfig({ configPath: path });
    expect(result.ok && result.value.api.tcp).toMatchObject({ host: '0.0.0.0', port: 7710, allowRemote: true });
  });

  it.each([
    ['no port', { tcp: {} }, '$.api.tcp.port: is required'],
    ['a port out of range', { tcp: { port: 70000 } }, '$.api.tcp.port: must be <= 65535'],
    ['a fractional port', { tcp: { port: 1.5 } }, '$.api.tcp.port: must be integer'],
    ['a string allowRemote', { tcp: { port: 1, allowRemote: 'yes' } }, '$.api.tcp.allowRemote: must be boolean'],
    ['an unknown tcp key', { tcp: { port: 1, token: 'secret' } }, '$.api.tcp.token: is not a known option'],
    ['an empty token file', { tcp: { port: 1, tokenFile: '' } }, '$.api.tcp.tokenFile: must NOT have fewer than 1 characters'],
  ])('rejects %s through the schema', (name, api, message) => {
    const path = file(`tcp-${name.replace(/ /g, '-')}.conf`, JSON.stringify({ api }));
    const result = loadHostConfig({ configPath: path });
    expect(result.ok ? '' : result.status.message).toContain(message);
  });
});

describe('isLoopback', () => {
  it.each([
    ['127.0.0.1', true],
    ['127.255.0.9', true],
    ['localhost', true],
    ['LOCALHOST', true],
    ['::1', true],
    ['0:0:0:0:0:0:0:1', true],
    ['::ffff:127.0.0.1', true],
    ['0.0.0.0', false],
    ['::', false],
    ['10.0.0.1', false],
    ['128.0.0.1', false],
    ['::ffff:10.0.0.1', false],
    ['localhost.example.org', false],
    ['[::1]', false],
  ])('%s -> %s', (host, expected) => {
    expect(isLoopback(host)).toBe(expected);
  });
});

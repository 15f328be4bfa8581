/**
 * The agent's `roots`: from the config or from HOST_PROC and friends, checked at createAgent
 * (absolute, an existing directory), applied to the FileReader every plugin gets, and logged
 * once at start. A fixture probe reads one path through `deps.files` and reports what it read.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { AGENT_CONFIG_SCHEMA, createAgent, resolveRoots, ROOTS } from '../src/index.js';
import { createFileReader, type Batch, type Result } from '@virtualeyes/core';
import { createFakeClock, createMemoryLogger } from '@virtualeyes/core/testing';

const fixtures = fileURLToPath(new URL('./fixtures/plugins/', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 've-roots-test-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A fake host folder whose proc/loadavg, sys/x and sys/fs/cgroup/x start with `tag`. */
function host(tag: string): string {
  const dir = join(tmp, tag);
  mkdirSync(join(dir, 'proc'), { recursive: true });
  mkdirSync(join(dir, 'sys', 'fs', 'cgroup'), { recursive: true });
  writeFileSync(join(dir, 'proc', 'loadavg'), `${tag} 0.50 0.25 1/100 4242\n`);
  writeFileSync(join(dir, 'sys', 'x'), `${tag} sys\n`);
  writeFileSync(join(dir, 'sys', 'fs', 'cgroup', 'x'), `${tag} cgroup\n`);
  return dir;
}

const configHost = host('config');
const envHost = host('env');

type Env = Readonly<Record<string, string | undefined>>;

async function create(config: Record<string, unknown>, env: Env, path?: string) {
  const logger = createMemoryLogger('debug', 'vwatchd');
  const created = await createAgent(
    {
      dataDir: join(tmp, 'data'),
      scheduler: { jitterMs: 0 },
      probes: [{ use: './probe-file.mjs', ...(path === undefined ? {} : { options: { path } }) }],
      sinks: [{ use: './sink-memory.mjs' }],
      ...config,
    },
    { clock: createFakeClock(Date.UTC(2026, 0, 1)), logger, resolveFrom: [fixtures], random: () => 0.5, env },
  );
  return { created, logger };
}

/** Starts an agent, collects once and stops; the file_lines rows the sink was handed. */
async function readThrough(config: Record<string, unknown>, env: Env, path?: string) {
  const { created, logger } = await create(config, env, path);
  if (!created.ok) throw new Error(created.status.message);
  const agent = created.value;
  const seen: Batch[] = [];
  agent.hooks.beforeWrite.tap('test-capture', (_sink, batches) => void seen.push(...batches));
  expect((await agent.start()).code).toBe('OK');
  expect((await agent.collectOnce()).code).toBe('OK');
  expect((await agent.stop()).code).toBe('OK');
  return { rows: seen.filter((batch) => batch.table === 'file_lines').flatMap((batch) => batch.rows), logger, agent };
}

function statusOf<T>(result: Result<T>) {
  expect(result.ok).toBe(false);
  return result.ok ? undefined : result.status;
}

describe('agent roots', () => {
  it('declares every root in the config schema, with a description and no other key', () => {
    const roots = (AGENT_CONFIG_SCHEMA as { properties: { roots: { additionalProperties: boolean; properties: Record<string, { description: string }> } } }).properties.roots;
    expect(roots.additionalProperties).toBe(false);
    expect(Object.keys(roots.properties)).toEqual(['proc', 'sys', 'etc', 'dev', 'cgroup']);
    for (const [name, property] of Object.entries(roots.properties)) expect(property.description, name).toContain(ROOTS[name as keyof typeof ROOTS].env);
  });

  it('hands plugins a reader that maps /proc to the configured root', async () => {
    const { rows } = await readThrough({ roots: { proc: join(configHost, 'proc') } }, {});
    expect(rows.map((row) => row.line)).toEqual(['config 0.50 0.25 1/100 4242']);
    expect(rows[0]!.opened).toBe(join(configHost, 'proc', 'loadavg'));
  });

  it('takes a root from HOST_PROC when the config has none', async () => {
    const { rows } = await readThrough({}, { HOST_PROC: join(envHost, 'proc') });
    expect(rows.map((row) => row.line)).toEqual(['env 0.50 0.25 1/100 4242']);
  });

  it('prefers the config over the environment, root by root', async () => {
    const env = { HOST_PROC: join(envHost, 'proc'), HOST_SYS: join(envHost, 'sys') };
    const config = { roots: { proc: join(configHost, 'proc') } };
    expect((await readThrough(config, env)).rows.map((row) => row.line)).toEqual(['config 0.50 0.25 1/100 4242']);
    expect((await readThrough(config, env, '/sys/x')).rows.map((row) => row.line)).toEqual(['env sys']);
  });

  it('maps /sys/fs/cgroup through the cgroup root ahead of the sys root', async () => {
    const roots = { sys: join(envHost, 'sys'), cgroup: join(configHost, 'sys', 'fs', 'cgroup') };
    expect((await readThrough({ roots }, {}, '/sys/fs/cgroup/x')).rows.map((row) => row.line)).toEqual(['config cgroup']);
    expect((await readThrough({ roots }, {}, '/sys/x')).rows.map((row) => row.line)).toEqual(['env sys']);
  });

  it('ignores an empty variable and keeps the real paths', async () => {
    const { rows, logger } = await readThrough({}, { HOST_PROC: '' });
    expect(rows[0]!.opened).toBe('/proc/loadavg');
    expect(logger.records.some((record) => record.message.includes('roots'))).toBe(false);
  });

  it('logs the roots in use once, at start, naming the variables that set them', async () => {
    const { logger } = await readThrough({ roots: { proc: `${join(configHost, 'proc')}/` } }, { HOST_SYS: join(envHost, 'sys') });
    const logged = logger.records.filter((record) => record.message.includes('roots'));
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatchObject({
      level: 'info',
      message: 'Reading host files under other roots',
      fields: { '/proc': join(configHost, 'proc'), '/sys': join(envHost, 'sys'), env: 'HOST_SYS' },
    });
  });

  it.each([
    [{ roots: { proc: 'host/proc' } }, {}, '$.roots.proc: must match pattern "^/"'],
    [{ roots: { run: '/host/run' } }, {}, '$.roots.run: is not a known option'],
    [{}, { HOST_PROC: 'host/proc' }, "HOST_PROC: must be an absolute path, got 'host/proc'"],
  ])('refuses %j (env %j) with INVALID_CONFIG: %s', async (config, env, message) => {
    const { created } = await create(config, env);
    expect(statusOf(created)).toMatchObject({ code: 'INVALID_CONFIG', message });
  });

  it('refuses a root that is missing or not a directory, at createAgent, naming where it was set', async () => {
    const missing = join(tmp, 'no-such-host', 'proc');
    const fromConfig = statusOf((await create({ roots: { proc: missing } }, {})).created);
    expect(fromConfig?.code).toBe('INVALID_CONFIG');
    expect(fromConfig?.message).toMatch(new RegExp(`^\\$\\.roots\\.proc: cannot use ${missing} as the host's /proc: ENOENT`));
    const fromEnv = statusOf((await create({}, { HOST_SYS: missing })).created);
    expect(fromEnv?.message.startsWith(`HOST_SYS: cannot use ${missing} as the host's /sys`)).toBe(true);
    const file = join(configHost, 'proc', 'loadavg');
    expect(statusOf((await create({}, { HOST_ETC: file })).created)).toMatchObject({ code: 'INVALID_CONFIG', message: `HOST_ETC: ${file} is not a directory` });
  });

  it('checks the roots but leaves an injected reader alone', async () => {
    const injected = createFileReader({ roots: { '/proc': join(envHost, 'proc') } });
    const created = await createAgent(
      { dataDir: join(tmp, 'data'), probes: [{ use: './probe-file.mjs' }], sinks: [{ use: './sink-memory.mjs' }], roots: { proc: join(configHost, 'proc') } },
      { files: injected, resolveFrom: [fixtures], env: {}, logger: createMemoryLogger(), clock: createFakeClock(0) },
    );
    if (!created.ok) throw new Error(created.status.message);
    const seen: Batch[] = [];
    created.value.hooks.beforeWrite.tap('test-capture', (_sink, batches) => void seen.push(...batches));
    expect((await created.value.start()).code).toBe('OK');
    expect((await created.value.collectOnce()).code).toBe('OK');
    await created.value.stop();
    expect(seen.flatMap((batch) => batch.rows).map((row) => row.line)).toContain('env 0.50 0.25 1/100 4242');
    expect(seen.flatMap((batch) => batch.rows).map((row) => row.line)).not.toContain('config 0.50 0.25 1/100 4242');
    expect(statusOf((await create({ roots: { proc: join(tmp, 'absent') } }, {})).created)?.code).toBe('INVALID_CONFIG');
  });
});

describe('resolveRoots', () => {
  it('lists the roots in use in the order of ROOTS, normalised, with where each came from', () => {
    const resolved = resolveRoots({ sys: '/host//sys/', cgroup: '/c' }, { HOST_PROC: '/hp', HOST_SYS: '/ignored', HOST_DEV: '' }, () => ({ ok: true, value: true }));
    expect(resolved).toEqual({
      ok: true,
      value: [
        { name: 'proc', path: '/proc', target: '/hp', from: 'HOST_PROC' },
        { name: 'sys', path: '/sys', target: '/host/sys', from: '$.roots.sys' },
        { name: 'cgroup', path: '/sys/fs/cgroup', target: '/c', from: '$.roots.cgroup' },
      ],
    });
  });

  it('reads nothing when no root is set', () => {
    let checks = 0;
    const resolved = resolveRoots(undefined, {}, () => {
      checks += 1;
      return { ok: true, value: true };
    });
    expect(resolved).toEqual({ ok: true, value: [] });
    expect(checks).toBe(0);
  });
});

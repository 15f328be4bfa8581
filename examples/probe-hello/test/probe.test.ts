// probe-hello as its author would test it: core's contract suite on the real /proc, its row
// against the real files, and a Status (not a throw) for a malformed /proc/loadavg.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createFixtureReader, createTestDeps, probeContractSuite, type ProbeExports } from '@virtualeyes/core/testing';
import { describe, expect, it } from 'vitest';
import * as hello from '../src/index.js';

const context = { tables: ['hello'], ts: 0, signal: new AbortController().signal };

probeContractSuite({ module: hello as unknown as ProbeExports, supported: process.platform === 'linux' });

describe.skipIf(process.platform !== 'linux')('probe-hello', () => {
  it('records what /proc/uptime and /proc/loadavg say', async () => {
    const created = hello.createProbe({}, createTestDeps({ name: 'hello' }));
    if (!created.ok) throw new Error(created.status.message);
    const before = Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
    const { batches, errors } = await created.value.collect(context);
    const after = Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
    expect(errors).toEqual([]);
    const row = batches[0]?.rows[0] ?? {};
    expect(row.uptime).toBeGreaterThanOrEqual(before);
    expect(row.uptime).toBeLessThanOrEqual(after);
    const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).map(Number);
    expect([row.load1, row.load5, row.load15].every((value, index) => Math.abs(Number(value) - (load[index] ?? -1)) < 1)).toBe(true);
    await created.value.close();
  });

  it('answers a malformed /proc/loadavg with PARSE_ERROR and no rows', async () => {
    const files = createFixtureReader(fileURLToPath(new URL('fixtures/broken', import.meta.url)));
    const created = hello.createProbe({}, createTestDeps({ name: 'hello', files }));
    if (!created.ok) throw new Error(created.status.message);
    expect(await created.value.collect(context)).toMatchObject({ batches: [], errors: [{ code: 'PARSE_ERROR', message: "unexpected /proc/loadavg: 'not a load'" }] });
  });

  it('is UNSUPPORTED off Linux, with its reason', () => {
    const created = hello.createProbe({}, createTestDeps({ name: 'hello', platform: 'darwin' }));
    expect(created.ok && created.value.init()).toMatchObject({ code: 'UNSUPPORTED', message: expect.stringContaining('darwin') });
  });
});

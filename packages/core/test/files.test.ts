import { mkdtempSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createFileReader } from '../src/index.js';
import { createFixtureReader } from '../src/testing/index.js';

describe('file reader', () => {
  const dir = mkdtempSync(join(tmpdir(), 've-files-'));
  mkdirSync(join(dir, 'proc', '42'), { recursive: true });
  writeFileSync(join(dir, 'proc', '42', 'stat'), '42 (x) S 1');
  writeFileSync(join(dir, 'proc', 'big'), 'y'.repeat(200_000));
  symlinkSync('/usr/bin/true', join(dir, 'proc', '42', 'exe'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('maps roots to folders, longest prefix first, and leaves other paths alone', () => {
    const reader = createFileReader({ roots: { '/proc': join(dir, 'proc'), '/proc/42': '/elsewhere' } });
    expect(reader.resolve('/proc/1/stat')).toBe(join(dir, 'proc', '1', 'stat'));
    expect(reader.resolve('/proc/42/stat')).toBe('/elsewhere/stat');
    expect(reader.resolve('/process')).toBe('/process');
    expect(reader.resolve('/etc/passwd')).toBe('/etc/passwd');
  });

  it('reads text, directories and links under a fixture root', () => {
    const reader = createFixtureReader(dir);
    expect(reader.readText('/proc/42/stat')).toEqual({ ok: true, value: '42 (x) S 1' });
    expect(reader.readDir('/proc').ok && reader.readDir('/proc')).toMatchObject({ value: expect.arrayContaining(['42', 'big']) });
    expect(reader.readLink('/proc/42/exe')).toEqual({ ok: true, value: '/usr/bin/true' });
  });

  it('reads files larger than its buffer and stays correct afterwards', () => {
    const reader = createFixtureReader(dir);
    const big = reader.readText('/proc/big');
    expect(big.ok && big.value.length).toBe(200_000);
    expect(reader.readText('/proc/42/stat')).toEqual({ ok: true, value: '42 (x) S 1' });
  });

  it('reads pseudo-files that report size 0 from the real /proc', () => {
    const result = createFileReader().readText('/proc/self/status');
    expect(result.ok && result.value).toMatch(/^Name:/);
  });

  it('returns NOT_FOUND naming the operation for a missing file', () => {
    const result = createFixtureReader(dir, ['/proc'], ).readText('/proc/999999/stat');
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.status).toMatchObject({ code: 'NOT_FOUND', op: 'read /proc/999999/stat' });
    const listing = createFixtureReader(dir).readDir('/proc/nope');
    expect(listing.ok ? '' : listing.status.code).toBe('NOT_FOUND');
  });
});

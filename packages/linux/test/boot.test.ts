/**
 * Boot time and clock ticks: btime found anywhere in /proc/stat, its limits, the read through
 * a FileReader (a fixture root and the live /proc), and ticks to milliseconds at the usual
 * and at unusual USER_HZ values.
 */
import { createFileReader, StatusCode } from '@virtualeyes/core';
import { describe, expect, it } from 'vitest';
import { DEFAULT_USER_HZ, MAX_BTIME, MAX_TICKS, parseBtime, readBootMs, ticksToMs } from '../src/index.js';
import { fixtureReader, fixtureText } from './helpers.js';

describe('parseBtime', () => {
  it('finds btime anywhere in /proc/stat', () => {
    expect(parseBtime('cpu 1 2\nbtime 1700000000\nprocesses 3\n')).toEqual({ ok: true, value: 1700000000 });
    expect(parseBtime('btime 5')).toEqual({ ok: true, value: 5 });
    expect(parseBtime('cpu 1\nxbtime 5\n').ok).toBe(false);
    expect(parseBtime('btime x\n').ok).toBe(false);
  });

  it('reads the captured /proc/stat of host-a', () => {
    expect(parseBtime(fixtureText('host-a', 'proc/stat'))).toEqual({ ok: true, value: 1795323087 });
  });

  it('accepts a btime whose milliseconds stay exact and refuses the next', () => {
    expect(parseBtime(`btime ${MAX_BTIME}\n`)).toEqual({ ok: true, value: MAX_BTIME });
    expect(Number.isSafeInteger(MAX_BTIME * 1000)).toBe(true);
    expect(Number.isSafeInteger((MAX_BTIME + 1) * 1000)).toBe(false);
    const refused = parseBtime(`btime ${MAX_BTIME + 1}\n`);
    expect(!refused.ok && refused.status).toMatchObject({ code: StatusCode.PARSE_ERROR, op: 'parse /proc/stat' });
    expect(parseBtime('btime 18446744073709551615\n').ok).toBe(false);
    expect(parseBtime('btime -1\n').ok).toBe(false);
    expect(parseBtime('btime \n').ok).toBe(false);
  });
});

describe('readBootMs', () => {
  it('reads /proc/stat through the FileReader, whose root maps it, in milliseconds', () => {
    expect(readBootMs(fixtureReader('host-a'))).toEqual({ ok: true, value: 1795323087000 });
  });

  it('returns the reader’s own status when /proc/stat cannot be read', () => {
    const missing = readBootMs(createFileReader({ roots: { '/proc': '/nonexistent-proc' } }));
    expect(!missing.ok && missing.status.code).toBe(StatusCode.NOT_FOUND);
  });

  it.skipIf(process.platform !== 'linux')('reads the live boot time: in the past, and before this process started', () => {
    const boot = readBootMs(createFileReader());
    expect(boot.ok).toBe(true);
    if (!boot.ok) return;
    expect(boot.value % 1000).toBe(0);
    expect(boot.value).toBeLessThanOrEqual(Date.now() - process.uptime() * 1000 + 1000);
  });
});

describe('ticksToMs', () => {
  it('converts clock ticks to milliseconds, exactly at the usual USER_HZ and rounded otherwise', () => {
    expect(DEFAULT_USER_HZ).toBe(100);
    expect(ticksToMs(12345, 100)).toBe(123_450);
    expect(ticksToMs(3, 250)).toBe(12);
    expect(ticksToMs(1, 300)).toBe(3);
    expect(ticksToMs(7, 1000)).toBe(7);
  });

  it('stays exact up to MAX_TICKS at USER_HZ 1, the worst case', () => {
    expect(Number.isSafeInteger(ticksToMs(MAX_TICKS, 1))).toBe(true);
    expect(Number.isSafeInteger(ticksToMs(MAX_TICKS + 1, 1))).toBe(false);
  });
});

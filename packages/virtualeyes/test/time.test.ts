import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseDuration, parseTime } from '../src/index.js';

const NOW = Date.parse('2026-11-22T05:00:00.000Z');

describe('parseTime', () => {
  it.each([
    ['now', NOW],
    ['NOW', NOW],
    ['20s ago', NOW - 20_000],
    ['5m ago', NOW - 300_000],
    ['5 minutes ago', NOW - 300_000],
    ['1h30m ago', NOW - 5_400_000],
    ['2 days ago', NOW - 172_800_000],
    ['1.5h ago', NOW - 5_400_000],
    ['-10m', NOW - 600_000],
    ['1763787600', 1_763_787_600_000],
    ['@1763787600.25', 1_763_787_600_250],
    ['1763787600123', 1_763_787_600_123],
    ['2026-11-22T04:59:00Z', NOW - 60_000],
    ['2026-11-22T06:59:00+02:00', NOW - 60_000],
    ['2026-11-22 04:59:00Z', NOW - 60_000],
  ])('reads %s', (text, expected) => {
    expect(parseTime(text, NOW)).toEqual({ ok: true, value: expected });
  });

  it('reads today, yesterday and a time of day as local times, a time still to come as yesterday\'s (as atop -b does)', () => {
    const local = new Date(NOW);
    const midnight = new Date(local.getFullYear(), local.getMonth(), local.getDate()).getTime();
    const yesterday = new Date(local.getFullYear(), local.getMonth(), local.getDate() - 1).getTime();
    expect(parseTime('today', NOW)).toEqual({ ok: true, value: midnight });
    expect(parseTime('Yesterday', NOW)).toEqual({ ok: true, value: yesterday });
    const clock = (base: number, h: number, m: number, s = 0): number => new Date(new Date(base).setHours(h, m, s, 0)).getTime();
    const past = clock(midnight, local.getHours(), local.getMinutes()) - 60_000;
    const pastText = `${new Date(past).getHours()}:${String(new Date(past).getMinutes()).padStart(2, '0')}`;
    expect(parseTime(pastText, NOW)).toEqual({ ok: true, value: past });
    expect(parseTime('yesterday 23:50', NOW)).toEqual({ ok: true, value: clock(yesterday, 23, 50) });
    expect(parseTime('today 00:00:30.5', NOW)).toEqual({ ok: true, value: clock(midnight, 0, 0, 30) + 500 });
  });

  it.each([
    // NOW is 21:00 on 21 November in Los Angeles: 03:10 is today's, 23:00 yesterday's.
    ['03:10', '2026-11-21T11:10:00.000Z'],
    ['23:00', '2026-11-21T07:00:00.000Z'],
    ['21:00', '2026-11-22T05:00:00.000Z'],
    ['today', '2026-11-21T08:00:00.000Z'],
    ['yesterday 03:10:30', '2026-11-20T11:10:30.000Z'],
  ])('reads %s in the local zone (America/Los_Angeles here)', (text, iso) => {
    const zone = process.env['TZ'];
    process.env['TZ'] = 'America/Los_Angeles';
    try {
      expect(parseTime(text, NOW)).toEqual({ ok: true, value: Date.parse(iso) });
    } finally {
      if (zone === undefined) delete process.env['TZ'];
      else process.env['TZ'] = zone;
    }
  });

  it.each([
    ['24:00', 'hours run 0-23'],
    ['12:60', 'minutes and seconds 0-59'],
    ['3:1', 'expected a time of day as HH:MM'],
    ['today noon', 'expected a time of day as HH:MM'],
    ['last week', "expected ISO-8601 ('2026-11-22T05:00:00Z'), epoch seconds, 'now', 'today', 'yesterday', a time of day ('03:10')"],
  ])('refuses %j, saying what a time is', (text, why) => {
    const result = parseTime(text, NOW);
    expect(result.ok ? '' : result.status.message).toContain(`cannot read time '${text}': `);
    expect(result.ok ? '' : result.status.message).toContain(why);
  });

  it('reads ISO times without a zone as local time', () => {
    expect(parseTime('2026-11-22T04:59:00', NOW)).toEqual({ ok: true, value: new Date(2026, 10, 22, 4, 59, 0).getTime() });
  });

  it.each([
    'yesterday-ish',
    '5 parsecs ago',
    '12345678901234567',
    '2026-13-45T99:00:00Z',
    '',
    'ago',
    '5m ago ago',
    '-99999999999999d',
    '99999999999999d ago',
    `${'9'.repeat(400)}s ago`,
    '0000-12-31T23:59:59Z',
    '-2030y',
  ])(
    'refuses %j with a one-line INVALID_ARGUMENT',
    (text) => {
      const result = parseTime(text, NOW);
      expect(result.ok).toBe(false);
      if (!result.ok) {
        expect(result.status.code).toBe('INVALID_ARGUMENT');
        expect(result.status.message).toContain(`cannot read time '${text}'`);
        expect(result.status.message).not.toContain('\n');
      }
    },
  );

  it.each([
    ['0001-01-01T00:00:00Z', -62_135_596_800_000],
    ['9999-12-31T23:59:59.999Z', 253_402_300_799_999],
  ])('reads %s, the edge of the years 1 to 9999', (text, expected) => {
    expect(parseTime(text, NOW)).toEqual({ ok: true, value: expected });
  });

  it('says why a time outside the years 1 to 9999 is refused', () => {
    const result = parseTime('-99999999999999d', NOW);
    expect(result.ok ? '' : result.status.message).toBe("cannot read time '-99999999999999d': it falls outside the years 1 to 9999");
  });

  it('never throws on arbitrary input, and never passes on a time outside the years 1 to 9999', () => {
    fc.assert(
      fc.property(fc.string(), (text) => {
        const result = parseTime(text, NOW);
        if (result.ok) expect(new Date(result.value).getUTCFullYear()).toBeGreaterThanOrEqual(1);
        if (result.ok) expect(new Date(result.value).getUTCFullYear()).toBeLessThanOrEqual(9999);
      }),
    );
    fc.assert(
      fc.property(fc.nat(), fc.constantFrom('ms', 's', 'm', 'h', 'd', 'w'), fc.constantFrom('-', ''), (count, unit, minus) => {
        const result = parseTime(minus === '-' ? `-${count}${unit}` : `${count}${unit} ago`, NOW);
        expect(result.ok).toBe(NOW - count * { ms: 1, s: 1e3, m: 6e4, h: 3.6e6, d: 8.64e7, w: 6.048e8 }[unit] >= -62_135_596_800_000);
      }),
    );
  });

  it('never throws on arbitrary input', () => {
    fc.assert(
      fc.property(fc.string(), (text) => {
        const result = parseTime(text, NOW);
        expect(typeof result.ok).toBe('boolean');
      }),
    );
  });
});

describe('parseDuration', () => {
  it.each([
    ['90s', 90_000],
    ['5m', 300_000],
    ['1h30m', 5_400_000],
    ['250ms', 250],
    ['2 weeks', 1_209_600_000],
    ['0', 0],
    ['0s', 0],
  ])('reads %s', (text, expected) => {
    expect(parseDuration(text)).toEqual({ ok: true, value: expected });
  });

  it.each(['5', 'm', '5 furlongs', '5m and 3s', '3660000d', `${'9'.repeat(400)}s`])('refuses %s', (text) => {
    const result = parseDuration(text);
    expect(result.ok ? '' : result.status.message).toContain(`cannot read duration '${text}': `);
    expect(result.ok ? '' : result.status.message).not.toContain('time');
  });
});

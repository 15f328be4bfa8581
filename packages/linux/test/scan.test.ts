/**
 * Integer scanning at the edges that matter: 2^53 - 1 (the last exact number), 2^53 and
 * 2^53 + 1 (where a double starts rounding), 2^63 - 1 (the last int64), 2^64 - 1 (a kernel u64
 * at its maximum), signs, empty slices and garbage. One rule for every probe.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fieldEnd, INT64_MAX, multiplyCount, readCount, readInt, readUint, skipBlanks, toCount } from '../src/index.js';

const all = (text: string): [string, number, number] => [text, 0, text.length];

describe('readCount (every kernel counter)', () => {
  it.each([
    ['0', 0],
    ['42', 42],
    ['9007199254740991', 9007199254740991], // 2^53 - 1: the last exact number
    ['9007199254740992', 9007199254740992n], // 2^53: a bigint from here on
    ['9007199254740993', 9007199254740993n], // 2^53 + 1: a double would say ...992
    ['9223372036854775807', 9223372036854775807n], // 2^63 - 1
    ['000000000000000000042', 42], // leading zeros are still the number
  ])('reads %s as %s', (text, value) => {
    expect(readCount(...all(text))).toBe(value);
  });

  it.each([
    ['9223372036854775808', '2^63: past int64'],
    ['18446744073709551615', '2^64 - 1: a u64 at its maximum'],
    ['', 'empty'],
    ['-1', 'negative'],
    ['12a', 'a letter'],
    ['1.5', 'a decimal'],
    [' 1', 'a leading blank'],
    ['1e3', 'an exponent'],
  ])('refuses %j (%s)', (text) => {
    expect(readCount(...all(text))).toBeUndefined();
  });

  it('reads only the slice it is given', () => {
    expect(readCount('x 18446744073709551615 12 y', 23, 25)).toBe(12);
    expect(readCount('ab9007199254740993cd', 2, 18)).toBe(9007199254740993n);
  });

  it('is exact for every integer from 0 to 2^64, as BigInt says', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 2n ** 64n }), (value) => {
        const read = readCount(...all(value.toString()));
        if (value > INT64_MAX) expect(read).toBeUndefined();
        else expect(read).toBe(value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value);
      }),
    );
  });
});

describe('readUint and readInt (ids, sizes, ticks: plain numbers or nothing)', () => {
  it.each([
    ['0', 0],
    ['2147483647', 2147483647],
    ['9007199254740991', 9007199254740991],
    ['9007199254740992', -1], // 2^53 is not refused for being large but for no longer being exact
    ['9007199254740993', -1],
    ['18446744073709551615', -1],
    ['', -1],
    ['-1', -1],
    ['4x', -1],
  ])('readUint(%j) is %s', (text, value) => {
    expect(readUint(...all(text))).toBe(value);
  });

  it.each([
    ['-20', -20],
    ['19', 19],
    ['-9007199254740991', -9007199254740991],
    ['-9007199254740992', Number.NaN],
    ['9007199254740993', Number.NaN],
    ['-', Number.NaN],
    ['--1', Number.NaN],
    ['', Number.NaN],
    ['1-', Number.NaN],
  ])('readInt(%j) is %s', (text, value) => {
    expect(readInt(...all(text))).toBe(value);
  });

  it('never returns a number that differs from the text it read', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(2n ** 64n), max: 2n ** 64n }), (value) => {
        const read = readInt(...all(value.toString()));
        if (Number.isNaN(read)) expect(value < -BigInt(Number.MAX_SAFE_INTEGER) || value > BigInt(Number.MAX_SAFE_INTEGER)).toBe(true);
        else expect(BigInt(read)).toBe(value);
      }),
    );
  });
});

describe('toCount and multiplyCount', () => {
  it.each([
    [0n, 0],
    [9007199254740991n, 9007199254740991],
    [9007199254740992n, 9007199254740992n],
    [INT64_MAX, INT64_MAX],
    [INT64_MAX + 1n, undefined],
    [2n ** 64n - 1n, undefined],
    [-1n, undefined],
  ])('toCount(%s) is %s', (value, count) => {
    expect(toCount(value)).toBe(count);
  });

  it('multiplies kB into bytes exactly, as a number while safe and a bigint beyond, never past int64', () => {
    expect(multiplyCount(16384, 1024)).toBe(16777216);
    expect(multiplyCount(8796093022207, 1024)).toBe(9007199254739968);
    expect(multiplyCount(8796093022208, 1024)).toBe(9007199254740992n);
    expect(multiplyCount(9007199254740993n, 2)).toBe(18014398509481986n);
    expect(multiplyCount(9007199254740993n, 1024)).toBeUndefined(); // 9223372036854777856 passes int64
    expect(multiplyCount(9007199254740991n, 1024)).toBe(9223372036854774784n);
  });
});

describe('fieldEnd and skipBlanks', () => {
  it('find the end of a field and the start of the next', () => {
    const text = 'VmRSS:\t  2048 kB\nx';
    expect(skipBlanks(text, 6)).toBe(9);
    expect(fieldEnd(text, 9)).toBe(13);
    expect(fieldEnd(text, 14)).toBe(16);
    expect(fieldEnd('abc', 0)).toBe(3);
    expect(skipBlanks(' \t ', 0)).toBe(3);
  });
});

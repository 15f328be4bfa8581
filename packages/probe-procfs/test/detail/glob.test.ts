/**
 * Tests of the filter globs: what they match, that the schema pattern accepts exactly what
 * compiles, and (fast-check) that compiling never throws whatever the text.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { GLOB_PATTERN, globToRegExp } from '../../src/detail/glob.js';

describe('globToRegExp', () => {
  it.each([
    ['postgres*', 'postgres', true],
    ['postgres*', 'postgres: writer', true],
    ['postgres*', 'xpostgres', false],
    ['nginx', 'nginx', true],
    ['nginx', 'nginx2', false],
    ['kworker/?:*', 'kworker/0:1H', true],
    ['/system.slice/*', '/system.slice/docker-1.scope', true],
    ['/system.slice/*', '/user.slice/a', false],
    ['[abc]x', 'bx', true],
    ['[!abc]x', 'bx', false],
    ['[!abc]x', 'dx', true],
    ['[a-c]', 'b', true],
    ['[a-c]', 'd', false],
    ['[]a]', ']', true],
    ['[z-a]', '-', true],
    ['a.b', 'aXb', false],
    ['(sd-pam)', '(sd-pam)', true],
    ['\\*', '*', true],
    ['\\*', 'a', false],
    ['a+b|c', 'a+b|c', true],
    ['[', '[', true],
  ])('%s on %s: %s', (glob, text, matches) => {
    expect(globToRegExp(glob).test(text)).toBe(matches);
  });

  it('accepts in the schema pattern what closes its classes, and refuses what does not', () => {
    const valid = new RegExp(GLOB_PATTERN, 'u');
    for (const glob of ['postgres*', '[a-z]*', '[!x]', '[]]', '\\[', 'a]b']) expect(valid.test(glob), glob).toBe(true);
    for (const glob of ['[abc', 'a\\', '[', '[]']) expect(valid.test(glob), glob).toBe(false);
  });

  it('never throws, whatever the glob', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom('[', ']', '!', '-', '\\', '*', '?', 'a', 'z', '.', '(', '^', '$', '/', '\u00e9') }), (glob) => {
        expect(globToRegExp(glob)).toBeInstanceOf(RegExp);
      }),
      { numRuns: 2000 },
    );
  });
});

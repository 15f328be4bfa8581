// Escaping of untrusted recorded text: a table of inputs and outputs, then properties over
// arbitrary strings (control-heavy ones included): the escaped text is free of controls and
// bidi characters, a decoder recovers the input (so escaping is injective), JSON parses back.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { csvField, escapeText, hasUnsafeChar, jsonText, truncateText } from '../src/index.js';

/** What must never reach a terminal raw; written out by hand rather than taken from the module. */
const FORBIDDEN = /[\x00-\x1f\x7f-\x9f\u061c\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\u2028\u2029\ufeff]|\udb40[\udc00-\udc7f]/;
/** The same, less the line feeds that indent JSON (JSON has them only between tokens). */
const FORBIDDEN_IN_JSON = /[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\u2028\u2029\ufeff]|\udb40[\udc00-\udc7f]/;

/** Inverts escapeText; throws on a stray backslash, which escapeText never leaves. */
function unescape(text: string): string {
  return text.replace(/\\(?:([\\enrt])|x([0-9a-f]{2})|u\{([0-9a-f]+)\}|u([0-9a-f]{4})|)/g, (whole, named?: string, x?: string, astral?: string, bmp?: string) => {
    if (named !== undefined) return ({ '\\': '\\', e: '\x1b', n: '\n', r: '\r', t: '\t' } as Record<string, string>)[named]!;
    if (x !== undefined) return String.fromCharCode(parseInt(x, 16));
    if (astral !== undefined) return String.fromCodePoint(parseInt(astral, 16));
    if (bmp !== undefined) return String.fromCharCode(parseInt(bmp, 16));
    throw new Error(`stray backslash in ${JSON.stringify(whole)}`);
  });
}

const TRICKY = ['\\', 'e', 'x', 'u', '{', '}', '1', 'b', '\x1b', '\x07', '\n', '\r', '\t', '\x00', '\x7f', '\x9b', '\x85', '\u202e', '\u2066', '\u200b', '\u2028', '\ufeff', '\ud800', '\udc00', '\u{e0041}', 'é', '中', '😀'];
/** One code point anywhere in Unicode (lone surrogates included), or one of the characters escaping is about. */
const unit = fc.oneof(
  fc.constantFrom(...TRICKY),
  fc.integer({ min: 0, max: 0x10ffff }).map((code) => (code >= 0xd800 && code <= 0xdfff ? String.fromCharCode(code) : String.fromCodePoint(code))),
);
const text = fc.string({ unit, maxLength: 40 });

describe('escapeText', () => {
  it.each([
    ['plain words', 'plain words'],
    ['\x1b]0;PWNED\x07\x1b[2J', '\\e]0;PWNED\\x07\\e[2J'],
    ['\x9b31m', '\\u009b31m'],
    ['a\nb\rc\td', 'a\\nb\\rc\\td'],
    ['\x00\x01\x1f\x7f', '\\x00\\x01\\x1f\\x7f'],
    ['\x80\x85\x9f', '\\u0080\\u0085\\u009f'],
    ['C:\\temp\\x41', 'C:\\\\temp\\\\x41'],
    ['evil\u202etxt.exe', 'evil\\u202etxt.exe'],
    ['\u2066\u2067\u2068\u2069\u202a\u202b\u202c\u202d', '\\u2066\\u2067\\u2068\\u2069\\u202a\\u202b\\u202c\\u202d'],
    ['zero\u200bwidth\u200d\u200e\u200f\ufeff', 'zero\\u200bwidth\\u200d\\u200e\\u200f\\ufeff'],
    ['line\u2028para\u2029', 'line\\u2028para\\u2029'],
    ['soft\u00adhyphen', 'soft\\u00adhyphen'],
    ['tag\u{e0041}\u{e007f}', 'tag\\u{e0041}\\u{e007f}'],
    // Unassigned code points of the tag block are invisible too.
    ['tag\u{e0002}', 'tag\\u{e0002}'],
    ['lone \ud800 \udfff', 'lone \\ud800 \\udfff'],
    ['é 中文 😀 a\u0301', 'é 中文 😀 a\u0301'],
  ])('shows %j as %s', (input, shown) => {
    expect(escapeText(input)).toBe(shown);
  });

  it('leaves nothing a terminal acts on, and nothing that reorders or hides text', () => {
    fc.assert(
      fc.property(text, (input) => {
        const shown = escapeText(input);
        expect(shown).not.toMatch(FORBIDDEN);
        expect(shown.isWellFormed()).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it('is injective: every escaped text decodes back to its input', () => {
    fc.assert(
      fc.property(text, (input) => {
        expect(unescape(escapeText(input))).toBe(input);
      }),
      { numRuns: 2000 },
    );
    // Two inputs that a one-way scheme would confuse.
    expect(escapeText('\\e')).not.toBe(escapeText('\x1b'));
    expect(escapeText('\\x9b')).not.toBe(escapeText('\x9b'));
  });

  it('flags exactly the strings it would rewrite, backslashes aside', () => {
    fc.assert(
      fc.property(text, (input) => {
        expect(hasUnsafeChar(input)).toBe(escapeText(input) !== input.replace(/\\/g, '\\\\'));
      }),
    );
  });
});

describe('truncateText', () => {
  it.each([
    ['short', 10, 'short'],
    ['exactly10!', 10, 'exactly10!'],
    ['much longer than ten', 10, 'much long…'],
    // Escapes count at their shown width and are never cut in half.
    ['\x1b\x1b\x1b\x1b\x1b\x1b', 6, '\x1b\x1b…'],
    ['ab\u202ecdefghij', 8, 'ab…'],
    // A surrogate pair is one character.
    ['😀😀😀😀😀', 5, '😀😀…'],
  ])('cuts %j to %i shown characters: %j', (input, width, expected) => {
    expect(truncateText(input, width)).toBe(expected);
  });

  it('always fits the width once escaped', () => {
    fc.assert(
      fc.property(text, fc.integer({ min: 1, max: 30 }), (input, width) => {
        const cut = truncateText(input, width);
        expect(escapeText(cut).length).toBeLessThanOrEqual(width);
        expect(cut === input || input.startsWith(cut.slice(0, -1))).toBe(true);
      }),
    );
  });
});

describe('jsonText', () => {
  it.each([
    ['\x1b]0;PWNED\x07', '"\\u001b]0;PWNED\\u0007"'],
    ['\x9b31m\x7f', '"\\u009b31m\\u007f"'],
    ['a\u202eb\u2066', '"a\\u202eb\\u2066"'],
    ['\u2028\u2029\ufeff\u200b', '"\\u2028\\u2029\\ufeff\\u200b"'],
    ['tag\u{e0041}', '"tag\\udb40\\udc41"'],
    ['é 中文 😀', '"é 中文 😀"'],
  ])('writes %j as %s', (input, written) => {
    expect(jsonText(input)).toBe(written);
  });

  it('is valid JSON that parses back to the same value, with nothing raw a terminal acts on', () => {
    const value = fc.oneof(
      text,
      fc.array(text, { maxLength: 4 }),
      fc.dictionary(text, fc.oneof(text, fc.integer(), fc.constant(null)), { maxKeys: 4 }),
    );
    fc.assert(
      fc.property(value, (input) => {
        const written = jsonText(input);
        expect(written).not.toMatch(FORBIDDEN_IN_JSON);
        expect(written.isWellFormed()).toBe(true);
        expect(JSON.parse(written)).toEqual(input);
      }),
      { numRuns: 1000 },
    );
  });
});

describe('csvField', () => {
  it.each([
    ['plain', 'plain'],
    ['a,b', '"a,b"'],
    ['say "hi"', '"say ""hi"""'],
    ['two\nlines', '"two\nlines"'],
    ['\x1b[2J', '"\x1b[2J"'],
    ['\x9b31m', '"\x9b31m"'],
    ['evil\u202etxt', '"evil\u202etxt"'],
    ['back\\slash', 'back\\slash'],
  ])('keeps %j exact, quoted when it holds a control, comma, quote or line break: %j', (input, field) => {
    expect(csvField(input)).toBe(field);
  });
});

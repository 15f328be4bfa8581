/**
 * Making recorded text safe to print. Recorded data is untrusted (anyone controls their own
 * command line), so the table format shows control and invisible format characters as
 * visible escapes, JSON escapes the ones JSON.stringify leaves raw, and nothing else in the
 * CLI prints a recorded or daemon-supplied string without passing through here.
 */

/**
 * The characters never printed raw: every control (C0, DEL, C1: `\p{Cc}`), every format
 * character (bidi embeddings, overrides and isolates, zero-width characters, the BOM, soft
 * hyphen, tag characters: `\p{Cf}`), the whole tag block U+E0000–U+E007F (its unassigned
 * code points too, which are invisible as well), the line and paragraph separators, and lone
 * surrogates.
 */
const UNSAFE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}\u{e0000}-\u{e007f}]/u;

/** The same set, plus the backslash, for a single replace pass over text for people. */
const DISPLAY_UNSAFE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}\u{e0000}-\u{e007f}\\]/gu;

/**
 * What JSON.stringify leaves raw from {@link UNSAFE}: DEL and C1 (it escapes C0 and lone
 * surrogates itself, and the C0 left are the line feeds of its indentation).
 */
const JSON_UNSAFE = /[\x7f-\x9f\p{Cf}\p{Zl}\p{Zp}\u{e0000}-\u{e007f}]/gu;

const NAMED: Readonly<Record<string, string>> = { '\\': '\\\\', '\x1b': '\\e', '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** True when `text` holds a character that {@link escapeText} would rewrite (backslash aside). */
export function hasUnsafeChar(text: string): boolean {
  return UNSAFE.test(text);
}

/**
 * Text for a terminal: `\\` for a backslash, `\e \n \r \t`, `\xHH` for the other C0
 * controls and DEL, `\uHHHH` (`\u{HHHHH}` beyond the BMP) for C1 controls, format
 * characters, separators and lone surrogates. Every other character is kept, so the result is
 * printable, and distinct inputs stay distinct because every backslash starts an escape.
 */
export function escapeText(text: string): string {
  return text.replace(DISPLAY_UNSAFE, escapeChar);
}

/**
 * `text` cut so that its escaped form is at most `width` characters, the cut marked by `…`.
 * The result is still raw text (to escape when printed): the cut falls between characters,
 * never inside a surrogate pair or an escape.
 */
export function truncateText(text: string, width: number): string {
  if (escapeText(text).length <= width) return text;
  let kept = '';
  let length = 0;
  for (const char of text) {
    const shown = escapeText(char).length;
    if (length + shown > width - 1) break;
    kept += char;
    length += shown;
  }
  return `${kept}…`;
}

/**
 * JSON.stringify, then `\uHHHH` for what it leaves raw that a terminal may act on or that
 * hides or reorders text (DEL, C1 such as U+009B CSI, bidi and zero-width characters, the
 * separators). The output is still valid JSON and parses back to the same value.
 */
export function jsonText(value: unknown, indent = 2): string {
  // Those characters only occur inside JSON strings, where a \u escape means the same thing.
  return (JSON.stringify(value, null, indent) ?? 'null').replace(JSON_UNSAFE, (char) => [...utf16Units(char)].map(unicodeEscape).join(''));
}

function escapeChar(char: string): string {
  const named = NAMED[char];
  if (named !== undefined) return named;
  const code = char.codePointAt(0)!;
  if (code < 0x80) return `\\x${code.toString(16).padStart(2, '0')}`;
  if (code > 0xffff) return `\\u{${code.toString(16)}}`;
  return unicodeEscape(code);
}

function unicodeEscape(unit: number): string {
  return `\\u${unit.toString(16).padStart(4, '0')}`;
}

function* utf16Units(text: string): Generator<number> {
  for (let index = 0; index < text.length; index += 1) yield text.charCodeAt(index);
}

/**
 * Test helpers for Linux plugins' parser fuzzing (`@virtualeyes/linux/testing`, tests only):
 * a real /proc or /sys capture with random edits applied, the shape of damage a racing read or
 * an unusual kernel leaves. Needs fast-check, an optional peer dependency.
 */
import fc from 'fast-check';

/** One edit of a text: delete, insert, replace a character, truncate, or duplicate a line. */
const editOf = (alphabet: string) =>
  fc.record({
    kind: fc.constantFrom('delete', 'insert', 'replace', 'truncate', 'duplicate'),
    at: fc.nat(),
    length: fc.nat({ max: 40 }),
    text: fc.string({ unit: fc.constantFrom(...alphabet.split('')), maxLength: 12 }),
  });

/** `original` with one to five random edits applied; inserted text is drawn from `alphabet`. */
export function mutatedCapture(original: string, alphabet: string): fc.Arbitrary<string> {
  return fc.array(editOf(alphabet), { minLength: 1, maxLength: 5 }).map((edits) => {
    let text = original;
    for (const e of edits) {
      const at = text.length === 0 ? 0 : e.at % (text.length + 1);
      if (e.kind === 'delete') text = text.slice(0, at) + text.slice(at + e.length);
      else if (e.kind === 'insert') text = text.slice(0, at) + e.text + text.slice(at);
      else if (e.kind === 'replace') text = text.slice(0, at) + (e.text.charAt(0) || 'x') + text.slice(at + 1);
      else if (e.kind === 'truncate') text = text.slice(0, at);
      else {
        const start = text.lastIndexOf('\n', at) + 1;
        const end = text.indexOf('\n', at);
        text = text.slice(0, start) + text.slice(start, end < 0 ? text.length : end + 1) + text.slice(start);
      }
    }
    return text;
  });
}

/**
 * Shell-style globs for the detail filters (comm and cgroup patterns): `*` any run of characters
 * (`/` included), `?` one character, `[abc]`, `[a-z]`, `[!abc]` classes, `\` escaping the next
 * character; a glob matches the whole text. The JSON Schema pattern refuses at config time what
 * would not compile, so compiling a validated glob cannot fail.
 */

/** A JSON Schema `pattern` accepting the globs whose classes are closed and non-empty (a `]` first is a member), with no trailing backslash. */
export const GLOB_PATTERN = /^(?:[^\\[]|\\.|\[!?.[^\]]*\])*$/u.source;

/** Characters a RegExp gives a meaning to: escaped outside a class, and inside one (with `-`). */
const SPECIAL = /[.*+?^${}()|[\]\\/]/g;
const CLASS_SPECIAL = /[\]\\^[-]/g;

/** The anchored RegExp of a glob; a class left open is taken literally, as fnmatch(3) does. */
export function globToRegExp(glob: string): RegExp {
  let out = '^';
  let i = 0;
  while (i < glob.length) {
    const c = glob.charAt(i);
    if (c === '*') out += '[\\s\\S]*';
    else if (c === '?') out += '[\\s\\S]';
    else if (c === '\\' && i + 1 < glob.length) {
      i += 1;
      out += escape(glob.charAt(i));
    } else if (c === '[') {
      const close = classEnd(glob, i);
      if (close < 0) out += '\\[';
      else {
        out += classOf(glob.slice(i + 1, close));
        i = close;
      }
    } else out += escape(c);
    i += 1;
  }
  return new RegExp(`${out}$`, 'u');
}

/** Index of the `]` closing the class opened at `open`, or -1; a `]` first (after `!`) is a member. */
function classEnd(glob: string, open: number): number {
  let i = open + 1;
  if (glob.charAt(i) === '!') i += 1;
  if (glob.charAt(i) === ']') i += 1;
  const close = glob.indexOf(']', i);
  return close;
}

function classOf(body: string): string {
  const negated = body.startsWith('!');
  const members = negated ? body.slice(1) : body;
  let out = '';
  for (let i = 0; i < members.length; i += 1) {
    const c = members.charAt(i);
    // A dash between two members in order is a range; anywhere else it is a dash.
    const range = c === '-' && i > 0 && i < members.length - 1 && members.charCodeAt(i - 1) <= members.charCodeAt(i + 1);
    out += range ? '-' : c.replace(CLASS_SPECIAL, '\\$&');
  }
  return `[${negated ? '^' : ''}${out}]`;
}

function escape(c: string): string {
  return c.replace(SPECIAL, '\\$&');
}

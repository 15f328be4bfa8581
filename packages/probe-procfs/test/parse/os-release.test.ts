/**
 * Tests of the os-release parser: a real Debian file, quoting and escapes, and lines that
 * are not assignments.
 */
import { describe, expect, it } from 'vitest';
import { parseOsRelease } from '../../src/parse/os-release.js';
import { fixtureText } from '../helpers.js';

describe('parseOsRelease', () => {
  it('reads a real Debian os-release', () => {
    const parsed = parseOsRelease(fixtureText('host-a', 'step0', 'etc/os-release'));
    expect(parsed.ok && Object.fromEntries(parsed.value)).toMatchObject({
      PRETTY_NAME: 'Debian GNU/Linux 12 (bookworm)',
      ID: 'debian',
      VERSION_ID: '12',
      VERSION_CODENAME: 'bookworm',
    });
  });

  it("unquotes single and double quotes and unescapes inside double quotes", () => {
    const parsed = parseOsRelease(`# comment\n\nNAME='Fedora Linux'\nPRETTY_NAME="Say \\"hi\\" \\\\ \\$x"\nID=fedora\n`);
    expect(parsed.ok && Object.fromEntries(parsed.value)).toEqual({ NAME: 'Fedora Linux', PRETTY_NAME: 'Say "hi" \\ $x', ID: 'fedora' });
  });

  it.each([
    ['a line that is not an assignment', 'NAME=x\nhello world\n'],
    ['an unbalanced quote', 'NAME="x\n'],
    ['a bad key', '1NAME=x\n'],
  ])('returns PARSE_ERROR for %s', (_what, text) => {
    const parsed = parseOsRelease(text);
    expect(!parsed.ok && parsed.status.code).toBe('PARSE_ERROR');
  });
});

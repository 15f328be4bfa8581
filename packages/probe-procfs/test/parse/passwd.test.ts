/**
 * Tests of the /etc/passwd parser: a real Debian file, first entry winning, and the lines
 * glibc skips.
 */
import { describe, expect, it } from 'vitest';
import { parsePasswd } from '../../src/parse/passwd.js';
import { fixtureText } from '../helpers.js';

describe('parsePasswd', () => {
  it('maps every uid of a real Debian passwd to its name', () => {
    const text = fixtureText('host-a', 'step0', 'etc/passwd');
    const parsed = parsePasswd(text);
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    const entries = text.trim().split('\n').map((line) => line.split(':'));
    for (const [name, , uid] of entries) expect(parsed.value.get(Number(uid))).toBe(name);
    expect(parsed.value.get(0)).toBe('root');
    expect(parsed.value.get(65534)).toBe('nobody');
  });

  it('keeps the first name of a uid and skips comments, NIS and malformed lines', () => {
    const parsed = parsePasswd('# users\nroot:x:0:0::/root:/bin/sh\ntoor:x:0:0::/root:/bin/sh\n+::::::\n-bad::::::\nbroken\nx:y:notanumber:0::/:/bin/sh\nalice:x:1000:1000::/home/alice:/bin/sh');
    expect(parsed.ok && [...parsed.value]).toEqual([
      [0, 'root'],
      [1000, 'alice'],
    ]);
  });
});

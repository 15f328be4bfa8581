/**
 * Tests of the one-value file parser (hostname, osrelease, version, arch, boot_id,
 * machine-id) on real captures and on empty or multi-line files.
 */
import { describe, expect, it } from 'vitest';
import { parseValue } from '../../src/parse/value.js';
import { fixtureText } from '../helpers.js';

describe('parseValue', () => {
  it.each(['proc/sys/kernel/hostname', 'proc/sys/kernel/osrelease', 'proc/sys/kernel/version', 'proc/sys/kernel/arch', 'etc/machine-id'])(
    'reads %s of host-a without its newline',
    (path) => {
      const text = fixtureText('host-a', 'step0', path);
      expect(text.endsWith('\n')).toBe(true);
      expect(parseValue(text, `/${path}`)).toEqual({ ok: true, value: text.slice(0, -1) });
    },
  );

  it.each([
    ['empty', '', 'x'],
    ['blank', ' \n', 'x'],
    ['two lines', 'a\nb\n', 'x'],
  ])('returns PARSE_ERROR naming the file when %s', (_what, text, source) => {
    expect(parseValue(text, source)).toMatchObject({ ok: false, status: { code: 'PARSE_ERROR', op: `parse ${source}` } });
  });
});

/**
 * Test helpers: the fixture folder, a file reader over a fixture's /proc, and a stat line's
 * fields split the slow way (an oracle independent of the parser under test).
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createFileReader, type FileReader } from '@virtualeyes/core';

/** The fixtures folder. */
export const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');

/** The text of `proc/<path>` in fixture `name`. */
export function fixtureText(name: string, path: string): string {
  return readFileSync(join(FIXTURES, name, path), 'utf8');
}

/** A reader mapping /proc to fixture `name`'s proc folder. */
export function fixtureReader(name: string): FileReader {
  return createFileReader({ roots: { '/proc': join(FIXTURES, name, 'proc') } });
}

/** Fields of a stat line numbered as proc_pid_stat(5) numbers them (index 1 is the pid), split the slow way. */
export function statFields(text: string): string[] {
  const close = text.lastIndexOf(')');
  return ['', text.slice(0, text.indexOf(' ')), text.slice(text.indexOf('(') + 1, close), ...text.slice(close + 2).trim().split(' ')];
}

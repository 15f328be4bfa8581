import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CORE_VERSION } from '../src/index.js';

describe('CORE_VERSION', () => {
  it('equals the version in package.json (run scripts/version-gen.mjs after a release)', () => {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(CORE_VERSION).toBe(pkg.version);
  });
});

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { StatusCode } from '../src/index.js';

const doc = readFileSync(fileURLToPath(new URL('../../../docs/status-codes.md', import.meta.url)), 'utf8');
const documented = [...doc.matchAll(/^\| `([A-Z_]+)` \|(.*)\|$/gm)].map((match) => ({ code: match[1]!, cells: match[2]!.split(' | ') }));

describe('docs/status-codes.md', () => {
  it('has exactly one row per StatusCode, in code order', () => {
    expect(documented.map((row) => row.code)).toEqual(Object.values(StatusCode));
  });

  it('fills meaning, cause and remedy for every code', () => {
    for (const row of documented) {
      expect(row.cells.length, row.code).toBe(3);
      for (const cell of row.cells) expect(cell.trim().length, row.code).toBeGreaterThan(0);
    }
  });
});

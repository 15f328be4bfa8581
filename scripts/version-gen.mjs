#!/usr/bin/env node
// Rewrites each package's src/version.ts from its package.json after `changeset version`,
// so the version a package reports at run time is the one it was published as.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('../packages', import.meta.url).pathname;
for (const name of readdirSync(root)) {
  const file = join(root, name, 'src/version.ts');
  if (!existsSync(file)) continue;
  const { version } = JSON.parse(readFileSync(join(root, name, 'package.json'), 'utf8'));
  const text = readFileSync(file, 'utf8');
  const next = text.replace(/= '[^']*';/, `= '${version}';`);
  if (next !== text) {
    writeFileSync(file, next);
    console.log(`${name}: ${version}`);
  }
}

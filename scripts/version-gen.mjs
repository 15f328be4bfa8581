#!/usr/bin/env node
// Writes what each package says about itself at run time from its package.json, so it is
// never typed by hand and never stale: src/version.ts (the version) where a package has one,
// and, for a plugin that declares `"virtualeyes": { "identity": "src/identity.ts" }`, that file
// (package name, version, and the @virtualeyes/core range of its peerDependencies) for the
// plugin kit's manifest. Run by `npm run build` and after `changeset version`.
// Usage: node scripts/version-gen.mjs [dir ...]   (folders of packages, relative to the repository;
// default packages/; prints what it changed)
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const repository = new URL('..', import.meta.url).pathname;
const roots = process.argv.length > 2 ? process.argv.slice(2).map((dir) => resolve(repository, dir)) : [join(repository, 'packages')];

/** The generated identity module of a plugin package. */
function identitySource(pkg) {
  const coreRange = pkg.peerDependencies?.['@virtualeyes/core'] ?? pkg.dependencies?.['@virtualeyes/core'];
  if (coreRange === undefined) throw new Error(`${pkg.name}: no @virtualeyes/core in peerDependencies`);
  return [
    '/**',
    ` * Who this plugin is, for the plugin kit's manifest: generated from package.json by`,
    ' * scripts/version-gen.mjs at every build and after `changeset version`. Do not edit.',
    ' */',
    "import type { PluginIdentity } from '@virtualeyes/core';",
    '',
    `/** ${pkg.name} as its package.json describes it. */`,
    'export const identity: PluginIdentity = {',
    `  packageName: ${JSON.stringify(pkg.name).replaceAll('"', "'")},`,
    `  version: ${JSON.stringify(pkg.version).replaceAll('"', "'")},`,
    `  coreRange: ${JSON.stringify(coreRange).replaceAll('"', "'")},`,
    '};',
    '',
  ].join('\n');
}

const write = (file, next, label) => {
  const text = existsSync(file) ? readFileSync(file, 'utf8') : undefined;
  if (next === text) return;
  writeFileSync(file, next);
  console.log(label);
};

for (const name of roots.flatMap((root) => readdirSync(root).map((entry) => join(root, entry)))) {
  const manifestFile = join(name, 'package.json');
  if (!existsSync(manifestFile)) continue;
  const pkg = JSON.parse(readFileSync(manifestFile, 'utf8'));
  const versionFile = join(name, 'src/version.ts');
  if (existsSync(versionFile)) {
    const text = readFileSync(versionFile, 'utf8');
    write(versionFile, text.replace(/= '[^']*';/, `= '${pkg.version}';`), `${pkg.name}: version ${pkg.version}`);
  }
  const identityPath = pkg.virtualeyes?.identity;
  if (typeof identityPath === 'string') write(join(name, identityPath), identitySource(pkg), `${pkg.name}: identity ${pkg.version}`);
}

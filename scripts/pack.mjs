#!/usr/bin/env node
/**
 * Builds one installable tarball of the daemon, the CLI and the default plugins, for
 * `npm install -g ./virtualeyes-host-<version>.tgz` on a machine with no copy of this repository:
 * it puts `vwatchd` and `virtualeyes` on PATH. The workspace packages are not on the npm registry
 * yet, so each is packed (`npm pack`) and the host package bundles them with their third-party
 * dependencies (bundleDependencies): installing it needs no registry. Run after `npm run build`
 * (`npm run pack` does both). Usage: node scripts/pack.mjs [OUT_DIR] (default: dist/).
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const out = resolve(process.argv[2] ?? join(root, 'dist'));
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const run = (args, cwd) => execFileSync(npm, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });

/** The packages a host runs: the daemon, the CLI, the default probe and sink, and what they build on. */
const PACKAGES = ['core', 'linux', 'protocol', 'agent', 'sink-duckdb', 'probe-procfs', 'probe-perf', 'vwatchd', 'virtualeyes'];

const work = mkdtempSync(join(tmpdir(), 'virtualeyes-pack-'));
try {
  const manifests = PACKAGES.map((name) => JSON.parse(readFileSync(join(root, 'packages', name, 'package.json'), 'utf8')));
  const dependencies = {};
  for (const [index, name] of PACKAGES.entries()) {
    process.stderr.write(`packing ${manifests[index].name}@${manifests[index].version}\n`);
    const [packed] = JSON.parse(run(['pack', '--json', '--pack-destination', work], join(root, 'packages', name)));
    dependencies[manifests[index].name] = `file:${join(work, packed.filename)}`;
  }
  const version = manifests.find((manifest) => manifest.name === '@virtualeyes/vwatchd').version;
  const host = join(work, 'host');
  mkdirSync(join(host, 'bin'), { recursive: true });
  // Each launcher runs the bundled package's own, so the two stay one program each.
  for (const [bin, pkg] of [['vwatchd', '@virtualeyes/vwatchd'], ['virtualeyes', '@virtualeyes/virtualeyes']]) {
    const file = join(host, 'bin', `${bin}.js`);
    writeFileSync(
      file,
      `#!/usr/bin/env node\n// ${bin}, as the bundled ${pkg} ships it.\nimport { createRequire } from 'node:module';\nimport { dirname, join } from 'node:path';\nimport { pathToFileURL } from 'node:url';\n\nconst require = createRequire(import.meta.url);\nawait import(pathToFileURL(join(dirname(require.resolve('${pkg}/package.json')), 'bin', '${bin}.js')).href);\n`,
    );
    chmodSync(file, 0o755);
  }
  writeFileSync(
    join(host, 'package.json'),
    `${JSON.stringify(
      {
        name: '@virtualeyes/host',
        version,
        description: 'vwatchd and virtualeyes with the default plugins (probe-procfs, probe-perf, sink-duckdb), in one installable package.',
        type: 'module',
        license: 'Apache-2.0',
        engines: { node: '>=20.19' },
        bin: { vwatchd: 'bin/vwatchd.js', virtualeyes: 'bin/virtualeyes.js' },
        files: ['bin'],
        dependencies,
        bundleDependencies: Object.keys(dependencies),
      },
      null,
      2,
    )}\n`,
  );
  process.stderr.write('installing the bundle (third-party dependencies from the registry)\n');
  run(['install', '--omit=dev', '--no-audit', '--no-fund', '--ignore-scripts'], host);
  const [packed] = JSON.parse(run(['pack', '--json', '--pack-destination', work], host));
  mkdirSync(out, { recursive: true });
  renameSync(join(work, packed.filename), join(out, packed.filename));
  process.stdout.write(`${join(out, packed.filename)}\n`);
  process.stderr.write(`install it with: npm install -g ${join(out, packed.filename)}\n`);
} finally {
  rmSync(work, { recursive: true, force: true });
}

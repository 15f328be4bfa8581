// A plugin's identity comes from its package.json, never from hand-written constants: after
// `changeset version` bumps a plugin, scripts/version-gen.mjs (run by every build) rewrites its
// src/identity.ts, and the boot tree the loader prints shows the new version. A scratch
// workspace with one kit-built plugin, the real changesets CLI and the real loader.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { afterAll, describe, expect, it } from 'vitest';
import { CORE_VERSION } from '@virtualeyes/core';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), 've-identity-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const run = (command: string, args: string[]): string => execFileSync(command, args, { cwd: scratch, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

/** The plugin's entry: the kit builds its manifest from the generated identity. */
const ENTRY = `import { defineProbe } from '@virtualeyes/core';
import { identity } from './src/identity.mjs';
export const { manifest, createProbe } = defineProbe({
  identity,
  name: 'hello',
  description: 'Says hello.',
  configSchema: { type: 'object', additionalProperties: false, properties: {} },
  tables: [{ name: 'hello', kind: 'metric', description: 'Hello.', key: [], defaultIntervalMs: 1000, columns: [{ name: 'n', type: 'int64', description: 'N.' }] }],
  platforms: { any: () => ({ ok: true, value: { collect: () => ({ batches: [], errors: [] }) } }) },
});
`;

/** Compiles the generated identity.ts as the package's build would. */
function buildIdentity(dir: string): void {
  const source = readFileSync(join(dir, 'src/identity.ts'), 'utf8');
  const { outputText } = ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } });
  writeFileSync(join(dir, 'src/identity.mjs'), outputText);
}

/** What a freshly started agent prints: a new Node process loads the plugin through the real loader (core's and agent's builds). */
const BOOT = `import { CORE_VERSION, createOptionsValidator } from '@virtualeyes/core';
import { formatBootTree, loadPlugins } from '@virtualeyes/agent';
import { createTestDeps } from '@virtualeyes/core/testing';
const report = await loadPlugins([{ use: '@example/probe-hello' }], [], {
  resolveFrom: [process.cwd()], coreVersion: CORE_VERSION, validator: createOptionsValidator(),
  depsFor: (name) => createTestDeps({ name }), monotonic: () => 0,
});
process.stdout.write(formatBootTree('agent', report));
`;

function bootTree(): string {
  writeFileSync(join(scratch, 'boot.mjs'), BOOT);
  return run(process.execPath, [join(scratch, 'boot.mjs')]);
}

describe('plugin identity', () => {
  it('follows package.json through changeset version and the build into the boot tree', () => {
    const plugin = join(scratch, 'packages/probe-hello');
    mkdirSync(join(plugin, 'src'), { recursive: true });
    mkdirSync(join(scratch, '.changeset'));
    mkdirSync(join(scratch, 'node_modules/@virtualeyes'), { recursive: true });
    mkdirSync(join(scratch, 'node_modules/@example'), { recursive: true });
    symlinkSync(join(root, 'packages/core'), join(scratch, 'node_modules/@virtualeyes/core'));
    symlinkSync(join(root, 'packages/agent'), join(scratch, 'node_modules/@virtualeyes/agent'));
    symlinkSync(plugin, join(scratch, 'node_modules/@example/probe-hello'));
    writeFileSync(join(scratch, 'package.json'), JSON.stringify({ name: 'scratch', private: true, workspaces: ['packages/*'] }));
    writeFileSync(join(scratch, '.changeset/config.json'), readFileSync(join(root, '.changeset/config.json')));
    writeFileSync(
      join(plugin, 'package.json'),
      JSON.stringify({
        name: '@example/probe-hello',
        version: '1.0.0',
        type: 'module',
        exports: { '.': './index.mjs', './package.json': './package.json' },
        peerDependencies: { '@virtualeyes/core': `^${CORE_VERSION}` },
        virtualeyes: { identity: 'src/identity.ts' },
      }),
    );
    writeFileSync(join(plugin, 'index.mjs'), ENTRY);
    const generate = (): string => run(process.execPath, [join(root, 'scripts/version-gen.mjs'), join(scratch, 'packages')]);

    expect(generate()).toContain('@example/probe-hello: identity 1.0.0');
    buildIdentity(plugin);
    expect(bootTree()).toMatch(/probe hello \(@example\/probe-hello@1\.0\.0\) \d+ ms/);

    writeFileSync(join(scratch, '.changeset/hello-fix.md'), "---\n'@example/probe-hello': minor\n---\n\nSays hello louder.\n");
    run(process.execPath, [join(root, 'node_modules/@changesets/cli/bin.js'), 'version']);
    expect(JSON.parse(readFileSync(join(plugin, 'package.json'), 'utf8'))).toMatchObject({ version: '1.1.0' });
    expect(generate()).toContain('@example/probe-hello: identity 1.1.0');
    expect(generate()).toBe(''); // nothing left to change
    buildIdentity(plugin);
    expect(bootTree()).toMatch(/probe hello \(@example\/probe-hello@1\.1\.0\) \d+ ms/);
    expect(readFileSync(join(plugin, 'src/identity.ts'), 'utf8')).toContain(`coreRange: '^${CORE_VERSION}'`);
  });
});

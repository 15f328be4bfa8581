// The dependency rule of DESIGN.md as the workspace lint enforces it: a plugin's source may
// import core and linux, never the runtime (@virtualeyes/agent), awilix or another plugin,
// and core's own source imports neither the runtime nor its libraries. Real ESLint with the
// workspace config and Nx's project graph, linting text as if it were each package's source.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const eslint = new ESLint({ cwd: root });

/** The boundary messages ESLint gives `code` as the source file `file` (relative to the root). */
async function boundaryErrors(file: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: `${root}${file}` });
  return (result?.messages ?? []).filter((message) => message.ruleId === '@nx/enforce-module-boundaries').map((message) => message.message);
}

const importing = (what: string, name: string): string => `import { ${name} } from '${what}';\nexport const x = ${name};\n`;

describe('dependency boundaries', () => {
  it.each([
    ['packages/probe-procfs/src/index.ts', '@virtualeyes/agent', 'createAgent', /can only depend on libs tagged with "type:core", "type:linux"/],
    ['packages/probe-procfs/src/index.ts', 'awilix', 'createContainer', /not allowed to import "awilix"/],
    ['packages/probe-procfs/src/index.ts', '@virtualeyes/probe-perf', 'TABLES', /can only depend on libs tagged/],
    ['packages/probe-perf/src/index.ts', '@virtualeyes/sink-duckdb', 'createSink', /can only depend on libs tagged/],
    ['packages/sink-duckdb/src/index.ts', '@virtualeyes/agent', 'createAgent', /can only depend on libs tagged/],
    ['packages/sink-duckdb/src/index.ts', '@virtualeyes/protocol', 'ApiRoute', /can only depend on libs tagged/],
    ['examples/probe-hello/src/index.ts', '@virtualeyes/agent', 'createAgent', /can only depend on libs tagged/],
    ['examples/probe-hello/src/index.ts', 'awilix', 'asValue', /not allowed to import "awilix"/],
    ['packages/linux/src/index.ts', '@virtualeyes/agent', 'createAgent', /can only depend on libs tagged with "type:core"/],
    ['packages/core/src/index.ts', '@virtualeyes/agent', 'createAgent', /Circular dependency between "@virtualeyes\/core" and "@virtualeyes\/agent"/],
    ['packages/core/src/index.ts', 'semver', 'satisfies', /not allowed to import "semver"/],
    ['packages/core/src/index.ts', 'awilix', 'asValue', /not allowed to import "awilix"/],
  ])('%s may not import %s', async (file, what, name, message) => {
    const errors = await boundaryErrors(file, importing(what, name));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(message);
  });

  it.each([
    ['packages/probe-procfs/src/index.ts', '@virtualeyes/core', 'ok'],
    ['packages/probe-procfs/src/index.ts', '@virtualeyes/linux', 'parsePidStat'],
    ['examples/probe-hello/src/index.ts', '@virtualeyes/core', 'defineProbe'],
    ['packages/vwatchd/src/index.ts', '@virtualeyes/agent', 'createAgent'],
    ['packages/virtualeyes/src/index.ts', '@virtualeyes/protocol', 'ApiRoute'],
  ])('%s may import %s', async (file, what, name) => {
    expect(await boundaryErrors(file, importing(what, name))).toEqual([]);
  });

  it("keeps awilix and semver out of core's package.json", () => {
    const manifest = JSON.parse(readFileSync(`${root}packages/core/package.json`, 'utf8')) as Record<string, Record<string, string> | undefined>;
    for (const field of ['dependencies', 'peerDependencies', 'optionalDependencies']) {
      expect(Object.keys(manifest[field] ?? {})).not.toContain('awilix');
      expect(Object.keys(manifest[field] ?? {})).not.toContain('semver');
    }
  });
});

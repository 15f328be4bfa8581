#!/usr/bin/env node
// Generates the documentation blocks that must never drift from code: each plugin README's
// Configuration and Tables sections (from its manifest and sample config), docs/tables.md,
// the host config reference in docs/configuration.md, and vwatchd.schema.json.
// `--check` writes nothing and fails (exit 1) naming every stale file. Needs a build.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const root = new URL('..', import.meta.url).pathname;
const check = process.argv.includes('--check');
const stale = [];

const protocol = await import(pathToFileURL(join(root, 'packages/protocol/dist/index.js')).href);

/** Replaces the text between the BEGIN/END GENERATED markers named `name`. */
function fill(text, name, body, file) {
  const begin = `<!-- BEGIN GENERATED: ${name} -->`;
  const end = `<!-- END GENERATED: ${name} -->`;
  const start = text.indexOf(begin);
  const stop = text.indexOf(end);
  if (start === -1 || stop === -1) {
    console.error(`${file}: missing ${begin} / ${end} markers`);
    process.exitCode = 1;
    return text;
  }
  return `${text.slice(0, start + begin.length)}\n${body.trim()}\n${text.slice(stop)}`;
}

function write(file, text) {
  const current = existsSync(file) ? readFileSync(file, 'utf8') : '';
  if (current === text) return;
  if (check) stale.push(file.slice(root.length));
  else writeFileSync(file, text);
}

const escape = (text) => String(text ?? '').replace(/\|/g, '\\|').replace(/\n/g, ' ');
const seconds = (ms) => (ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`);

/** A table of the properties of an object schema, recursing into nested objects. */
function optionsTable(schema, prefix = '') {
  const rows = [];
  const walk = (node, path) => {
    for (const [key, prop] of Object.entries(node.properties ?? {})) {
      if (key === '$schema') continue;
      const name = path === '' ? key : `${path}.${key}`;
      const type = prop.enum ? prop.enum.map((v) => JSON.stringify(v)).join(' \\| ') : prop.type === 'array' ? `${prop.items?.type ?? 'any'}[]` : prop.type ?? 'any';
      const def = prop.default === undefined || (typeof prop.default === 'object' && Object.keys(prop.default).length === 0 && !Array.isArray(prop.default)) ? '' : `\`${JSON.stringify(prop.default)}\``;
      rows.push(`| \`${prefix}${name}\` | ${escape(type)} | ${def} | ${escape(prop.description)} |`);
      if (prop.type === 'object' && prop.properties) walk(prop, name);
    }
  };
  walk(schema, '');
  return ['| Option | Type | Default | Description |', '| --- | --- | --- | --- |', ...rows].join('\n');
}

function tablesDoc(manifest, level = '###') {
  return manifest.tables
    .map((table) => {
      const every = table.defaultIntervalMs === undefined ? 'pushed' : `every ${seconds(table.defaultIntervalMs)} by default`;
      const added = table.kind === 'state' ? ['`host`', '`valid_from`', '`valid_to`'] : ['`host`', '`ts`'];
      return [
        `${level} \`${table.name}\` (${table.kind}, ${every})`,
        '',
        table.description,
        '',
        `Key: ${table.key.length === 0 ? 'none (one row per host)' : table.key.map((k) => `\`${k}\``).join(', ')}. The store adds ${added.join(', ')}.`,
        '',
        '| Column | Type | Unit | Description |',
        '| --- | --- | --- | --- |',
        ...table.columns.map((c) => `| \`${c.name}\` | ${c.type}${c.nullable ? ' (nullable)' : ''}${c.counter ? ', counter' : ''} | ${escape(c.unit ?? '')} | ${escape(c.description)} |`),
      ].join('\n');
    })
    .join('\n\n');
}

const plugins = [];
for (const name of readdirSync(join(root, 'packages')).sort()) {
  const dir = join(root, 'packages', name);
  const dist = join(dir, 'dist/index.js');
  if (!existsSync(dist)) continue;
  const mod = await import(pathToFileURL(dist).href);
  if (mod.manifest === undefined) continue;
  plugins.push(mod.manifest);
  const readme = join(dir, 'README.md');
  if (!existsSync(readme)) {
    console.error(`packages/${name}: no README.md`);
    process.exitCode = 1;
    continue;
  }
  let text = readFileSync(readme, 'utf8');
  const sample = join(dir, 'sample.config.json');
  const sampleBlock = existsSync(sample) ? `Sample (\`sample.config.json\`, every option at its default):\n\n\`\`\`json\n${readFileSync(sample, 'utf8').trim()}\n\`\`\`\n\n` : '';
  text = fill(text, 'config', `${sampleBlock}${optionsTable(mod.manifest.configSchema, 'options.')}`, readme);
  if (mod.manifest.tables.length > 0) text = fill(text, 'tables', tablesDoc(mod.manifest), readme);
  write(readme, text);
}

// docs/tables.md: every table of every probe in the workspace.
const tablesFile = join(root, 'docs/tables.md');
if (existsSync(tablesFile)) {
  const body = plugins
    .filter((m) => m.tables.length > 0)
    .map((m) => `## ${m.packageName}\n\n${tablesDoc(m)}`)
    .join('\n\n');
  write(tablesFile, fill(readFileSync(tablesFile, 'utf8'), 'tables', body, tablesFile));
}

// docs/configuration.md and the shipped JSON Schema of /etc/vwatchd.conf.
const configFile = join(root, 'docs/configuration.md');
if (existsSync(configFile)) {
  write(configFile, fill(readFileSync(configFile, 'utf8'), 'host-config', optionsTable(protocol.HOST_CONFIG_SCHEMA), configFile));
}
// docs/writing-a-probe.md shows the tested example probe, as it is.
const guideFile = join(root, 'docs/writing-a-probe.md');
if (existsSync(guideFile)) {
  const example = readFileSync(join(root, 'examples/probe-hello/src/index.ts'), 'utf8');
  write(guideFile, fill(readFileSync(guideFile, 'utf8'), 'probe-hello', `\`\`\`ts\n${example.trim()}\n\`\`\``, guideFile));
}
const schemaFile = join(root, 'packages/vwatchd/vwatchd.schema.json');
write(schemaFile, `${JSON.stringify({ $schema: 'https://json-schema.org/draft/2020-12/schema', ...protocol.HOST_CONFIG_SCHEMA }, null, 2)}\n`);

if (stale.length > 0) {
  console.error(`Generated docs are stale; run \`npm run docs:gen\` and commit:\n  ${stale.join('\n  ')}`);
  process.exitCode = 1;
} else if (check) {
  console.log('Generated docs are up to date.');
}

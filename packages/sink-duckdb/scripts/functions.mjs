// Prints every function of the installed DuckDB with its decision in src/functions.ts (allowed,
// refused, or NEW when undecided), and the decided names DuckDB no longer has (GONE), so a
// maintainer can review them after a DuckDB upgrade. Exits 1 when anything is NEW or GONE.
// Build first (`npx tsc -b`), then: node packages/sink-duckdb/scripts/functions.mjs [--new]
import { DuckDBInstance } from '@duckdb/node-api';
import { ALLOWED_FUNCTIONS, ALLOWED_TABLE_FUNCTIONS, REFUSED_FUNCTIONS } from '../dist/functions.js';

const onlyNew = process.argv.includes('--new');
// The store opens its instances without extension autoloading: the same functions exist here.
const instance = await DuckDBInstance.create(':memory:', {
  enable_external_access: 'false',
  autoinstall_known_extensions: 'false',
  autoload_known_extensions: 'false',
});
const connection = await instance.connect();
const reader = await connection.runAndReadAll(
  `SELECT function_name, string_agg(DISTINCT function_type, ',' ORDER BY function_type), bool_or(has_side_effects),
          min(schema_name), any_value(left(replace(coalesce(description, macro_definition, ''), chr(10), ' '), 100))
   FROM duckdb_functions() GROUP BY function_name ORDER BY function_name`,
);
const allowed = new Set(ALLOWED_FUNCTIONS);
const refused = new Set(REFUSED_FUNCTIONS);
const tables = new Set(ALLOWED_TABLE_FUNCTIONS);
const seen = new Set();
let undecided = 0;
for (const [name, types, sideEffects, schema, about] of reader.getRowsJS()) {
  seen.add(name);
  const decision = allowed.has(name) ? (tables.has(name) ? 'allowed+from' : 'allowed') : refused.has(name) ? 'refused' : 'NEW';
  if (decision === 'NEW') undecided += 1;
  if (onlyNew && decision !== 'NEW') continue;
  console.log([decision, name, types, sideEffects ? 'side-effects' : '', schema, about].join('\t'));
}
const gone = [...allowed, ...refused].filter((name) => !seen.has(name));
for (const name of gone) console.log(['GONE', name].join('\t'));
console.error(`${seen.size} functions: ${undecided} NEW, ${gone.length} GONE (decide them in packages/sink-duckdb/src/functions.ts)`);
connection.disconnectSync();
instance.closeSync();
process.exitCode = undecided > 0 || gone.length > 0 ? 1 : 0;

/**
 * The gate of the query surface: a query passes only if DuckDB's own parser, through
 * `json_serialize_sql`, expresses it as one SELECT made solely of known node kinds, calling only
 * allowed functions (functions.ts) and reading only recorded tables or CTEs in scope. It runs on
 * the parse alone, so a refused query never reaches binding.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { fail, fromPromise, fromThrowable, StatusCode, type Status } from '@virtualeyes/core';
import { STORE_NAME } from './config.js';
import { classifyDuckDbError } from './errors.js';
import { ALLOWED_FUNCTIONS, ALLOWED_TABLE_FUNCTIONS } from './functions.js';
import { TIERS_SCHEMA } from './layout.js';
import { HISTORY_SCHEMA, META_SCHEMA } from './sql.js';

/** The message of every refused non-SELECT or multi-statement query. */
export const ONLY_SELECT = 'only one read-only SELECT statement is allowed';

/** The message of a query with `$1`, `?` or `$name` parameters. */
export const NO_PARAMETERS = 'query parameters ($1, ?) are not supported';

/** The store's own tables a query may read besides the recorded ones, as `vw_meta.<name>`. */
export const META_TABLES: readonly string[] = ['retention', 'samples', 'sessions', 'tables', 'tiers'];

/** A tier table's name, `<recorded table>_<seconds>s`, as a query may read it in `vw_tiers`. */
const TIER_NAME = /^(.+)_\d+s$/;

/** JSON as `json_serialize_sql` produces it. */
type Json = null | boolean | number | string | readonly Json[] | { readonly [key: string]: Json };

/** A JSON object. */
type Node = { readonly [key: string]: Json };

/** Expression classes and, for each, the expression types a query may use. */
const EXPRESSIONS: Readonly<Record<string, readonly string[]>> = {
  BETWEEN: ['COMPARE_BETWEEN'],
  CASE: ['CASE_EXPR'],
  CAST: ['OPERATOR_CAST'],
  COLLATE: ['COLLATE'],
  COLUMN_REF: ['COLUMN_REF'],
  COMPARISON: [
    'COMPARE_EQUAL',
    'COMPARE_NOTEQUAL',
    'COMPARE_LESSTHAN',
    'COMPARE_GREATERTHAN',
    'COMPARE_LESSTHANOREQUALTO',
    'COMPARE_GREATERTHANOREQUALTO',
    'COMPARE_DISTINCT_FROM',
    'COMPARE_NOT_DISTINCT_FROM',
  ],
  CONJUNCTION: ['CONJUNCTION_AND', 'CONJUNCTION_OR'],
  CONSTANT: ['VALUE_CONSTANT'],
  FUNCTION: ['FUNCTION'],
  LAMBDA: ['LAMBDA'],
  OPERATOR: [
    'OPERATOR_NOT',
    'OPERATOR_IS_NULL',
    'OPERATOR_IS_NOT_NULL',
    'OPERATOR_COALESCE',
    'OPERATOR_TRY',
    'OPERATOR_UNPACK',
    'COMPARE_IN',
    'COMPARE_NOT_IN',
    'ARRAY_EXTRACT',
    'ARRAY_SLICE',
    'ARRAY_CONSTRUCTOR',
    'STRUCT_EXTRACT',
    'GROUPING_FUNCTION',
  ],
  POSITIONAL_REFERENCE: ['POSITIONAL_REFERENCE'],
  STAR: ['STAR'],
  SUBQUERY: ['SUBQUERY'],
  // A type name in a cast, with its modifiers (`DECIMAL(10, 2)`), in the newest serialization format.
  TYPE: ['TYPE'],
  WINDOW: [
    'WINDOW_AGGREGATE',
    'WINDOW_ROW_NUMBER',
    'WINDOW_RANK',
    'WINDOW_RANK_DENSE',
    'WINDOW_PERCENT_RANK',
    'WINDOW_CUME_DIST',
    'WINDOW_NTILE',
    'WINDOW_FIRST_VALUE',
    'WINDOW_LAST_VALUE',
    'WINDOW_NTH_VALUE',
    'WINDOW_LEAD',
    'WINDOW_LAG',
    'WINDOW_FILL',
  ],
};

/** Query nodes, table references, result modifiers, ORDER BY terms and type details a query may contain. */
const NODE_TYPES: ReadonlySet<string> = new Set([
  'SELECT_NODE',
  'SET_OPERATION_NODE',
  'RECURSIVE_CTE_NODE',
  'BASE_TABLE',
  'SUBQUERY',
  'JOIN',
  'EXPRESSION_LIST',
  'TABLE_FUNCTION',
  'EMPTY',
  'SHOW_REF',
  'ORDER_MODIFIER',
  'LIMIT_MODIFIER',
  'LIMIT_PERCENT_MODIFIER',
  'DISTINCT_MODIFIER',
  'ORDER_DEFAULT',
  'ASCENDING',
  'DESCENDING',
  'ARRAY_TYPE_INFO',
  'DECIMAL_TYPE_INFO',
  'GENERIC_TYPE_INFO',
  'LIST_TYPE_INFO',
  'STRUCT_TYPE_INFO',
  'UNBOUND_TYPE_INFO',
]);

/**
 * Untagged objects, by their sorted field names: statement wrappers, CTE entries, CASE arms,
 * types, samples, qualified EXCLUDE entries, map and struct entries.
 */
const PLAIN_SHAPES: ReadonlySet<string> = new Set([
  'named_param_map,node',
  'map',
  'key,value',
  'aliases,key_targets,materialized,query',
  'id,type_info',
  'then_expr,when_expr',
  'is_percentage,method,sample_size,seed',
  'catalog,column,schema,table',
  'first,second',
]);

/**
 * SQL value functions: DuckDB binds a bare column name like these to the function when no column
 * has the name (`SELECT current_schema`), so such a column reference is checked as that call.
 */
const VALUE_FUNCTIONS: Readonly<Record<string, string>> = {
  current_catalog: 'current_catalog',
  current_date: 'current_date',
  current_role: 'current_role',
  current_schema: 'current_schema',
  current_time: 'get_current_time',
  current_timestamp: 'get_current_timestamp',
  current_user: 'current_user',
  localtime: 'current_localtime',
  localtimestamp: 'current_localtimestamp',
  session_user: 'session_user',
  user: 'user',
};

/** DESCRIBE and SUMMARIZE of a query (checked like any other); SHOW TABLES and the like are not. */
const SHOW_TYPES: ReadonlySet<string> = new Set(['DESCRIBE', 'SUMMARY']);

/** Deeper JSON than DuckDB's own expression depth limit (1000) produces: refused, so the walk stays bounded. */
const MAX_DEPTH = 6000;

const FUNCTIONS: ReadonlySet<string> = new Set(ALLOWED_FUNCTIONS.map((name) => name.toLowerCase()));
const TABLE_FUNCTIONS: ReadonlySet<string> = new Set(ALLOWED_TABLE_FUNCTIONS.map((name) => name.toLowerCase()));
const META: ReadonlySet<string> = new Set(META_TABLES);

/** What the walk knows at a point of the tree. */
interface Context {
  /** Recorded table names, lower case. */
  readonly recorded: ReadonlySet<string>;
  /** Views a query names bare only (the `<table>_rates` views), lower case: not in `history` and without tiers. */
  readonly views: ReadonlySet<string>;
  /** CTE names in scope here, lower case. */
  readonly ctes: ReadonlySet<string>;
  /** JSON nesting so far. */
  readonly depth: number;
}

/**
 * Checks `sql` against the allow-list; undefined when it may run. `recordedTables` may be named
 * bare or in `history` and have tiers in `vw_tiers`; `views` (the rates views) only bare. Refusals
 * are INVALID_ARGUMENT naming the refused thing, from `source`; a failure of DuckDB itself is
 * classified. Never rejects.
 */
export async function checkQuery(
  connection: DuckDBConnection,
  sql: string,
  recordedTables: ReadonlySet<string>,
  source: string = STORE_NAME,
  views: ReadonlySet<string> = new Set(),
): Promise<Status | undefined> {
  const serialized = await fromPromise(connection.runAndReadAll('SELECT json_serialize_sql($1::VARCHAR)', [sql]), (error) =>
    classifyDuckDbError(error, 'query', source),
  );
  if (!serialized.ok) return serialized.status;
  const text = serialized.value.getRowsJS()[0]?.[0];
  const parsed = fromThrowable(
    () => JSON.parse(String(text)) as Json,
    () => invalid('the query cannot be checked: DuckDB did not serialize it', source),
  );
  if (!parsed.ok) return parsed.status;
  const lower = (names: ReadonlySet<string>): ReadonlySet<string> => new Set([...names].map((name) => name.toLowerCase()));
  const refusal = checkSerialized(parsed.value, lower(recordedTables), lower(views));
  return refusal === undefined ? undefined : invalid(refusal, source);
}

/** The refusal for one `json_serialize_sql` answer, or undefined. */
function checkSerialized(answer: Json, recorded: ReadonlySet<string>, views: ReadonlySet<string>): string | undefined {
  if (!isNode(answer)) return 'the query cannot be checked: DuckDB did not serialize it';
  if (answer['error'] === true) {
    const message = firstLine(typeof answer['error_message'] === 'string' ? answer['error_message'] : 'unknown error');
    if (answer['error_type'] === 'parser') return `Parser Error: ${message}`;
    // The serializer's refusal of any other statement, and the transformer's of `RESET ALL`.
    if (message.includes('Only SELECT') || message.includes('SET or RESET')) return ONLY_SELECT;
    // A SELECT the serializer cannot express cannot be checked, so it does not run.
    return `the query cannot be checked: ${message}`;
  }
  const statements = answer['statements'];
  if (!Array.isArray(statements) || statements.length !== 1) return ONLY_SELECT;
  const statement: Json = statements[0] ?? null;
  if (!isNode(statement)) return ONLY_SELECT;
  const parameters = statement['named_param_map'];
  if (Array.isArray(parameters) && parameters.length > 0) return NO_PARAMETERS;
  return visit(statement, { recorded, views, ctes: new Set(), depth: 0 });
}

/** Walks every field of `value`; each object must be a known kind, and some kinds have rules. */
function visit(value: Json, context: Context): string | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  if (context.depth > MAX_DEPTH) return 'the query is nested too deeply to be checked';
  const inner = { ...context, depth: context.depth + 1 };
  if (Array.isArray(value)) {
    for (const item of value as readonly Json[]) {
      const refusal = visit(item, inner);
      if (refusal !== undefined) return refusal;
    }
    return undefined;
  }
  const node = value as Node;
  if (typeof node['class'] === 'string') return visitExpression(node, node['class'], inner);
  if (typeof node['type'] === 'string') return visitTyped(node, node['type'], inner);
  // A DuckDB Value (a constant, a sample size) is data, never a node: nothing in it runs.
  if (typeof node['is_null'] === 'boolean' && isNode(node['type'] ?? null)) return undefined;
  const shape = Object.keys(node).sort().join(',');
  if (!PLAIN_SHAPES.has(shape)) return `the query construct (${shape}) is not allowed in queries`;
  return visitFields(node, inner);
}

function visitExpression(node: Node, expressionClass: string, context: Context): string | undefined {
  const type = String(node['type']);
  if (expressionClass === 'PARAMETER') return NO_PARAMETERS;
  if (!(EXPRESSIONS[expressionClass] ?? []).includes(type)) return `the expression ${expressionClass} ${type} is not allowed in queries`;
  if (expressionClass === 'CONSTANT') return undefined; // Its value is data.
  if (expressionClass === 'FUNCTION' || expressionClass === 'WINDOW') {
    const refusal = checkFunction(node, FUNCTIONS);
    if (refusal !== undefined) return refusal;
  }
  if (expressionClass === 'COLUMN_REF') {
    const names = node['column_names'];
    const called = Array.isArray(names) && names.length === 1 ? VALUE_FUNCTIONS[String(names[0]).toLowerCase()] : undefined;
    if (called !== undefined && !FUNCTIONS.has(called)) return `function ${called} is not allowed in queries`;
  }
  return visitFields(node, context);
}

function visitTyped(node: Node, type: string, context: Context): string | undefined {
  if (type === 'PIVOT') return 'PIVOT and UNPIVOT are not allowed in queries';
  if (!NODE_TYPES.has(type)) return `${type} is not allowed in queries`;
  switch (type) {
    case 'SELECT_NODE':
    case 'SET_OPERATION_NODE':
    case 'RECURSIVE_CTE_NODE':
      return visitQueryNode(node, type, context);
    case 'BASE_TABLE':
      return checkTable(node, context) ?? visitFields(node, context);
    case 'TABLE_FUNCTION': {
      const call = node['function'] ?? null;
      if (!isNode(call) || call['class'] !== 'FUNCTION') return 'a table function that is not a function call is not allowed in queries';
      return checkFunction(call, TABLE_FUNCTIONS) ?? visitFields(node, context);
    }
    case 'SHOW_REF': {
      const query = node['query'] ?? null;
      if (!SHOW_TYPES.has(String(node['show_type'])) || node['table_name'] !== '' || query === null) return 'SHOW is not allowed in queries';
      return visitFields(node, context);
    }
    default:
      return visitFields(node, context);
  }
}

/**
 * A query node with its WITH clause: CTE i sees the CTEs before it (DuckDB binds a
 * non-recursive CTE's own name, and a recursive one's anchor, to the catalog), the rest of the
 * node sees them all; a recursive CTE's name is in scope in its recursive term only.
 */
function visitQueryNode(node: Node, type: string, context: Context): string | undefined {
  const ctes = new Set(context.ctes);
  const entries = isNode(node['cte_map'] ?? null) ? (node['cte_map'] as Node)['map'] : [];
  if (!Array.isArray(entries)) return 'the query construct (cte_map) is not allowed in queries';
  for (const entry of entries as readonly Json[]) {
    if (!isNode(entry) || typeof entry['key'] !== 'string' || Object.keys(entry).sort().join(',') !== 'key,value') {
      return 'the query construct (cte_map) is not allowed in queries';
    }
    const refusal = visit(entry['value'] ?? null, { ...context, ctes: new Set(ctes) });
    if (refusal !== undefined) return refusal;
    ctes.add(entry['key'].toLowerCase());
  }
  const body = { ...context, ctes };
  for (const [key, field] of Object.entries(node)) {
    if (key === 'cte_map') continue;
    const recursive = type === 'RECURSIVE_CTE_NODE' && key === 'right' && typeof node['cte_name'] === 'string';
    const scope = recursive ? { ...body, ctes: new Set([...ctes, String(node['cte_name']).toLowerCase()]) } : body;
    const refusal = visit(field, scope);
    if (refusal !== undefined) return refusal;
  }
  return undefined;
}

function visitFields(node: Node, context: Context): string | undefined {
  for (const field of Object.values(node)) {
    const refusal = visit(field, context);
    if (refusal !== undefined) return refusal;
  }
  return undefined;
}

/**
 * A function call: its name must be allowed, unqualified or qualified by `main` / `system.main`
 * only (`x.lower()`, DuckDB's method-call syntax, parses as schema `x` and is refused too).
 */
function checkFunction(node: Node, allowed: ReadonlySet<string>): string | undefined {
  const name = String(node['function_name'] ?? '');
  const schema = String(node['schema'] ?? '');
  const catalog = String(node['catalog'] ?? '');
  const qualified = [catalog, schema, name].filter((part) => part !== '').join('.');
  const qualifierOk = ['', 'system'].includes(catalog.toLowerCase()) && ['', 'main'].includes(schema.toLowerCase());
  return qualifierOk && allowed.has(name.toLowerCase()) ? undefined : `function ${qualified} is not allowed in queries`;
}

/** A table must be a recorded table (bare or in `history`), a tier of one in `vw_tiers`, a rates view (bare), one of {@link META_TABLES} in `vw_meta`, or a CTE in scope. */
function checkTable(node: Node, context: Context): string | undefined {
  const name = String(node['table_name'] ?? '');
  const schema = String(node['schema_name'] ?? '');
  const catalog = String(node['catalog_name'] ?? '');
  const table = name.toLowerCase();
  if (catalog === '') {
    const where = schema.toLowerCase();
    if (where === '' && (context.ctes.has(table) || context.recorded.has(table) || context.views.has(table))) return undefined;
    if (where === HISTORY_SCHEMA && context.recorded.has(table)) return undefined;
    if (where === META_SCHEMA && META.has(table)) return undefined;
    if (where === TIERS_SCHEMA && context.recorded.has(TIER_NAME.exec(table)?.[1] ?? '')) return undefined;
  }
  return `table ${[catalog, schema, name].filter((part) => part !== '').join('.')} is not a recorded table`;
}

function isNode(value: Json): value is Node {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function firstLine(message: string): string {
  return message.split('\n')[0]?.trim() ?? message;
}

function invalid(message: string, source: string): Status {
  return fail(StatusCode.INVALID_ARGUMENT, message, { source, op: 'query' });
}

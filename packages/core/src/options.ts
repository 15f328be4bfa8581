/**
 * Validation of configuration against JSON Schema (ajv), with defaults applied and every
 * error naming the JSON path of the offending value, e.g. `$.probes[0].options.procRoot`.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import type { JsonSchema } from './plugin.js';
import { err, fail, ok, statusFromError, StatusCode, type Result } from './status.js';

/** Validates values against schemas, caching compiled schemas per validator instance. */
export interface OptionsValidator {
  /**
   * Returns a copy of `value` with schema defaults applied, or INVALID_CONFIG whose message
   * starts with the JSON path below `basePath` (`$` by default).
   */
  validate<T>(schema: JsonSchema, value: unknown, basePath?: string): Result<T>;
}

/** Creates a validator owning its own ajv instance. */
export function createOptionsValidator(): OptionsValidator {
  const ajv = new Ajv({ useDefaults: true, allErrors: false, strict: false, coerceTypes: false });
  const compiled = new WeakMap<JsonSchema, ValidateFunction>();
  return {
    validate<T>(schema: JsonSchema, value: unknown, basePath = '$'): Result<T> {
      let check = compiled.get(schema);
      if (check === undefined) {
        try {
          check = ajv.compile(schema as Record<string, unknown>);
        } catch (error) {
          return err(statusFromError(error, { code: StatusCode.INTERNAL, op: 'compile config schema' }));
        }
        compiled.set(schema, check);
      }
      const copy: unknown = value === undefined ? {} : structuredClone(value);
      if (check(copy)) return ok(copy as T);
      const first = check.errors?.[0];
      const message = first === undefined ? `${basePath}: invalid` : describeError(first, basePath);
      return err(fail(StatusCode.INVALID_CONFIG, message, { op: 'validate config', retryable: false }));
    },
  };
}

/** Validates once with a throwaway validator; for a plugin's own `parseConfig`. */
export function validateOptions<T>(schema: JsonSchema, value: unknown, basePath = '$'): Result<T> {
  return createOptionsValidator().validate<T>(schema, value, basePath);
}

/** Turns ajv's `/a/0/b` instance path into `$.a[0].b` and adds the failing property. */
export function jsonPath(basePath: string, instancePath: string, property?: string): string {
  const parts = instancePath === '' ? [] : instancePath.slice(1).split('/');
  if (property !== undefined) parts.push(property);
  let path = basePath;
  for (const raw of parts) {
    const part = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    path += /^\d+$/.test(part) ? `[${part}]` : /^[A-Za-z_$][\w$]*$/.test(part) ? `.${part}` : `[${JSON.stringify(part)}]`;
  }
  return path;
}

function describeError(error: ErrorObject, basePath: string): string {
  const params = error.params as { missingProperty?: string; additionalProperty?: string; allowedValues?: unknown[] };
  if (error.keyword === 'required' && params.missingProperty !== undefined) {
    return `${jsonPath(basePath, error.instancePath, params.missingProperty)}: is required`;
  }
  if (error.keyword === 'additionalProperties' && params.additionalProperty !== undefined) {
    return `${jsonPath(basePath, error.instancePath, params.additionalProperty)}: is not a known option`;
  }
  if (error.keyword === 'enum' && params.allowedValues !== undefined) {
    return `${jsonPath(basePath, error.instancePath)}: must be one of ${params.allowedValues.map((v) => JSON.stringify(v)).join(', ')}`;
  }
  return `${jsonPath(basePath, error.instancePath)}: ${error.message ?? 'is invalid'}`;
}

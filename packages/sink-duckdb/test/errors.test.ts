// classifyDuckDbError: DuckDB's error classes (as they prefix messages) map to Status codes,
// and messages lose the caret excerpt but keep everything else on one line.
import { describe, expect, it } from 'vitest';
import { classifyDuckDbError } from '../src/index.js';

describe('classifyDuckDbError', () => {
  it.each([
    ['Parser Error: syntax error at or near "SELEC"', 'INVALID_ARGUMENT'],
    ['Failed to extract statements: Parser Error: syntax error at end of input', 'INVALID_ARGUMENT'],
    ['Binder Error: Referenced column "ts" not found in FROM clause!', 'INVALID_ARGUMENT'],
    ['Catalog Error: Table with name nope does not exist!', 'INVALID_ARGUMENT'],
    ['Conversion Error: Could not convert string \'x\' to INT32', 'INVALID_ARGUMENT'],
    ['Invalid Input Error: Values were not provided for prepared statement parameters', 'INVALID_ARGUMENT'],
    ['bigint out of int64 range', 'INVALID_ARGUMENT'],
    ['processes: number is not an integer', 'INVALID_ARGUMENT'],
    ['processes: input is not a string', 'INVALID_ARGUMENT'],
    ['processes: Cannot convert abc to a BigInt', 'INVALID_ARGUMENT'],
    ['os: The number NaN cannot be converted to a BigInt because it is not an integer', 'INVALID_ARGUMENT'],
    ['processes: Do not know how to serialize a BigInt', 'INVALID_ARGUMENT'],
    ['INTERRUPT Error: Interrupted!', 'TIMEOUT'],
    ['IO Error: Could not set lock on file "/x.db": Conflicting lock is held in /usr/bin/node (PID 1)', 'UNAVAILABLE'],
    ['IO Error: Cannot open database "/x.db" in read-only mode: database does not exist', 'NOT_FOUND'],
    ['IO Error: Cannot open file "/x.db": Permission denied', 'PERMISSION_DENIED'],
    ['IO Error: Could not write file "/x.db.wal": No space left on device', 'UNAVAILABLE'],
    ['Permission Error: Cannot access file "/etc/passwd" - file system operations are disabled by configuration', 'PERMISSION_DENIED'],
    ['Out of Memory Error: could not allocate block of size 256.0 KiB (1.0 GiB/1.0 GiB used)', 'UNAVAILABLE'],
    ['TransactionContext Error: Catalog write-write conflict on alter with "x"', 'UNAVAILABLE'],
    ['FATAL Error: Failed: database has been invalidated', 'INTERNAL'],
    ['INTERNAL Error: Attempted to access index 3 within vector of size 3', 'INTERNAL'],
    ['something else entirely', 'INTERNAL'],
  ])('%s → %s', (message, code) => {
    const status = classifyDuckDbError(new Error(message), 'query');
    expect(status.code).toBe(code);
    expect(status).toMatchObject({ source: 'duckdb', op: 'query', message });
    expect(status.retryable).toBe(code === 'UNAVAILABLE' || code === 'TIMEOUT');
  });

  it('drops the LINE excerpt and caret, keeps the rest on one line', () => {
    const error = new Error('Binder Error: Referenced column "nope" not found in FROM clause!\nCandidate bindings: "comm"\n\nLINE 1: SELECT nope FROM p\n               ^');
    expect(classifyDuckDbError(error, 'query').message).toBe('Binder Error: Referenced column "nope" not found in FROM clause! Candidate bindings: "comm"');
  });

  it('classifies values that are not errors', () => {
    expect(classifyDuckDbError('Parser Error: x', 'query').code).toBe('INVALID_ARGUMENT');
    expect(classifyDuckDbError(undefined, 'query').code).toBe('INTERNAL');
  });
});

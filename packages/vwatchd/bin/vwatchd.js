#!/usr/bin/env -S node --max-semi-space-size=1
// Launcher for the `vwatchd` command: loads the compiled program, or says how to build it
// when run from a source checkout that has not been built yet. It is CommonJS (bin/package.json)
// so it runs before Node's thread pool starts: the pool's size is fixed at its first use, and
// the ES module loader would use it to read this very file. Queries and the store's writer
// each hold a pool thread while DuckDB works, so the daemon asks for more than Node's 4.
// The first line bounds V8's young generation to 1 MB semi-spaces: by default it grows to 32 MB
// while a large answer is built and V8 never gives that back, so the daemon stayed 40 MB above
// its working set after heavy queries; the bound cost no CPU measurably (docs/benchmarks.md).
// Run as `node bin/vwatchd.js`, pass the flag yourself, as the repository's `npm run vwatchd` does.
'use strict';

/** Thread pool size: the store's default 2 concurrent queries, its writer, and room for file I/O. */
const THREAD_POOL_SIZE = '8';

if (process.env.UV_THREADPOOL_SIZE === undefined) process.env.UV_THREADPOOL_SIZE = THREAD_POOL_SIZE;

import('../dist/bin.js').catch((error) => {
  if (error?.code === 'ERR_MODULE_NOT_FOUND' && String(error.message).includes('dist/bin.js')) {
    process.stderr.write('vwatchd: not built yet; run `npm run build` in the repository first\n');
    process.exit(1);
  }
  throw error;
});

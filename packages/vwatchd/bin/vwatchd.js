#!/usr/bin/env node
// Launcher for the `vwatchd` command: loads the compiled program, or says how to build it
// when run from a source checkout that has not been built yet.
import('../dist/bin.js').catch((error) => {
  if (error?.code === 'ERR_MODULE_NOT_FOUND' && String(error.message).includes('dist/bin.js')) {
    process.stderr.write('vwatchd: not built yet; run `npm run build` in the repository first\n');
    process.exit(1);
  }
  throw error;
});

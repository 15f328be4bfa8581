/**
 * Entry point of the `virtualeyes` command; the work is in cli.ts. The exit code is set
 * rather than forced so pending output reaches a pipe before the process ends.
 */
import { runCli } from './cli.js';

void runCli(process.argv).then((code) => {
  process.exitCode = code;
});

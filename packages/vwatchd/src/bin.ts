/**
 * Entry point of the `vwatchd` command. All work is in daemon.ts; this file only maps the
 * outcome to the process exit code.
 */
import { runDaemon } from './daemon.js';

void runDaemon(process.argv).then((code) => {
  process.exit(code);
});

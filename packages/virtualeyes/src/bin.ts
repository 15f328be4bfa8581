/**
 * Entry point of the `virtualeyes` command; the work is in cli.ts. The exit code is set
 * rather than forced so pending output reaches a pipe before the process ends. A reader that
 * closes the pipe early (`virtualeyes top -b | head`) ends the command quietly, as it would
 * end `ps`, rather than with a stack trace; any other failure to write exits 1.
 */
import { runCli } from './cli.js';

for (const stream of [process.stdout, process.stderr]) {
  // Output that cannot be written (a closed pipe, a full disk) ends the command: 0 after EPIPE, else 1.
  stream.on('error', (error: NodeJS.ErrnoException) => {
    process.exit(error.code === 'EPIPE' ? (process.exitCode ?? 0) : 1);
  });
}

void runCli(process.argv).then((code) => {
  process.exitCode = code;
});

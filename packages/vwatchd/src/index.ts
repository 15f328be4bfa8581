/**
 * @virtualeyes/vwatchd: the recording daemon, usable as a library for embedding or testing.
 */
export { runDaemon, ExitCode } from './daemon.js';
export { MAX_BODY_BYTES, SOCKET_MODE, socketAnswers, startApiServer } from './api.js';
export type { ApiDeps, ApiServer } from './api.js';
export { VERSION } from './version.js';

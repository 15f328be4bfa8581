/**
 * @virtualeyes/vwatchd: the recording daemon, usable as a library for embedding or testing.
 */
export { runDaemon, ExitCode } from './daemon.js';
export { HTTP_UNAUTHORIZED, MAX_BODY_BYTES, SOCKET_MODE, socketAnswers, startApiServer } from './api.js';
export type { ApiDeps, ApiServer, TcpListenOptions } from './api.js';
export { loadApiToken, MIN_TOKEN_LENGTH, TOKEN_BYTES, TOKEN_FILE_MODE } from './token.js';
export type { ApiToken, LoadedToken, TokenOptions } from './token.js';
export { VERSION } from './version.js';

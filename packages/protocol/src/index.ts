/**
 * @virtualeyes/protocol: what vwatchd and the virtualeyes CLI agree on. Where the config file
 * is and how it loads, the API socket and TCP listener, the routes and the JSON they carry,
 * and a StoreReader that asks a running daemon over its socket or its TCP listener.
 */
export {
  DEFAULT_CONFIG_PATH,
  DEFAULT_PROBES,
  DEFAULT_SINKS,
  DEFAULT_TCP_HOST,
  HOST_CONFIG_SCHEMA,
  isLoopback,
  loadHostConfig,
  SOCKET_NAME,
  TOKEN_FILE_NAME,
} from './host-config.js';
export type { ApiConfig, ConfigOverrides, HostConfig, TcpApiConfig } from './host-config.js';
export {
  ApiRoute,
  httpStatusOf,
  QUERY_REQUEST_SCHEMA,
  SAMPLES_REQUEST_SCHEMA,
  SLICE_PLAN_REQUEST_SCHEMA,
  SLICE_REQUEST_SCHEMA,
  STATES_REQUEST_SCHEMA,
  VERSIONS_REQUEST_SCHEMA,
} from './api.js';
export { BUSY_RETRIES, callDaemon, createDaemonClient } from './client.js';
export { MIN_TOKEN_LENGTH, readTokenFile, TOKEN_FILE_MODE } from './token.js';
export type { ReadTokenOptions } from './token.js';
export type { DaemonClient, DaemonEndpoint, DaemonTarget } from './client.js';
export type { DaemonMemory, DaemonStatus } from './api.js';

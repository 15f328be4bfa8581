/**
 * @virtualeyes/protocol: what vwatchd and the virtualeyes CLI agree on. Where the config file
 * is and how it loads, the API socket, the routes and the JSON they carry, and a StoreReader
 * that asks a running daemon over its socket.
 */
export {
  DEFAULT_CONFIG_PATH,
  DEFAULT_PROBES,
  DEFAULT_SINKS,
  HOST_CONFIG_SCHEMA,
  loadHostConfig,
  SOCKET_NAME,
} from './host-config.js';
export type { ApiConfig, ConfigOverrides, HostConfig } from './host-config.js';
export { ApiRoute, httpStatusOf, QUERY_REQUEST_SCHEMA, SAMPLES_REQUEST_SCHEMA, STATES_REQUEST_SCHEMA, VERSIONS_REQUEST_SCHEMA } from './api.js';
export { BUSY_RETRIES, callDaemon, createDaemonClient } from './client.js';
export type { DaemonClient } from './client.js';
export type { DaemonMemory, DaemonStatus } from './api.js';

/**
 * How the CLI reaches the recording: through the running daemon's Unix socket, or, when no
 * daemon answers, by opening the store itself read-only (the store package named in the
 * host config, sink-duckdb by default, loaded through the agent's loader). Either way the CLI
 * holds a StoreReader and asks it the same questions.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openStoreReader } from '@virtualeyes/agent';
import {
  CORE_VERSION,
  createLogger,
  createOptionsValidator,
  createSystemClock,
  err,
  fail,
  formatStatus,
  isOk,
  ok,
  StatusCode,
  type Result,
  type StoreReader,
} from '@virtualeyes/core';
import { ApiRoute, callDaemon, createDaemonClient, readTokenFile, TOKEN_FILE_NAME, type DaemonClient, type DaemonEndpoint, type HostConfig } from '@virtualeyes/protocol';

/** What the CLI reads through: a running daemon (which can also report its status), or the store file. */
export type Connection = { readonly kind: 'daemon'; readonly reader: DaemonClient } | { readonly kind: 'offline'; readonly reader: StoreReader };

/** Opens the first sink of the host config that can read its store, read-only, through the loader (core range, platform and options checked). */
export function openOfflineReader(config: HostConfig): Promise<Result<StoreReader>> {
  return openStoreReader(config.agent.sinks, {
    resolveFrom: [process.cwd(), dirname(fileURLToPath(import.meta.url))],
    coreVersion: CORE_VERSION,
    validator: createOptionsValidator(),
    deps: { clock: createSystemClock(), logger: createLogger({ level: 'warn', name: 'virtualeyes' }), dataDir: config.agent.dataDir },
  });
}

/** Connects to the daemon if its socket answers, else opens the store read-only. */
export async function connect(config: HostConfig): Promise<Result<Connection>> {
  const health = await callDaemon<{ ok: boolean }>(config.api.socket, 'GET', ApiRoute.HEALTH, undefined, 2000);
  if (health.ok) return ok({ kind: 'daemon', reader: createDaemonClient(config.api.socket) });
  if (health.status.code === StatusCode.PERMISSION_DENIED) {
    // The socket and the data directory are private to the daemon's user and group by design.
    return err(
      fail(StatusCode.PERMISSION_DENIED, `permission denied on ${config.api.socket}: only vwatchd's user and group may query it; run as one of them or join its group`, {
        op: 'connect',
      }),
    );
  }
  const reader = await openOfflineReader(config);
  if (reader.ok) return ok({ kind: 'offline', reader: reader.value });
  // Say both why the daemon did not answer and why the file could not be opened.
  const daemon = health.status.code === StatusCode.NOT_FOUND || health.status.code === StatusCode.UNAVAILABLE ? `vwatchd is not running (no answer on ${config.api.socket})` : formatStatus(health.status);
  const status = reader.status;
  return err(isOk(status) ? status : { ...status, message: `${daemon}; ${status.message}` });
}

/**
 * Connects to a daemon's TCP listener at `endpoint.url` with its bearer token. There is no
 * store file to fall back on at the other end of a URL: a daemon that does not answer, or
 * refuses the token, is the answer.
 */
export async function connectRemote(endpoint: DaemonEndpoint): Promise<Result<Connection>> {
  const health = await callDaemon<{ ok: boolean }>(endpoint, 'GET', ApiRoute.HEALTH, undefined, 5000);
  if (health.ok) return ok({ kind: 'daemon', reader: createDaemonClient(endpoint) });
  if (health.status.code === StatusCode.PERMISSION_DENIED) {
    return err(fail(StatusCode.PERMISSION_DENIED, `vwatchd at ${endpoint.url} refused the token: use the content of its api.tcp.tokenFile (--token-file)`, { op: 'connect' }));
  }
  return err({ ...health.status, message: `vwatchd at ${endpoint.url} did not answer: ${health.status.message}` });
}

/**
 * Connects to the TCP listener at `url` with the token in `tokenFile`, by default the host
 * config's `api.tcp.tokenFile`, else the data directory's token file. INVALID_CONFIG for a
 * missing or loose token file: the token is never taken from the command line, where `ps` shows it.
 */
export async function connectUrl(url: string, tokenFile: string | undefined, config: HostConfig): Promise<Result<Connection>> {
  const path = tokenFile ?? config.api.tcp?.tokenFile ?? join(config.agent.dataDir, TOKEN_FILE_NAME);
  const token = readTokenFile(path, { setting: '--token-file' });
  if (!token.ok) return token;
  if (token.value === undefined) {
    return err(fail(StatusCode.INVALID_CONFIG, `no token file at ${path}: pass --token-file with a copy (mode 0600) of the daemon's api.tcp.tokenFile`, { op: 'connect' }));
  }
  return connectRemote({ url, token: token.value });
}

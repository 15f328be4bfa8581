/**
 * How the CLI reaches the recording: through the running daemon's Unix socket, or, when no
 * daemon answers, by opening the store itself read-only (the store package named in the
 * host config, sink-duckdb by default, loaded through the agent's loader). Either way the CLI
 * holds a StoreReader and asks it the same questions.
 */
import { dirname } from 'node:path';
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
import { ApiRoute, callDaemon, createDaemonClient, type DaemonClient, type HostConfig } from '@virtualeyes/protocol';

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

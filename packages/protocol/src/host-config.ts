/**
 * The host configuration file, `/etc/vwatchd.conf` (JSON) or `--config FILE`: the agent
 * config plus `api` and `log`. The daemon records by it and the CLI reads it to find the data
 * directory, socket and store. With no file: probe-procfs into sink-duckdb. Errors name the
 * file and JSON path; `api.tcp` must bind loopback unless `allowRemote`, which a check adds.
 */
import { readFileSync } from 'node:fs';
import { BlockList, isIP } from 'node:net';
import { join } from 'node:path';
import { AGENT_CONFIG_SCHEMA, defaultDataDir, type AgentConfig, type PluginSpec } from '@virtualeyes/agent';
import { classifyErrno, createOptionsValidator, err, fail, LogLevel, messageOf, ok, StatusCode, type JsonSchema, type Result } from '@virtualeyes/core';

/** Where the daemon looks for its config when `--config` is not given. */
export const DEFAULT_CONFIG_PATH = '/etc/vwatchd.conf';

/** Probes loaded when the config does not list any. */
export const DEFAULT_PROBES: readonly PluginSpec[] = [{ use: '@virtualeyes/probe-procfs' }];

/** Sinks loaded when the config does not list any. */
export const DEFAULT_SINKS: readonly PluginSpec[] = [{ use: '@virtualeyes/sink-duckdb' }];

/** File name of the local API socket inside the data directory. */
export const SOCKET_NAME = 'vwatchd.sock';

/** File name of the TCP listener's bearer token inside the data directory, when `api.tcp.tokenFile` is absent. */
export const TOKEN_FILE_NAME = 'vwatchd.token';

/** Address the TCP listener binds when `api.tcp.host` is absent: loopback only. */
export const DEFAULT_TCP_HOST = '127.0.0.1';

/** Settings of the optional TCP listener (HTTP with a bearer token). */
export interface TcpApiConfig {
  /** Address to bind; a loopback address unless {@link TcpApiConfig.allowRemote}. */
  readonly host: string;
  /** Port to bind; 0 lets the kernel pick a free one. */
  readonly port: number;
  /** File holding the bearer token (a regular file, mode 0600 or stricter, owned by the daemon's user). */
  readonly tokenFile: string;
  /** True when the operator explicitly allowed a non-loopback `host`. */
  readonly allowRemote: boolean;
}

/** Settings of the local API. */
export interface ApiConfig {
  /** Path of the Unix socket (mode 0660); defaults to `<dataDir>/vwatchd.sock`. */
  readonly socket: string;
  /** The TCP listener, when the config turns it on. */
  readonly tcp?: TcpApiConfig;
}

/** The host configuration after defaults and command-line overrides. */
export interface HostConfig {
  /** What createAgent receives. */
  readonly agent: AgentConfig;
  /** Local API. */
  readonly api: ApiConfig;
  /** Lowest log level written to stderr. */
  readonly logLevel: LogLevel;
  /** Where the config came from: a file path or 'defaults'. */
  readonly source: string;
}

const agentProperties = (AGENT_CONFIG_SCHEMA as { properties: Record<string, JsonSchema> }).properties;

/**
 * The daemon writes what it collected every 5 s, not every sample: one transaction and one
 * appender per table for five samples spends a third of the CPU of five (docs/benchmarks.md), and
 * a SIGKILL loses at most those 5 s (a stop writes everything). The agent's own default is 0.
 */
export const DAEMON_WRITE_WINDOW_MS = 5000;

/** The agent's buffer schema with the daemon's write window as its default. */
function daemonBuffer(schema: JsonSchema): JsonSchema {
  const properties = (schema as { properties: Record<string, JsonSchema> }).properties;
  return { ...schema, properties: { ...properties, writeWindowMs: { ...properties['writeWindowMs'], default: DAEMON_WRITE_WINDOW_MS } } };
}

/** JSON Schema of `/etc/vwatchd.conf`; `vwatchd.schema.json` is generated from it. */
export const HOST_CONFIG_SCHEMA: JsonSchema = Object.freeze({
  $id: 'https://virtualeyes.dev/schemas/vwatchd.schema.json',
  title: 'vwatchd configuration',
  description: 'Configuration of the vwatchd recording daemon (/etc/vwatchd.conf).',
  type: 'object',
  additionalProperties: false,
  properties: {
    $schema: { type: 'string', description: 'Optional pointer to this schema, for editors.' },
    ...agentProperties,
    dataDir: { type: 'string', minLength: 1, description: 'Directory for the store and the socket; /var/lib/vwatchd as root, $XDG_STATE_HOME/vwatchd otherwise.' },
    probes: { ...agentProperties['probes'], default: DEFAULT_PROBES, description: 'Probes to load; procfs when absent.' },
    sinks: { ...agentProperties['sinks'], default: DEFAULT_SINKS, description: 'Sinks to load; duckdb when absent.' },
    buffer: daemonBuffer(agentProperties['buffer']!),
    api: {
      type: 'object',
      additionalProperties: false,
      default: {},
      description: 'The local query API.',
      properties: {
        socket: { type: 'string', minLength: 1, description: 'Unix socket path (mode 0660); <dataDir>/vwatchd.sock when absent.' },
        tcp: {
          type: 'object',
          additionalProperties: false,
          required: ['port'],
          description: 'An HTTP listener on TCP serving the same API, every request with `Authorization: Bearer <token>`; off when absent.',
          properties: {
            host: {
              type: 'string',
              minLength: 1,
              maxLength: 255,
              default: DEFAULT_TCP_HOST,
              description: 'Address to bind. Anything but a loopback address (127.0.0.0/8, ::1, localhost) is refused unless allowRemote is true.',
            },
            port: { type: 'integer', minimum: 0, maximum: 65535, description: 'Port to bind; 0 picks a free one (logged, and in GET /v1/status as tcp).' },
            tokenFile: {
              type: 'string',
              minLength: 1,
              description:
                'File holding the bearer token: a regular file of mode 0600 or stricter owned by the daemon user; generated (32 random bytes, base64url) when missing. <dataDir>/vwatchd.token when absent.',
            },
            allowRemote: { type: 'boolean', default: false, description: 'Allow a non-loopback host: the API (command lines of every process) is then reachable from other machines.' },
          },
        },
      },
    },
    log: {
      type: 'object',
      additionalProperties: false,
      default: {},
      description: 'Logging to stderr.',
      properties: {
        level: { enum: Object.values(LogLevel), default: 'info', description: 'Lowest level written.' },
      },
    },
  },
});

/** What the command line may override. */
export interface ConfigOverrides {
  /** `--config FILE`; when absent DEFAULT_CONFIG_PATH is used if it exists. */
  readonly configPath?: string;
  /** `--data-dir DIR`. */
  readonly dataDir?: string;
  /** `--socket PATH`. */
  readonly socket?: string;
  /** `--log-level LEVEL`. */
  readonly logLevel?: string;
}

interface RawHostConfig {
  readonly dataDir?: string;
  readonly host?: string;
  readonly probes: PluginSpec[];
  readonly sinks: PluginSpec[];
  readonly scheduler: AgentConfig['scheduler'];
  readonly buffer: AgentConfig['buffer'];
  readonly roots?: AgentConfig['roots'];
  readonly api: { readonly socket?: string; readonly tcp?: { readonly host: string; readonly port: number; readonly tokenFile?: string; readonly allowRemote: boolean } };
  readonly log: { readonly level: LogLevel };
}

/** Reads and validates the host config; INVALID_CONFIG names the file and JSON path. */
export function loadHostConfig(overrides: ConfigOverrides = {}, defaultPath = DEFAULT_CONFIG_PATH): Result<HostConfig> {
  const explicit = overrides.configPath !== undefined;
  const path = overrides.configPath ?? defaultPath;
  let raw: unknown = {};
  let source = 'defaults';
  let text: string | undefined;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const status = classifyErrno(error, `read ${path}`, 'config');
    if (explicit || status.code !== StatusCode.NOT_FOUND) {
      return err(fail(StatusCode.INVALID_CONFIG, `cannot read config ${path}: ${status.message}`, { op: 'config', cause: error }));
    }
  }
  if (text !== undefined) {
    source = path;
    try {
      raw = JSON.parse(text) as unknown;
    } catch (error) {
      return err(fail(StatusCode.INVALID_CONFIG, `${path}: not valid JSON: ${messageOf(error)}`, { op: 'config' }));
    }
  }
  const validated = createOptionsValidator().validate<RawHostConfig>(HOST_CONFIG_SCHEMA, raw);
  if (!validated.ok) {
    return err(fail(StatusCode.INVALID_CONFIG, `${source === 'defaults' ? 'config' : source}: ${validated.status.message}`, { op: 'config' }));
  }
  const value = validated.value;
  const tcp = value.api.tcp;
  if (tcp !== undefined && !tcp.allowRemote && !isLoopback(tcp.host)) {
    return err(
      fail(
        StatusCode.INVALID_CONFIG,
        `${source === 'defaults' ? 'config' : source}: $.api.tcp.host: ${tcp.host} is not a loopback address (127.0.0.0/8, ::1, localhost); ` +
          'set $.api.tcp.allowRemote to true to serve the API to other machines',
        { op: 'config' },
      ),
    );
  }
  if (overrides.logLevel !== undefined && !(Object.values(LogLevel) as string[]).includes(overrides.logLevel)) {
    return err(fail(StatusCode.INVALID_CONFIG, `--log-level must be one of ${Object.values(LogLevel).join(', ')}`, { op: 'config' }));
  }
  const dataDir = overrides.dataDir ?? value.dataDir ?? defaultDataDir();
  const agent: AgentConfig = {
    dataDir,
    probes: value.probes,
    sinks: value.sinks,
    scheduler: value.scheduler,
    buffer: value.buffer,
    ...(value.roots === undefined ? {} : { roots: value.roots }),
    ...(value.host === undefined ? {} : { host: value.host }),
  };
  return ok({
    agent,
    api: {
      socket: overrides.socket ?? value.api.socket ?? join(dataDir, SOCKET_NAME),
      ...(tcp === undefined ? {} : { tcp: { host: tcp.host, port: tcp.port, tokenFile: tcp.tokenFile ?? join(dataDir, TOKEN_FILE_NAME), allowRemote: tcp.allowRemote } }),
    },
    logLevel: (overrides.logLevel as LogLevel | undefined) ?? value.log.level,
    source,
  });
}

/**
 * True for an address only this machine can reach: `localhost`, 127.0.0.0/8 (IPv4-mapped
 * IPv6 spellings included) and `::1` however written. Any other name counts as remote, since
 * what it resolves to can change.
 */
export function isLoopback(host: string): boolean {
  if (host.toLowerCase() === 'localhost') return true;
  const family = isIP(host);
  if (family === 0) return false;
  const loopback = new BlockList();
  loopback.addSubnet('127.0.0.0', 8, 'ipv4');
  loopback.addAddress('::1', 'ipv6');
  return loopback.check(host, family === 4 ? 'ipv4' : 'ipv6');
}

/**
 * The host configuration file, `/etc/vwatchd.conf` (JSON) or `--config FILE`: the agent
 * config plus `api` and `log`. The daemon records by it and the CLI reads it to find the data
 * directory, socket and store. With no file: probe-procfs into sink-duckdb. Every error
 * names the file and the JSON path.
 */
import { readFileSync } from 'node:fs';
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

/** Settings of the local API. */
export interface ApiConfig {
  /** Path of the Unix socket (mode 0660); defaults to `<dataDir>/vwatchd.sock`. */
  readonly socket: string;
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
    api: {
      type: 'object',
      additionalProperties: false,
      default: {},
      description: 'The local query API.',
      properties: {
        socket: { type: 'string', minLength: 1, description: 'Unix socket path (mode 0660); <dataDir>/vwatchd.sock when absent.' },
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
  readonly api: { readonly socket?: string };
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
    api: { socket: overrides.socket ?? value.api.socket ?? join(dataDir, SOCKET_NAME) },
    logLevel: (overrides.logLevel as LogLevel | undefined) ?? value.log.level,
    source,
  });
}

/**
 * The vwatchd process: parse the command line, load and validate the config, compose the
 * agent, print the boot tree, serve the local API, record until SIGINT/SIGTERM, then flush
 * and close. Exit codes: 0 after a clean stop, 1 when it cannot run, 2 for bad config or usage.
 */
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, type CommanderError } from 'commander';
import {
  createAgent,
  createLogger,
  DEFAULT_CONFIG_PATH,
  loadHostConfig,
  type ConfigOverrides,
  type HostConfig,
  formatStatus,
  isOk,
  StatusCode,
  type Agent,
  type Logger,
  type Status,
} from '@virtualeyes/core';
import { startApiServer, type ApiServer } from './api.js';
import { DAEMON_UMASK, prepareDataDir } from './data-dir.js';
import { VERSION } from './version.js';

/** Process exit codes. */
export const ExitCode = { OK: 0, FAILURE: 1, USAGE: 2 } as const;

/** Where plugins are resolved from: the working directory, then next to this package. */
function resolveFrom(): string[] {
  return [process.cwd(), dirname(fileURLToPath(import.meta.url))];
}

interface CliOptions {
  config?: string;
  dataDir?: string;
  socket?: string;
  logLevel?: string;
  check?: boolean;
  printConfig?: boolean;
  sharedDataDir?: boolean;
}

/** Parses argv; returns the options or an exit code when commander already answered (help, errors). */
function parseArgs(argv: readonly string[]): CliOptions | number {
  const program = new Command('vwatchd')
    .description('Record what this host looks like over time, for virtualeyes to query.')
    .version(VERSION, '-V, --version')
    .option('-c, --config <file>', `JSON config file (default: ${DEFAULT_CONFIG_PATH} if it exists)`)
    .option('-d, --data-dir <dir>', 'data directory (default: /var/lib/vwatchd as root, else $XDG_STATE_HOME/vwatchd)')
    .option('--socket <path>', 'local API socket (default: <data-dir>/vwatchd.sock)')
    .option('--log-level <level>', 'debug, info, warn, error or silent (default: info)')
    .option('--check', 'validate the config and load the plugins, print the boot tree, then exit')
    .option('--print-config', 'print the effective config as JSON and exit')
    .option('--shared-data-dir', 'record into a shared world-writable sticky directory (such as /tmp) as it is, instead of refusing')
    .addHelpText('after', '\nExit codes: 0 stopped cleanly, 1 could not run, 2 invalid config or usage.\nSignals: SIGINT/SIGTERM flush and stop.')
    .exitOverride()
    .configureOutput({ writeErr: (text) => process.stderr.write(text), writeOut: (text) => process.stdout.write(text) });
  try {
    program.parse(argv as string[], { from: 'node' });
  } catch (error) {
    const code = (error as CommanderError).exitCode;
    return code === 0 ? ExitCode.OK : ExitCode.USAGE;
  }
  return program.opts<CliOptions>();
}

/** Runs the daemon until it is told to stop; resolves to the exit code. */
export async function runDaemon(argv: readonly string[]): Promise<number> {
  const args = parseArgs(argv);
  if (typeof args === 'number') return args;
  const overrides: ConfigOverrides = {
    ...(args.config === undefined ? {} : { configPath: args.config }),
    ...(args.dataDir === undefined ? {} : { dataDir: args.dataDir }),
    ...(args.socket === undefined ? {} : { socket: args.socket }),
    ...(args.logLevel === undefined ? {} : { logLevel: args.logLevel }),
  };
  const loaded = loadHostConfig(overrides);
  if (!loaded.ok) {
    process.stderr.write(`vwatchd: ${loaded.status.message}\n`);
    return ExitCode.USAGE;
  }
  const config = loaded.value;
  if (args.printConfig === true) {
    process.stdout.write(`${JSON.stringify({ ...config.agent, api: config.api, log: { level: config.logLevel } }, null, 2)}\n`);
    return ExitCode.OK;
  }
  const logger = createLogger({ level: config.logLevel, name: 'vwatchd' });
  return record(config, logger, { checkOnly: args.check === true, sharedDataDir: args.sharedDataDir === true });
}

async function record(config: HostConfig, logger: Logger, options: { checkOnly: boolean; sharedDataDir: boolean }): Promise<number> {
  const { checkOnly } = options;
  // Everything the daemon and its DuckDB create from here on (store, WAL, temp and spill files) is 0640 at most.
  process.umask(DAEMON_UMASK);
  const dataDir = prepareDataDir(config.agent.dataDir, { shared: options.sharedDataDir });
  if (!dataDir.ok) {
    process.stderr.write(`vwatchd: ${dataDir.status.message}\n`);
    return dataDir.status.code === StatusCode.INVALID_CONFIG ? ExitCode.USAGE : ExitCode.FAILURE;
  }
  for (const change of dataDir.value.tightened) logger.info(`Made private: ${change}`);
  if (dataDir.value.shared) logger.warn(`Recording into the shared directory ${config.agent.dataDir} (--shared-data-dir): other users can see the file names`);
  const created = await createAgent(config.agent, { logger, resolveFrom: resolveFrom() });
  if (!created.ok) {
    process.stderr.write(`vwatchd: ${config.source}: ${created.status.message}\n`);
    return ExitCode.USAGE;
  }
  const agent = created.value;
  process.stderr.write(`${agent.bootTree(`vwatchd ${VERSION}`)}\n`);
  const invalid = agent.boot.entries.find((entry) => entry.status.code === StatusCode.INVALID_CONFIG);
  if (invalid !== undefined) {
    process.stderr.write(`vwatchd: ${config.source}: ${invalid.status.message}\n`);
    await agent.stop();
    return ExitCode.USAGE;
  }
  if (checkOnly) {
    await agent.stop();
    // A plugin skipped for its platform is expected; anything else not OK fails the check.
    const broken = agent.boot.entries.some((entry) => !isOk(entry.status) && entry.status.code !== StatusCode.UNSUPPORTED);
    return broken ? ExitCode.FAILURE : ExitCode.OK;
  }
  if (agent.boot.probes.length === 0 || agent.boot.sinks.length === 0) {
    logger.error(`Nothing to record: ${agent.boot.probes.length} probes and ${agent.boot.sinks.length} sinks loaded`);
    await agent.stop();
    return ExitCode.FAILURE;
  }
  // Listen before opening the store: once the socket answers, the CLI asks through it and
  // never opens the file itself, so it cannot hold the file's lock while the store opens.
  let ready = false;
  const api = await startApiServer(config.api.socket, {
    reader: () => (ready ? agent.reader() : undefined),
    starting: () => !ready,
    logger: logger.child('api'),
    version: VERSION,
    status: () => ({
      version: VERSION,
      pid: process.pid,
      configSource: config.source,
      dataDir: config.agent.dataDir,
      socket: config.api.socket,
      agent: agent.status(),
    }),
  });
  if (!api.ok) {
    logger.error(`Cannot serve the API: ${formatStatus(api.status)}`);
    await agent.stop();
    return ExitCode.FAILURE;
  }
  const started = await agent.start();
  if (!isOk(started)) {
    logger.error(`Cannot start: ${formatStatus(started)}`);
    await api.value.close();
    await agent.stop();
    return ExitCode.FAILURE;
  }
  ready = true;
  logger.info(`Recording into ${config.agent.dataDir}; API on ${config.api.socket}`, { pid: process.pid });
  return waitForSignal(agent, api.value, logger);
}

function waitForSignal(agent: Agent, api: ApiServer, logger: Logger): Promise<number> {
  return new Promise((resolve) => {
    let stopping = false;
    const stop = (signal: string): void => {
      if (stopping) {
        logger.warn(`${signal} again: exiting without waiting for the flush`);
        resolve(ExitCode.FAILURE);
        return;
      }
      stopping = true;
      logger.info(`${signal}: flushing and stopping`);
      void (async () => {
        await api.close();
        const status: Status = await agent.stop();
        if (!isOk(status)) logger.warn(`Stopped with ${formatStatus(status)}`);
        const totals = agent.status().sinks.map((sink) => `${sink.sink} ${sink.writtenRows} rows`).join(', ');
        logger.info(`Stopped (${totals})`);
        resolve(ExitCode.OK);
      })();
    };
    process.on('SIGINT', () => stop('SIGINT'));
    process.on('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGHUP', () => logger.warn('SIGHUP: reloading is not supported yet; restart vwatchd to apply config changes'));
  });
}

/**
 * The vwatchd process: parse the command line, load and validate the config, compose the
 * agent, print the boot tree, serve the API (socket, and TCP with a bearer token if set),
 * record until SIGINT/SIGTERM, then flush, spill what could not be written, and close. Exit
 * codes ({@link ExitCode}): 0 all written, 3 some rows spilled for the next start, 1 rows lost or cannot run, 2 usage.
 */
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, type CommanderError } from 'commander';
import { createAgent, effectivePlugins, type Agent, type StopReport } from '@virtualeyes/agent';
import { CORE_VERSION, createLogger, createOptionsValidator, formatStatus, isOk, StatusCode, type Logger } from '@virtualeyes/core';
import { DEFAULT_CONFIG_PATH, loadHostConfig, type ConfigOverrides, type DaemonMemory, type HostConfig } from '@virtualeyes/protocol';
import { startApiServer, type ApiServer } from './api.js';
import { DAEMON_UMASK, prepareDataDir } from './data-dir.js';
import { createMemoryTidier } from './memory.js';
import { loadApiToken, type ApiToken } from './token.js';
import { VERSION } from './version.js';

/** Process exit codes; each says whether anything collected was left unwritten. */
export const ExitCode = {
  /** Stopped, and everything collected is in the store (or there was nothing to do). */
  OK: 0,
  /** Could not run, or rows were lost (dropped, or not spilled), or a store could not be closed. */
  FAILURE: 1,
  /** Invalid config or usage. */
  USAGE: 2,
  /** Stopped, but some rows are in spill files under `<data-dir>/spill/`, written at the next start. */
  SPILLED: 3,
} as const;

/** Longest a graceful stop may take (flush deadline, spill, close) before vwatchd spills what it can and exits 1. */
const STOP_DEADLINE_MS = 60_000;

/** How long the stop waits for the API's open connections once the store is closed. */
const API_CLOSE_WAIT_MS = 1000;

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
    .addHelpText(
      'after',
      '\nSignals: SIGINT/SIGTERM (at any time, start-up included) flush for up to 5 s, spill what is still\n' +
        'unwritten to <data-dir>/spill/ (written to the store at the next start), close the store and exit;\n' +
        'a second signal (more than 1 s after the first) spills what it can at once and exits 1.\n' +
        'Exit codes: 0 stopped, everything collected written; 3 stopped, some rows spilled for the next start;\n' +
        '1 could not run, rows lost or the store not closed; 2 invalid config or usage.',
    )
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
  if (args.printConfig === true) return printConfig(config);
  const logger = createLogger({ level: config.logLevel, name: 'vwatchd' });
  return record(config, logger, { checkOnly: args.check === true, sharedDataDir: args.sharedDataDir === true });
}

/**
 * Prints the effective config: the daemon's settings with their defaults, and each plugin as it
 * would run (its version, its options with every default filled in, a probe's interval per
 * table). Exit 2 when a plugin would be refused for its config, as a start would be.
 */
async function printConfig(config: HostConfig): Promise<number> {
  const plugins = await effectivePlugins(config.agent, { resolveFrom: resolveFrom(), coreVersion: CORE_VERSION, validator: createOptionsValidator() });
  const effective = { source: config.source, ...config.agent, ...plugins, api: config.api, log: { level: config.logLevel } };
  process.stdout.write(`${JSON.stringify(effective, null, 2)}\n`);
  const refused = [...plugins.probes, ...plugins.sinks].find((plugin) => plugin.error?.code === StatusCode.INVALID_CONFIG);
  if (refused !== undefined) process.stderr.write(`vwatchd: ${config.source}: ${refused.error!.message}\n`);
  return refused === undefined ? ExitCode.OK : ExitCode.USAGE;
}

async function record(config: HostConfig, logger: Logger, options: { checkOnly: boolean; sharedDataDir: boolean }): Promise<number> {
  // First of all: a signal at any point from here on (loading plugins, a store start still retrying) stops cleanly.
  const signals = listenForSignals(logger);
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
  // Before the plugins load: a token file others could read is a config error worth seeing at once.
  // A check only inspects it; the token is generated when the daemon really serves.
  let token: ApiToken | undefined;
  const tcp = config.api.tcp;
  if (tcp !== undefined) {
    const loaded = loadApiToken(tcp.tokenFile, { create: !checkOnly });
    if (!loaded.ok) {
      process.stderr.write(`vwatchd: ${loaded.status.message}\n`);
      return loaded.status.code === StatusCode.INVALID_CONFIG ? ExitCode.USAGE : ExitCode.FAILURE;
    }
    token = loaded.value.token;
    if (loaded.value.created) logger.info(`Created the API token file ${tcp.tokenFile} (mode 0600): TCP clients send its content as "Authorization: Bearer <token>"`);
  }
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
  if (signals.received()) return waitForSignal(agent, undefined, signals, logger);
  // Listen before opening the store: once the socket answers, the CLI asks through it and
  // never opens the file itself, so it cannot hold the file's lock while the store opens.
  let ready = false;
  const memory = createMemoryTidier(logger);
  // Known once the listener is bound (port 0 picks one); the status closure reads it then.
  let tcpAddress: string | undefined = undefined;
  const api = await startApiServer(
    config.api.socket,
    {
      requests: (inFlight) => memory.requests(inFlight),
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
        ...(tcpAddress === undefined ? {} : { tcp: tcpAddress }),
        agent: agent.status(),
        memory: memorySnapshot(),
      }),
    },
    tcp === undefined || token === undefined ? undefined : { host: tcp.host, port: tcp.port, token },
  );
  if (!api.ok) {
    // Neither listener is left open: a daemon serving half its configured API would hide the mistake.
    logger.error(`Cannot serve the API: ${formatStatus(api.status)}`);
    await agent.stop();
    return api.status.code === StatusCode.INVALID_CONFIG ? ExitCode.USAGE : ExitCode.FAILURE;
  }
  tcpAddress = api.value.tcp;
  // A signal while the sinks start (a store file locked by another process is retried for a while) stops at once.
  const started = await Promise.race([agent.start(), signals.first.then(() => undefined)]);
  if (started === undefined || signals.received()) return waitForSignal(agent, api.value, signals, logger);
  if (!isOk(started)) {
    logger.error(`Cannot start: ${formatStatus(started)}`);
    await api.value.close();
    await agent.stop();
    return ExitCode.FAILURE;
  }
  ready = true;
  const also = tcpAddress === undefined || tcp === undefined ? '' : ` and http://${tcpAddress} (bearer token in ${tcp.tokenFile})`;
  logger.info(`Recording into ${config.agent.dataDir}; API on ${config.api.socket}${also}`, { pid: process.pid });
  memory.start();
  try {
    return await waitForSignal(agent, api.value, signals, logger);
  } finally {
    memory.stop();
  }
}

/** The daemon's memory as `virtualeyes status` shows it. */
function memorySnapshot(): DaemonMemory {
  const { rss, heapTotal, heapUsed, external } = process.memoryUsage();
  return { rss, heapTotal, heapUsed, external };
}

/**
 * A repeat of a stop signal this soon after the first is the same request, not "force": a
 * Ctrl-C in a terminal reaches the whole process group, and `npm run vwatchd` forwards it
 * too, so vwatchd gets SIGINT twice within milliseconds.
 */
const REPEAT_GRACE_MS = 1000;

/** SIGINT/SIGTERM as they arrive: the first one, and a hook for any after it. */
interface Signals {
  /** Resolves with the name of the first SIGINT or SIGTERM. */
  readonly first: Promise<string>;
  /** True once a stop signal arrived. */
  received(): boolean;
  /** Calls `fn` for every stop signal after the first (at once for one that already came). */
  onRepeat(fn: (signal: string) => void): void;
}

function listenForSignals(logger: Logger): Signals {
  let count = 0;
  let firstAt = 0;
  let announce: (signal: string) => void = () => undefined;
  const first = new Promise<string>((resolve) => {
    announce = resolve;
  });
  let repeat: ((signal: string) => void) | undefined;
  let missed: string | undefined;
  const on = (signal: string): void => {
    count += 1;
    if (count === 1) {
      firstAt = Date.now();
      logger.info(`${signal}: flushing and stopping`);
      announce(signal);
    } else if (Date.now() - firstAt < REPEAT_GRACE_MS) {
      count -= 1;
      logger.info(`${signal} again within ${REPEAT_GRACE_MS} ms (a terminal and npm both send it): still stopping cleanly; send it again later to exit at once`);
    } else if (repeat === undefined) missed = signal;
    else repeat(signal);
  };
  process.on('SIGINT', () => on('SIGINT'));
  process.on('SIGTERM', () => on('SIGTERM'));
  process.on('SIGHUP', () => logger.warn('SIGHUP: reloading is not supported yet; restart vwatchd to apply config changes'));
  return {
    first,
    received: () => count > 0,
    onRepeat(fn) {
      repeat = fn;
      if (missed !== undefined) fn(missed);
    },
  };
}

/** The exit code a stop earned: whether anything collected was left unwritten, and where. */
function exitCodeOf(report: StopReport): number {
  if (report.droppedRows > 0 || report.unclosed.length > 0) return ExitCode.FAILURE;
  return report.spilledRows > 0 ? ExitCode.SPILLED : ExitCode.OK;
}

function describeStop(report: StopReport): string {
  return `${report.writtenRows} rows written, ${report.spilledRows} rows spilled to disk for the next start, ${report.droppedRows} rows lost`;
}

/**
 * Waits for the first stop signal, then stops: the API stops accepting (its running queries end
 * when the store closes and interrupts them), the agent flushes, spills and closes. A second
 * signal, or the stop outliving {@link STOP_DEADLINE_MS}, spills synchronously and exits 1.
 */
async function waitForSignal(agent: Agent, api: ApiServer | undefined, signals: Signals, logger: Logger): Promise<number> {
  await signals.first;
  let watchdog: NodeJS.Timeout | undefined;
  const forced = new Promise<number>((resolve) => {
    const force = (why: string): void => {
      logger.warn(`${why}: exiting without waiting for the flush`);
      const report = agent.spillNow();
      logger.warn(`Exiting: ${describeStop(report)}; the store was not closed`);
      resolve(ExitCode.FAILURE);
    };
    signals.onRepeat((signal) => force(`${signal} again`));
    // A ref'd timer: besides bounding the stop, it keeps Node alive while the agent waits on (unref'd) clock timers.
    watchdog = setTimeout(() => force(`Still stopping after ${STOP_DEADLINE_MS} ms`), STOP_DEADLINE_MS);
  });
  const graceful = (async (): Promise<number> => {
    const apiClosed = api?.close();
    await agent.stop();
    if (apiClosed !== undefined) await Promise.race([apiClosed, new Promise<void>((resolve) => setTimeout(resolve, API_CLOSE_WAIT_MS))]);
    const report = agent.stopReport();
    if (report === undefined) return ExitCode.FAILURE;
    for (const { sink, status } of report.unclosed) logger.error(`Could not close ${sink}: ${formatStatus(status)}`);
    const code = exitCodeOf(report);
    const line = `Stopped: ${describeStop(report)}`;
    if (code === ExitCode.OK) logger.info(line);
    else logger.warn(`${line} (exit ${code})`);
    return code;
  })();
  try {
    return await Promise.race([graceful, forced]);
  } finally {
    clearTimeout(watchdog);
  }
}

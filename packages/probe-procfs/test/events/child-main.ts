/**
 * The program the live tests run in a child Node process (bundled to one file first): starts a
 * procfs probe with process events, makes a process, collects twice, closes, prints one JSON
 * line, then does nothing more, so the parent can see whether anything keeps it alive. With
 * `nobody` it loads koffi as root, then drops to nobody for good (setgid, setuid) before starting.
 */
import { spawnSync } from 'node:child_process';
import { createFileReader, createHooks, createLogger, createSystemClock, type CollectResult, type LogRecord } from '@virtualeyes/core';
import { loadLibc } from '@virtualeyes/linux/native';
import { createProbe, parseConfig } from '../../src/index.js';

const NOBODY = 65534;
const TABLES = ['process_events', 'load'];

async function main(): Promise<void> {
  const mode = process.argv[2] ?? 'root';
  // A daemon's code is readable by the user it runs as; a clone in a 0700 folder is not, so
  // everything is loaded before the privileges go.
  const libc = await loadLibc();
  if (mode === 'nobody') {
    process.setgroups?.([]);
    process.setgid!(NOBODY);
    process.setuid!(NOBODY);
  }
  const records: LogRecord[] = [];
  const config = parseConfig({ processEvents: true, processEventsPollMs: Number(process.argv[3] ?? 0) });
  if (!config.ok) return print({ error: config.status.message });
  const created = createProbe(config.value, {
    name: 'procfs',
    clock: createSystemClock(),
    logger: createLogger({ level: 'debug', write: (record) => records.push(record) }),
    files: createFileReader(),
    hooks: createHooks(),
    host: 'child',
    dataDir: '/nonexistent',
    platform: process.platform,
  });
  if (!created.ok) return print({ error: created.status.message });
  const probe = created.value;
  probe.init();
  const started = await probe.start!({ emit: () => undefined });
  const collect = async (): Promise<CollectResult> => {
    const child = spawnSync('sh', ['-c', 'exit 3']);
    await new Promise((resolve) => setTimeout(resolve, 150));
    const result = await probe.collect({ tables: TABLES, ts: Date.now(), signal: new AbortController().signal });
    return { ...result, batches: result.batches.map((batch) => ({ ...batch, rows: batch.rows.filter((row) => batch.table !== 'process_events' || row.pid === child.pid) })) };
  };
  const first = await collect();
  const second = await collect();
  const closing = performance.now();
  const closed = await probe.close();
  print({
    libc: libc.ok,
    uid: process.getuid!(),
    started,
    first: summary(first),
    second: summary(second),
    closed: closed.code,
    closeMs: performance.now() - closing,
    errorLogs: records.filter((record) => record.level === 'error').length,
  });
}

function summary(result: CollectResult): { tables: string[]; events: string[]; errors: { code: string; message: string }[] } {
  return {
    tables: [...new Set(result.batches.map((batch) => batch.table))],
    events: result.batches.filter((batch) => batch.table === 'process_events').flatMap((batch) => batch.rows.map((row) => `${String(row.event)}:${String(row.exit_code)}`)),
    errors: result.errors.map((status) => ({ code: status.code, message: status.message })),
  };
}

function print(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}

void main();

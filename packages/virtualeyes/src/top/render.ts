/**
 * A `virtualeyes top` frame as lines of text, for a screen of a given size or for batch output:
 * three header lines (what and when; CPU, load and PSI; memory, swap, disk and network), the
 * column header, the processes, and a last line for a prompt or a message when there is one.
 * Pure: the same frame and view give the same lines. Every recorded string goes through
 * escape.ts, and every line is cut to the width, so a command line cannot move the cursor,
 * wrap the screen or push the header away.
 */
import { escapeText, truncateText } from '../escape.js';
import { clockText, zoneText } from '../format.js';
import { commandOf, psFilter, sortRecords, treeOrder, treePrefix, type PsRecord, type PsSort } from '../ps.js';
import type { TopFrame } from './frame.js';

/** Sorts top cycles through with `s`, in order. */
export const TOP_SORTS: readonly PsSort[] = ['cpu', 'rss', 'io', 'pid'];

/** What the viewer chose: everything but the data. */
export interface TopView {
  /** `live` follows the clock; `replay` stays at an instant and steps with keys. */
  readonly mode: 'live' | 'replay';
  readonly sort: PsSort;
  /** Text a process's name, command line or user must hold (`/`). */
  readonly filter: string;
  /** The user whose processes alone are shown (`u`), empty for all. */
  readonly user: string;
  readonly tree: boolean;
  readonly paused: boolean;
  readonly intervalMs: number;
  readonly utc: boolean;
  /** The first process row shown (scrolling). */
  readonly scroll: number;
  /** A line being typed, with its label (`filter`, `user`, `delay`, `time`). */
  readonly prompt?: { readonly label: string; readonly text: string };
  /** A one-line note (an error, the end of the recording), shown until the next key. */
  readonly message?: string;
  readonly help: boolean;
}

/** The view a session starts with. */
export function initialView(options: Partial<TopView> & Pick<TopView, 'mode'>): TopView {
  return { sort: 'cpu', filter: '', user: '', tree: false, paused: false, intervalMs: 2000, utc: false, scroll: 0, help: false, ...options };
}

/** The processes the view shows, in order. */
export function visibleProcesses(frame: TopFrame, view: TopView): PsRecord[] {
  const matches = psFilter({ ...(view.filter === '' ? {} : { text: view.filter }), ...(view.user === '' ? {} : { user: view.user }) });
  const shown = frame.processes.filter(matches);
  return view.tree ? treeOrder(shown, view.sort) : sortRecords(shown, view.sort);
}

/** Lines of the header above the process list. */
export const HEADER_LINES = 4;

/**
 * The frame as at most `height` lines (every process when `height` is Infinity, as batch output
 * wants), none wider than `width` characters.
 */
export function renderFrame(frame: TopFrame | undefined, view: TopView, width: number, height: number): string[] {
  const footer = view.prompt !== undefined || view.message !== undefined ? 1 : 0;
  const lines = [titleLine(frame, view)];
  if (frame === undefined) {
    lines.push('', '', '');
  } else {
    lines.push(cpuLine(frame), memoryLine(frame));
  }
  if (view.help) {
    lines.push('', ...HELP[view.mode]);
  } else {
    lines.push(COLUMNS);
    if (frame !== undefined) {
      const rows = visibleProcesses(frame, view);
      const room = Math.max(0, height - HEADER_LINES - footer);
      const first = Math.max(0, Math.min(view.scroll, rows.length - room));
      for (const row of rows.slice(first, Number.isFinite(room) ? first + room : undefined)) lines.push(processLine(row, width));
    }
  }
  const cut = Number.isFinite(height) ? lines.slice(0, height - footer) : lines;
  if (Number.isFinite(height)) while (cut.length < height - footer) cut.push('');
  if (view.prompt !== undefined) cut.push(`${view.prompt.label}: ${escapeText(view.prompt.text)}_`);
  else if (view.message !== undefined) cut.push(escapeText(view.message));
  return cut.map((line) => fit(line, width));
}

/** A line cut to `width` (lines here are already escaped, so characters are what shows). */
function fit(line: string, width: number): string {
  return [...line].length <= width ? line : `${[...line].slice(0, Math.max(0, width - 1)).join('')}…`;
}

/**
 * What and when: host, the sample's date and time (in the local zone, named, or UTC), live or
 * replay, the sort and filters, the count shown. `? help` ends it, so it is what a cut loses.
 */
function titleLine(frame: TopFrame | undefined, view: TopView): string {
  const display = { utc: view.utc };
  // Replay steps by one sample, often less than a second apart: milliseconds show the step.
  const when = frame === undefined ? 'no sample' : `${clockText(frame.sampledAt, display, 'datetime', view.mode === 'replay')} ${zoneText(display, frame.sampledAt, true)}`;
  const mode = view.mode === 'live' ? (view.paused ? 'paused' : `live ${seconds(view.intervalMs)}`) : `replay${frame?.intervalMs == null ? '' : ` ${seconds(frame.intervalMs)}`}`;
  const filters = [view.filter === '' ? '' : ` /${view.filter}`, view.user === '' ? '' : ` u:${view.user}`, view.tree ? ' tree' : ''].join('');
  const host = frame === undefined ? '' : `${escapeText(frame.host)}${frame.hosts.length > 1 ? ` (+${frame.hosts.length - 1})` : ''} `;
  const count = frame === undefined ? '' : ` ${visibleProcesses(frame, view).length} procs`;
  return `${host}${when} · ${mode} · sort ${view.sort}${escapeText(filters)} ·${count} · ? help`;
}

/** CPU busy and its split, load, PSI, then each CPU's busy % (last, as the part a narrow screen may lose). */
function cpuLine(frame: TopFrame): string {
  const all = frame.cpus.find((cpu) => cpu.cpu === 'all');
  const parts = [all === undefined ? 'CPU -' : `CPU ${all.busy.toFixed(1)}% us ${Math.round(all.user)} sy ${Math.round(all.system)} wa ${Math.round(all.iowait)} st ${Math.round(all.steal)}`];
  if (frame.load !== undefined) {
    const { load1, load5, load15, running, blocked } = frame.load;
    parts.push(`LOAD ${load1.toFixed(2)} ${load5.toFixed(2)} ${load15.toFixed(2)}${running === null ? '' : ` run ${running}`}${blocked === null ? '' : ` blk ${blocked}`}`);
  }
  if (frame.pressure !== undefined) {
    const psi = ['cpu', 'io', 'memory'].filter((name) => frame.pressure![name] !== undefined).map((name) => `${name === 'memory' ? 'mem' : name} ${frame.pressure![name]!.toFixed(1)}`);
    if (psi.length > 0) parts.push(`PSI ${psi.join(' ')}`);
  }
  const each = frame.cpus.filter((cpu) => cpu.cpu !== 'all').map((cpu) => `${cpu.cpu}:${Math.round(cpu.busy)}`);
  if (each.length > 1) parts.push(`CPUs ${each.join(' ')}`);
  return parts.join(' │ ');
}

function memoryLine(frame: TopFrame): string {
  const parts: string[] = [];
  if (frame.memory !== undefined) {
    const { total, available, cached, swapTotal, swapFree } = frame.memory;
    parts.push(`MEM ${bytes(total - available)} used ${bytes(available)} avail ${bytes(cached)} cache of ${bytes(total)}`);
    parts.push(`SWAP ${bytes(swapTotal - swapFree)}/${bytes(swapTotal)}`);
  } else {
    parts.push('MEM -');
  }
  if (frame.disk !== undefined) parts.push(`DISK r ${bytes(frame.disk.read)}/s w ${bytes(frame.disk.write)}/s`);
  if (frame.net !== undefined) parts.push(`NET rx ${bytes(frame.net.rx)}/s tx ${bytes(frame.net.tx)}/s`);
  return parts.join(' │ ');
}

/** The process list's column header, and the widths its lines keep to. */
const COLUMNS = `${'PID'.padStart(7)} ${'USER'.padEnd(8)} ${'%CPU'.padStart(5)} ${'RSS'.padStart(6)} ${'READ/s'.padStart(6)} ${'WRIT/s'.padStart(6)} S COMMAND`;

function processLine(row: PsRecord, width: number): string {
  const cpu = row['cpu_pct'];
  const user = typeof row['user'] === 'string' ? truncateText(row['user'], 8) : '';
  const fixed = [
    String(row['pid'] ?? '').padStart(7),
    escapeText(user).padEnd(8),
    (typeof cpu === 'number' ? cpu.toFixed(1) : '-').padStart(5),
    bytesCell(row['rss']).padStart(6),
    bytesCell(row['read_bytes_rate']).padStart(6),
    bytesCell(row['write_bytes_rate']).padStart(6),
    escapeText(typeof row['state'] === 'string' ? row['state'].slice(0, 1) : '-'),
  ].join(' ');
  const room = Math.max(1, width - fixed.length - 1);
  return `${fixed} ${escapeText(truncateText(treePrefix(row) + commandOf(row), room))}`;
}

const HELP: Readonly<Record<TopView['mode'], readonly string[]>> = {
  live: [
    'Keys (any key closes this help):',
    '  s  next sort (cpu, rss, io, pid)    c m i p  sort by cpu, memory, io, pid',
    '  /  filter by text (Enter applies, Esc cancels; empty clears)',
    '  u  show one user\'s processes        V  toggle the process tree',
    '  z or space  pause / resume          d  change the interval (e.g. 2s)',
    '  ↑ ↓ PgUp PgDn Home  scroll           q or Ctrl-C  quit',
  ],
  replay: [
    'Keys (any key closes this help):',
    '  t or ←  previous sample             T or →  next sample',
    '  [ ]  a minute back / forward        { }  an hour back / forward',
    '  b  go to a time (03:10, "5m ago", ISO-8601)',
    '  s  next sort (cpu, rss, io, pid)    c m i p  sort by cpu, memory, io, pid',
    '  /  filter by text    u  one user    V  toggle the process tree',
    '  ↑ ↓ PgUp PgDn Home  scroll           q or Ctrl-C  quit',
  ],
};

function seconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${(ms / 1000).toFixed(1)}s`;
}

/** Bytes in at most 5 characters: 912B, 1.5K, 23M, 4.2G. */
export function bytes(value: number): string {
  if (!Number.isFinite(value)) return '-';
  const units = ['B', 'K', 'M', 'G', 'T', 'P'];
  let scaled = Math.max(0, value);
  let unit = 0;
  while (scaled >= 1000 && unit < units.length - 1) {
    scaled /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${Math.round(scaled)}B` : `${scaled >= 10 ? Math.round(scaled) : scaled.toFixed(1)}${units[unit]!}`;
}

function bytesCell(cell: unknown): string {
  return typeof cell === 'number' ? (cell === 0 ? '0' : bytes(cell)) : '-';
}

/**
 * Runs `virtualeyes top`: full screen on a terminal (terminal-kit draws, reads keys and
 * restores the screen), or frames of plain text when either end is not a terminal or `-b` asks
 * for batch output. Live mode asks for the instant `now` every interval; replay stays at an
 * instant and moves by the keys of keys.ts. The store is asked one frame at a time, never two
 * at once, and an answer that arrives after the viewer moved on is dropped.
 */
import { StatusCode, formatStatus, type Cell, type Result, type Status, type StoreReader } from '@virtualeyes/core';
import { jsonText } from '../escape.js';
import { Format, formatResult, rowObjects } from '../format.js';
import { PS_COLUMNS } from '../ps.js';
import { parseDuration, parseTime } from '../time.js';
import { loadFrame, type TopFrame } from './frame.js';
import { applyKey, type TopAction } from './keys.js';
import { HEADER_LINES, renderFrame, visibleProcesses, type TopView } from './render.js';

/** How a top session runs. */
export interface TopOptions {
  /** Replay from this instant; live when absent. */
  readonly at?: number;
  readonly view: TopView;
  readonly stalenessMs: number;
  readonly host?: string;
  /** Batch: print this many frames (Infinity: until stopped) as plain text lines of `width`, or as JSON or CSV. */
  readonly batch?: BatchOptions;
  readonly now: () => number;
  readonly out: (text: string) => void;
}

/** How batch output prints. */
export interface BatchOptions {
  readonly frames: number;
  readonly width: number;
  readonly format: Format;
}

/** The shortest interval accepted. */
export const MIN_INTERVAL_MS = 200;

/** Runs the session; resolves with the Status to exit with (OK, or why the first frame could not load). */
export async function runTop(reader: StoreReader, options: TopOptions): Promise<Status> {
  return options.batch !== undefined ? runBatch(reader, options, options.batch) : runScreen(reader, options);
}

const OK_STATUS: Status = { code: StatusCode.OK, message: '', retryable: false };

async function runBatch(reader: StoreReader, options: TopOptions, batch: BatchOptions): Promise<Status> {
  let at = options.at ?? options.now();
  const frames: unknown[] = [];
  for (let index = 0; index < batch.frames; index += 1) {
    const frame = await loadFrame(reader, frameRequest(options, at));
    if (!frame.ok) {
      // The first frame failing is the answer; a later one ends the output where the recording does.
      if (index === 0) return frame.status;
      break;
    }
    if (batch.format === Format.JSON) frames.push(frameJson(frame.value, options.view));
    else if (batch.format === Format.CSV) {
      const text = frameCsv(frame.value, options.view, index === 0);
      if (text !== '') options.out(`${text}\r\n`);
    }
    else options.out(`${index === 0 ? '' : '\n'}${renderFrame(frame.value, options.view, batch.width, Infinity).join('\n')}\n`);
    if (index === batch.frames - 1) break;
    if (options.at === undefined) {
      await sleep(options.view.intervalMs);
      at = options.now();
    } else {
      const next = await neighbourSample(reader, frame.value, 1, options.now());
      if (!next.ok) return next.status;
      if (next.value === undefined) break;
      at = next.value;
    }
  }
  if (batch.format === Format.JSON) options.out(`${jsonText(frames)}\n`);
  return OK_STATUS;
}

/** A frame for programs: instants as ISO-8601 UTC, exact numbers, the processes in the view's order. */
export function frameJson(frame: TopFrame, view: TopView): unknown {
  const { processes: _all, at, sampledAt, ...header } = frame;
  const processes = visibleProcesses(frame, view).map((row) => Object.fromEntries(PS_COLUMNS.map(({ name }) => [name, row[name] ?? null]).concat(view.tree ? [['depth', row['depth'] ?? 0]] : [])));
  return { ...header, at: new Date(at).toISOString(), sampledAt: new Date(sampledAt).toISOString(), processes };
}

/** A frame's processes as CSV rows, under a header when `first`: `ps`'s columns (and `depth` in a tree). */
function frameCsv(frame: TopFrame, view: TopView, first: boolean): string {
  const columns = view.tree ? [...PS_COLUMNS, { name: 'depth', type: 'INTEGER' }] : PS_COLUMNS;
  const rows = visibleProcesses(frame, view).map((row) => columns.map(({ name }) => row[name] ?? (name === 'depth' ? 0 : null)));
  const text = formatResult({ columns, rows, truncated: false, elapsedMs: 0 }, Format.CSV);
  if (first) return text;
  return rows.length === 0 ? '' : text.slice(text.indexOf('\r\n') + 2);
}

async function runScreen(reader: StoreReader, options: TopOptions): Promise<Status> {
  const first = await loadFrame(reader, frameRequest(options, options.at ?? options.now()));
  if (!first.ok) return first.status;
  const { default: termkit } = await import('terminal-kit');
  const term = termkit.terminal;
  let view = options.view;
  let frame: TopFrame = first.value;
  let at = options.at ?? options.now();
  let generation = 0;
  let timer: NodeJS.Timeout | undefined;
  let done: (() => void) | undefined;

  const rows = (): number => Math.max(1, term.height - HEADER_LINES - 1);
  const draw = (): void => {
    const lines = renderFrame(frame, view, term.width, term.height);
    lines.forEach((line, index) => {
      term.moveTo(1, index + 1).eraseLine();
      // Lines are escaped text: noFormat keeps terminal-kit from reading ^ and % in them as markup.
      if (index === 0 || (index === HEADER_LINES - 1 && !view.help)) term.inverse.noFormat(line);
      else term.noFormat(line);
    });
  };
  const note = (status: Status): void => {
    view = { ...view, message: frameProblem(status) };
  };
  /** Loads the instant `to`; keeps the frame shown when there is nothing there. */
  const load = async (to: number): Promise<void> => {
    const mine = ++generation;
    const loaded = await loadFrame(reader, frameRequest(options, to));
    if (mine !== generation || done === undefined) return;
    if (loaded.ok) {
      frame = loaded.value;
      at = to;
    } else {
      note(loaded.status);
    }
    draw();
  };
  const tick = (): void => {
    timer = setTimeout(() => {
      if (!view.paused) void load(options.now()).finally(tick);
      else tick();
    }, view.intervalMs);
  };
  const act = async (action: TopAction): Promise<void> => {
    switch (action.kind) {
      case 'quit':
        done?.();
        return;
      case 'resume':
        return load(options.now());
      case 'interval': {
        const interval = parseDuration(action.text);
        if (!interval.ok || !(interval.value >= MIN_INTERVAL_MS)) {
          view = { ...view, message: `interval: give a duration of at least ${MIN_INTERVAL_MS} ms, such as 2s` };
          return draw();
        }
        view = { ...view, intervalMs: Math.round(interval.value) };
        clearTimeout(timer);
        tick();
        return draw();
      }
      case 'step': {
        const next = await neighbourSample(reader, frame, action.direction, options.now());
        if (!next.ok) note(next.status);
        else if (next.value === undefined) view = { ...view, message: action.direction < 0 ? 'this is the first sample recorded' : 'this is the last sample recorded' };
        else return load(next.value);
        return draw();
      }
      case 'jump':
        return load(Math.min(options.now(), at + action.ms));
      case 'goto': {
        const to = parseTime(action.text, options.now());
        if (!to.ok) {
          note(to.status);
          return draw();
        }
        return load(to.value);
      }
      case 'none':
        return draw();
    }
  };

  term.fullscreen(true);
  term.hideCursor();
  term.grabInput(true);
  // Actions run one after another: a second `T` steps from the sample the first one reached.
  let actions = Promise.resolve();
  const onKey = (name: string): void => {
    const result = applyKey(view, name, rows());
    view = result.view;
    if (result.action.kind === 'none' || result.action.kind === 'quit') void act(result.action);
    else actions = actions.then(() => act(result.action));
  };
  const onResize = (): void => draw();
  // A signal must not leave the terminal in raw mode on the alternate screen.
  const onSignal = (): void => done?.();
  term.on('key', onKey);
  term.on('resize', onResize);
  process.once('SIGTERM', onSignal);
  process.once('SIGHUP', onSignal);
  await new Promise<void>((resolve) => {
    done = resolve;
    draw();
    if (options.at === undefined) tick();
  });
  done = undefined;
  clearTimeout(timer);
  term.off('key', onKey);
  term.off('resize', onResize);
  process.off('SIGTERM', onSignal);
  process.off('SIGHUP', onSignal);
  term.styleReset();
  term.hideCursor(false);
  term.fullscreen(false);
  await term.grabInput(false);
  return OK_STATUS;
}

/**
 * What top's last line says when a frame could not load: that the daemon went away (its socket
 * is gone or refuses), and what to do, or else the Status as one line.
 */
export function frameProblem(status: Status): string {
  const gone = status.op?.startsWith('connect') === true && (status.code === StatusCode.NOT_FOUND || status.code === StatusCode.UNAVAILABLE);
  if (gone) return `vwatchd stopped answering (${status.code}): the frame shown is the last it gave; restart top to read the store file, q quits`;
  return formatStatus({ ...status, source: undefined });
}

function frameRequest(options: TopOptions, at: number): Parameters<typeof loadFrame>[1] {
  return { at, stalenessMs: options.stalenessMs, ...(options.host === undefined ? {} : { host: options.host }), timeoutMs: 30_000 };
}

/**
 * When the frame's host took its process sample before (-1) or after (+1) the one shown;
 * undefined when there is none. Asked as a range query, so no time is written into SQL.
 */
export async function neighbourSample(reader: StoreReader, frame: TopFrame, direction: -1 | 1, now: number): Promise<Result<number | undefined>> {
  const range = direction < 0 ? { from: 0, to: frame.sampledAt - 1 } : { from: frame.sampledAt + 1, to: Math.max(now, frame.sampledAt + 1) };
  const result = await reader.query({
    sql: `select host, ${direction < 0 ? 'max' : 'min'}(ts) as ts from process_stats group by host`,
    ...range,
    stalenessMs: 0,
    timeoutMs: 30_000,
    maxRows: 10_000,
  });
  if (!result.ok) return result;
  const mine = rowObjects(result.value).find((row) => row['host'] === frame.host);
  const ts = msOfCell(mine?.['ts']);
  return { ok: true, value: Number.isFinite(ts) ? ts : undefined };
}

function msOfCell(cell: Cell | undefined): number {
  return typeof cell === 'string' ? Date.parse(cell) : Number.NaN;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

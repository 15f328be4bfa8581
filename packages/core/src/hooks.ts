/**
 * The agent's extension points: one frozen object of typed tapable hooks. Core wraps every
 * tap so a throw or rejection becomes a Status naming the tap and the hook (the pipeline
 * goes on), and times every tap for self-metrics.
 */
import { AsyncSeriesBailHook, AsyncSeriesWaterfallHook, SyncHook } from 'tapable';
import type { Batch } from './schema.js';
import { fail, messageOf, StatusCode, type Status } from './status.js';

/** What a collection is about to do or just did. */
export interface CollectInfo {
  /** Probe instance name. */
  readonly probe: string;
  /** Tables collected in this call. */
  readonly tables: readonly string[];
  /** Scheduled time, epoch milliseconds. */
  readonly ts: number;
}

/** Every hook the agent calls, typed. See docs/hooks.md for when each runs. */
export interface Hooks {
  /** After the agent's config is validated, before any plugin is created. */
  readonly configResolved: SyncHook<[config: unknown]>;
  /** Before a probe collects; return a failing Status to skip this collection. */
  readonly beforeCollect: AsyncSeriesBailHook<[info: CollectInfo], Status | undefined>;
  /** After a probe collected; each tap may replace the batches (processors, filters). */
  readonly afterCollect: AsyncSeriesWaterfallHook<[batches: readonly Batch[], info: CollectInfo]>;
  /** Before batches are handed to a sink. */
  readonly beforeWrite: SyncHook<[sink: string, batches: readonly Batch[]]>;
  /** After a sink write finished, with its Status. */
  readonly sinkResult: SyncHook<[sink: string, status: Status]>;
  /** Every failing Status the agent sees (collection errors, write failures, tap failures). */
  readonly status: SyncHook<[status: Status]>;
}

/** Calls and time spent in one tap of one hook. */
export interface TapStats {
  /** `hook/tap` name. */
  readonly name: string;
  /** Number of calls. */
  calls: number;
  /** Calls that threw or rejected. */
  failures: number;
  /** Total time in the tap, milliseconds. */
  totalMs: number;
}

/** Options for {@link createHooks}. */
export interface HooksOptions {
  /** Receives the Status of a tap that threw; must not throw itself. */
  readonly onTapError?: (status: Status) => void;
  /** Monotonic time source for tap timings. @default performance.now */
  readonly monotonic?: () => number;
  /** Where per-tap timings are accumulated. */
  readonly stats?: Map<string, TapStats>;
}

type AnyFn = (...args: unknown[]) => unknown;
interface RegisteredTap {
  name: string;
  type: 'sync' | 'async' | 'promise';
  fn: AnyFn;
}

/** Creates the frozen hooks object with its guarding interceptors installed. */
export function createHooks(options: HooksOptions = {}): Hooks {
  const hooks: Hooks = {
    configResolved: new SyncHook<[unknown]>(['config']),
    beforeCollect: new AsyncSeriesBailHook<[CollectInfo], Status | undefined>(['info']),
    afterCollect: new AsyncSeriesWaterfallHook<[readonly Batch[], CollectInfo]>(['batches', 'info']),
    beforeWrite: new SyncHook<[string, readonly Batch[]]>(['sink', 'batches']),
    sinkResult: new SyncHook<[string, Status]>(['sink', 'status']),
    status: new SyncHook<[Status]>(['status']),
  };
  const waterfalls = new Set<string>(['afterCollect']);
  for (const [hookName, hook] of Object.entries(hooks) as [string, { intercept: (i: object) => void }][]) {
    hook.intercept({
      register: (tap: RegisteredTap) => guardTap(hookName, tap, waterfalls.has(hookName), options),
    });
  }
  return Object.freeze(hooks);
}

function guardTap(hookName: string, tap: RegisteredTap, waterfall: boolean, options: HooksOptions): RegisteredTap {
  const monotonic = options.monotonic ?? (() => performance.now());
  const key = `${hookName}/${tap.name}`;
  const stats: TapStats = options.stats?.get(key) ?? { name: key, calls: 0, failures: 0, totalMs: 0 };
  options.stats?.set(key, stats);
  const original = tap.fn;
  // A failing tap must not change the flow: a waterfall passes its input on unchanged.
  const fallback = (args: unknown[]): unknown => (waterfall ? args[0] : undefined);
  const report = (error: unknown): void => {
    stats.failures += 1;
    options.onTapError?.(
      fail(StatusCode.INTERNAL, `hook '${hookName}' tap '${tap.name}' failed: ${messageOf(error)}`, {
        source: tap.name,
        op: hookName,
        cause: error,
      }),
    );
  };
  const finish = (started: number): void => {
    stats.calls += 1;
    stats.totalMs += monotonic() - started;
  };

  let fn: AnyFn;
  switch (tap.type) {
    case 'sync':
      fn = (...args) => {
        const started = monotonic();
        try {
          return original(...args);
        } catch (error) {
          report(error);
          return fallback(args);
        } finally {
          finish(started);
        }
      };
      break;
    case 'promise':
      fn = async (...args) => {
        const started = monotonic();
        try {
          return await (original(...args) as Promise<unknown>);
        } catch (error) {
          report(error);
          return fallback(args);
        } finally {
          finish(started);
        }
      };
      break;
    case 'async':
      fn = (...args) => {
        const started = monotonic();
        const callback = args.pop() as (error: unknown, result?: unknown) => void;
        let settled = false;
        const done = (error: unknown, result?: unknown): void => {
          if (settled) return;
          settled = true;
          finish(started);
          if (error !== null && error !== undefined && error !== false) {
            report(error);
            callback(null, fallback(args));
          } else {
            callback(null, result);
          }
        };
        try {
          original(...args, done);
        } catch (error) {
          done(error);
        }
      };
      break;
  }
  return { ...tap, fn };
}

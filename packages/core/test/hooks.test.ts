import { describe, expect, it } from 'vitest';
import { createHooks, type Batch, type Status, type TapStats } from '../src/index.js';

const info = { probe: 'p', tables: ['t'], ts: 0 };
const batch: Batch = { table: 't', ts: 0, rows: [{ a: 1 }], snapshot: true };

describe('hooks', () => {
  it('is one frozen object', () => {
    const hooks = createHooks();
    expect(Object.isFrozen(hooks)).toBe(true);
    expect(Object.keys(hooks).sort()).toEqual(['afterCollect', 'beforeCollect', 'beforeWrite', 'configResolved', 'sinkResult', 'status']);
  });

  it('turns a throwing sync tap into a Status naming the tap and hook, and goes on', () => {
    const failures: Status[] = [];
    const hooks = createHooks({ onTapError: (status) => failures.push(status) });
    const seen: string[] = [];
    hooks.beforeWrite.tap('bad-plugin', () => {
      throw new Error('kaboom');
    });
    hooks.beforeWrite.tap('good-plugin', (sink) => {
      seen.push(sink);
    });
    hooks.beforeWrite.call('duckdb', [batch]);
    expect(seen).toEqual(['duckdb']);
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({ code: 'INTERNAL', source: 'bad-plugin', op: 'beforeWrite' });
    expect(failures[0]!.message).toContain("tap 'bad-plugin'");
    expect(failures[0]!.message).toContain('kaboom');
  });

  it('passes a waterfall value on unchanged past a rejecting promise tap', async () => {
    const failures: Status[] = [];
    const hooks = createHooks({ onTapError: (status) => failures.push(status) });
    hooks.afterCollect.tapPromise('broken', () => Promise.reject(new Error('nope')));
    hooks.afterCollect.tapPromise('doubler', async (batches) => [...batches, ...batches]);
    const out = await hooks.afterCollect.promise([batch], info);
    expect(out).toHaveLength(2);
    expect(failures.map((s) => s.source)).toEqual(['broken']);
  });

  it('guards callback-style taps too', async () => {
    const failures: Status[] = [];
    const hooks = createHooks({ onTapError: (status) => failures.push(status) });
    hooks.afterCollect.tapAsync('cb-error', (_batches, _info, done) => done(new Error('cb failed')));
    hooks.afterCollect.tapAsync('cb-throws', () => {
      throw new Error('sync throw in async tap');
    });
    hooks.afterCollect.tapAsync('cb-ok', (batches, _info, done) => done(null, batches.slice(0, 0)));
    const out = await hooks.afterCollect.promise([batch], info);
    expect(out).toEqual([]);
    expect(failures.map((s) => s.source)).toEqual(['cb-error', 'cb-throws']);
  });

  it('lets a bail tap veto with a Status, and ignores a throwing one', async () => {
    const hooks = createHooks({ onTapError: () => undefined });
    hooks.beforeCollect.tap('throws', () => {
      throw new Error('x');
    });
    expect(await hooks.beforeCollect.promise(info)).toBeUndefined();
    hooks.beforeCollect.tap({ name: 'veto', stage: -10 }, () => ({ code: 'UNAVAILABLE', message: 'maintenance', retryable: true }));
    expect((await hooks.beforeCollect.promise(info))?.message).toBe('maintenance');
  });

  it('orders taps by stage, not registration', () => {
    const hooks = createHooks();
    const order: string[] = [];
    hooks.status.tap({ name: 'late', stage: 10 }, () => void order.push('late'));
    hooks.status.tap({ name: 'early', stage: -10 }, () => void order.push('early'));
    hooks.status.call({ code: 'INTERNAL', message: 'x', retryable: false });
    expect(order).toEqual(['early', 'late']);
  });

  it('times every tap', () => {
    const stats = new Map<string, TapStats>();
    let t = 0;
    const hooks = createHooks({ stats, monotonic: () => (t += 5) });
    hooks.sinkResult.tap('timer', () => undefined);
    hooks.sinkResult.call('s', { code: 'OK', message: '', retryable: false });
    hooks.sinkResult.call('s', { code: 'OK', message: '', retryable: false });
    expect(stats.get('sinkResult/timer')).toMatchObject({ calls: 2, failures: 0, totalMs: 10 });
  });
});

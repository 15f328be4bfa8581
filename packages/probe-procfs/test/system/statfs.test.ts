/**
 * filesystem_usage when a statfs call hangs (a hard NFS mount whose server is gone): the
 * collection still ends within its budget, the hung mount is TIMEOUT while the others have
 * rows, no second call is made while the first is outstanding, and the mount is back once its
 * call returns. The hang is a statfs injected through the group's internal API (no FUSE or root).
 */
import type { FileReader } from '@virtualeyes/core';
import { createFakeClock } from '@virtualeyes/core/testing';
import { describe, expect, it } from 'vitest';
import type { FsStats, StatfsFn } from '../../src/system/fs.js';
import { createOverlayReader } from '../helpers.js';
import { collectSystem, hostB, rowsOf, systemCollector } from './context.js';

const STATS: FsStats = { bsize: 4096n, blocks: 10n, bfree: 5n, bavail: 4n, files: 8n, ffree: 2n };
const MOUNTINFO = [
  '26 1 254:0 / / rw,relatime - ext4 /dev/vda rw',
  '21 26 0:20 / /proc rw,relatime - proc proc rw',
  '50 26 0:51 / /mnt/nfs rw,relatime - nfs4 server:/export rw,vers=4.2,hard',
  '51 26 0:52 / /mnt/ok rw,relatime - xfs /dev/vdb rw',
  '',
].join('\n');

/** A statfs whose first call on /mnt/nfs hangs until the test releases it; every other call answers at once. */
function hangingStatfs(): StatfsFn & { calls: string[]; release(): void } {
  const calls: string[] = [];
  let release = (): void => undefined;
  const fn = (path: string): Promise<FsStats> => {
    calls.push(path);
    if (path !== '/mnt/nfs' || calls.filter((called) => called === path).length > 1) return Promise.resolve(STATS);
    return new Promise((resolve) => {
      release = () => resolve(STATS);
    });
  };
  return Object.assign(fn, { calls, release: () => release() });
}

const reader = (): FileReader => createOverlayReader(hostB(), { '/proc/self/mountinfo': MOUNTINFO });

describe('filesystem_usage with a hung statfs', () => {
  it('reports the hung mount as TIMEOUT at the budget, keeps the others, and skips it until the call returns', async () => {
    const clock = createFakeClock();
    const statfs = hangingStatfs();
    const { collector } = systemCollector(reader(), { clock, statfs });

    // The collection waits for statfs on the clock: it ends when the 2000 ms budget has passed.
    let done = false;
    const first = collectSystem(collector, clock, ['filesystem_usage']).finally(() => {
      done = true;
    });
    await clock.advance(1999);
    expect(done).toBe(false);
    await clock.advance(1);
    const one = await first;
    expect(rowsOf(one.batches, 'filesystem_usage').map((row) => row.path)).toEqual(['/', '/mnt/ok']);
    expect(one.errors.map((status) => [status.code, status.op])).toEqual([['TIMEOUT', 'statfs /mnt/nfs']]);
    expect(one.errors[0]!.message).toBe('filesystem_usage: /mnt/nfs (nfs4 server:/export): statfs did not return within the 2000 ms budget (a hung network mount?); skipped until it does');
    expect(statfs.calls.sort()).toEqual(['/', '/mnt/nfs', '/mnt/ok']);

    // The next collection makes no second call to the hung mount, and so does not wait at all.
    await clock.advance(8000);
    const two = await collectSystem(collector, clock, ['filesystem_usage']);
    expect(two.errors.map((status) => status.message)).toEqual([expect.stringMatching(/^filesystem_usage: \/mnt\/nfs .*statfs has not returned for 10000 ms .*skipped until it does$/)]);
    expect(statfs.calls.filter((path) => path === '/mnt/nfs').length).toBe(1);
    expect(rowsOf(two.batches, 'filesystem_usage').length).toBe(2);

    // Once the server answers, the mount is asked again and reported.
    statfs.release();
    await clock.settle();
    const three = await collectSystem(collector, clock, ['filesystem_usage']);
    expect(three.errors).toEqual([]);
    expect(rowsOf(three.batches, 'filesystem_usage').map((row) => row.path)).toEqual(['/', '/mnt/nfs', '/mnt/ok']);
    expect(statfs.calls.filter((path) => path === '/mnt/nfs').length).toBe(2);
  });

  it('classifies a failing statfs by errno (a refusal said once), and a mount point gone since mountinfo as no row and no error', async () => {
    const statfs: StatfsFn = (path) =>
      Promise.reject(Object.assign(new Error(`${path === '/mnt/ok' ? 'EACCES' : 'ENOENT'}: statfs '${path}'`), { code: path === '/mnt/ok' ? 'EACCES' : 'ENOENT' }));
    const { collector, clock } = systemCollector(reader(), { statfs, config: { fsSkipTypes: ['proc', 'nfs4'] } });
    const { batches, errors } = await collectSystem(collector, clock, ['filesystem_usage']);
    expect(rowsOf(batches, 'filesystem_usage')).toEqual([]);
    expect(errors.map((status) => [status.code, status.op])).toEqual([['PERMISSION_DENIED', 'statfs /mnt/ok']]);
    // The refusal stays, so it is not said again.
    expect((await collectSystem(collector, clock, ['filesystem_usage'])).errors).toEqual([]);
  });

  it('stops waiting when the agent aborts the collection', async () => {
    const clock = createFakeClock();
    const { collector } = systemCollector(reader(), { clock, statfs: hangingStatfs() });
    const controller = new AbortController();
    const pending = collectSystem(collector, clock, ['filesystem_usage'], { signal: controller.signal });
    await clock.settle();
    controller.abort();
    const { batches, errors } = await pending;
    expect(rowsOf(batches, 'filesystem_usage').length).toBe(2);
    expect(errors.map((status) => status.code)).toEqual(['TIMEOUT']);
  });
});

describe('filesystem_usage with several hung network mounts', () => {
  it('stops asking network filesystems once MAX_STUCK calls hang, and keeps measuring local ones', async () => {
    const lines = ['26 1 254:0 / / rw,relatime - ext4 /dev/vda rw', '60 26 0:60 / /mnt/a rw - nfs4 a:/export rw,hard', '61 26 0:61 / /mnt/b rw - nfs4 b:/export rw,hard'];
    const texts: Record<string, string> = { '/proc/self/mountinfo': `${lines.join('\n')}\n` };
    const calls: string[] = [];
    const statfs: StatfsFn = (path) => {
      calls.push(path);
      return path === '/' || path === '/mnt/local' ? Promise.resolve(STATS) : new Promise<FsStats>(() => undefined);
    };
    const clock = createFakeClock();
    const { collector } = systemCollector(createOverlayReader(hostB(), texts), { clock, statfs });
    const first = collectSystem(collector, clock, ['filesystem_usage']);
    await clock.advance(2000);
    expect((await first).errors.map((status) => status.op)).toEqual(['statfs /mnt/a', 'statfs /mnt/b']);

    // Two calls hang now (MAX_STUCK): newly mounted network filesystems are not asked; a local one is.
    lines.push('62 26 0:62 / /mnt/c rw - nfs4 c:/export rw,hard', '70 26 0:70 / /mnt/sshfs rw - fuse.sshfs user@host: rw', '71 26 254:16 / /mnt/local rw - xfs /dev/vdb rw');
    texts['/proc/self/mountinfo'] = `${lines.join('\n')}\n`;
    const second = await collectSystem(collector, clock, ['filesystem_usage']);
    expect(rowsOf(second.batches, 'filesystem_usage').map((row) => row.path)).toEqual(['/', '/mnt/local']);
    expect(calls.sort()).toEqual(['/', '/', '/mnt/a', '/mnt/b', '/mnt/local']);
    expect(second.errors.map((status) => status.message.replace(/ \(.*?\):/, ':'))).toEqual([
      expect.stringMatching(/^filesystem_usage: \/mnt\/a: statfs has not returned for 2000 ms/),
      expect.stringMatching(/^filesystem_usage: \/mnt\/b: statfs has not returned/),
      'filesystem_usage: /mnt/c: not asked: 2 statfs calls on other mounts are hung, each holding a libuv thread',
      'filesystem_usage: /mnt/sshfs: not asked: 2 statfs calls on other mounts are hung, each holding a libuv thread',
    ]);
  });
});

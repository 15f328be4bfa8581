// The daemon gives back memory it no longer uses: the program pages only start-up touched, the
// pages a burst of queries touched, the C heap's free memory and the V8 heap's garbage. Real
// madvise and malloc_trim on this very test process, read back from its real /proc/self/smaps.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createMemoryLogger } from '@virtualeyes/core/testing';
import { describe, expect, it } from 'vitest';
import { cleanMappings, createMemoryTidier, fullCollector, loadMemoryCalls, releaseFilePages, trimNativeHeap } from '../src/memory.js';

const linux = process.platform === 'linux';
const fileRss = (): number => cleanMappings(readFileSync('/proc/self/smaps', 'utf8')).fileBytes;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

// Three mappings as /proc/self/smaps shows them (captured here, fields trimmed): clean text,
// relocated read-only data holding private copies, and a writable data segment.
const SMAPS = `55d0c0000000-55d0c0200000 r-xp 00000000 08:01 131 /usr/bin/node
Rss:                1024 kB
Anonymous:             0 kB
55d0c0200000-55d0c0300000 r--p 00200000 08:01 131 /usr/bin/node
Rss:                 512 kB
Anonymous:           256 kB
55d0c0300000-55d0c0400000 rw-p 00300000 08:01 131 /usr/bin/node
Rss:                 128 kB
Anonymous:           128 kB
7ffd00000000-7ffd00021000 rw-p 00000000 00:00 0 [stack]
Rss:                  64 kB
Anonymous:            64 kB
7f0000000000-7f0000001000 r--s 00000000 00:05 9 /memfd:x (deleted)
Rss:                   4 kB
Anonymous:             0 kB
`;

describe('cleanMappings', () => {
  it('takes only readable, unwritable, file-backed mappings with no private copies', () => {
    const { mappings, fileBytes } = cleanMappings(SMAPS);
    expect(mappings).toEqual([{ start: 0x55d0c0000000n, end: 0x55d0c0200000n, path: '/usr/bin/node' }]);
    // File-backed resident bytes, private copies excluded: 1024 + (512 - 256) + (128 - 128); a deleted memfd is not counted.
    expect(fileBytes).toBe((1024 + 256 + 0) * 1024);
  });

  it('finds the Node binary among this process’s own clean mappings', () => {
    if (!linux) return;
    const { mappings } = cleanMappings(readFileSync('/proc/self/smaps', 'utf8'));
    expect(mappings.some((mapping) => mapping.path === process.execPath)).toBe(true);
  });
});

describe.skipIf(!linux)('releasing memory on this process', () => {
  it('drops the resident file-backed pages, and the process keeps working', async () => {
    const calls = await loadMemoryCalls();
    expect(calls.ok).toBe(true);
    if (!calls.ok) return;
    const before = fileRss();
    const released = releaseFilePages(calls.value, { free: false });
    expect(released.ok).toBe(true);
    if (!released.ok) return;
    expect(released.value.refused).toBe(0);
    expect(released.value.mappings).toBeGreaterThan(5);
    expect(released.value.fileBytesBefore).toBeGreaterThan(released.value.fileBytesAfter);
    // Most of the text comes back only when used: well under what was resident before.
    expect(released.value.fileBytesAfter).toBeLessThan(before / 2);
    // The code still runs, faulting back what it needs.
    expect(JSON.parse(JSON.stringify({ a: [1, 2, 3] }))).toEqual({ a: [1, 2, 3] });
    expect(trimNativeHeap(calls.value).ok).toBe(true);
  });

  it('collects the V8 heap’s garbage on demand', () => {
    const collect = fullCollector();
    expect(collect).toBeTypeOf('function');
    let garbage: unknown[] | undefined = Array.from({ length: 200_000 }, (_, i) => ({ i, s: `x${i}` }));
    const withGarbage = process.memoryUsage().heapUsed;
    expect(garbage.length).toBe(200_000);
    garbage = undefined;
    collect?.();
    expect(process.memoryUsage().heapUsed).toBeLessThan(withGarbage - 5 * 1024 * 1024);
  });

  it('the tidier releases start-up pages once recording is steady, and again after requests', async () => {
    const logger = createMemoryLogger('debug');
    const tidier = createMemoryTidier(logger, { releaseAfterMs: 50, idleMs: 50, gapMs: 0, trimEveryMs: 1000, env: {} });
    tidier.requests(0); // before start(): nothing to do yet
    tidier.start();
    await sleep(400);
    readFileSync(fileURLToPath(import.meta.url)); // touch some pages again
    tidier.requests(1);
    await sleep(200);
    // Nothing is given back while a request runs.
    expect(logger.records.filter((record) => record.message.startsWith('Released'))).toHaveLength(1);
    tidier.requests(0);
    await sleep(400);
    tidier.stop();
    const released = logger.records.filter((record) => record.message.startsWith('Released'));
    expect(released.map((record) => record.message.split(':')[0])).toEqual(['Released start-up pages', 'Released the pages requests touched']);
    for (const record of released) expect(Number(record.fields?.fileBytesAfter)).toBeLessThan(Number(record.fields?.fileBytesBefore));
  });

  it('does nothing with VWATCHD_KEEP_MEMORY=1', async () => {
    const logger = createMemoryLogger('debug');
    const tidier = createMemoryTidier(logger, { releaseAfterMs: 20, env: { VWATCHD_KEEP_MEMORY: '1' } });
    tidier.start();
    tidier.requests(0);
    await sleep(150);
    tidier.stop();
    expect(logger.records).toEqual([]);
  });
});

describe('off Linux', () => {
  it('says UNSUPPORTED instead of loading anything', async () => {
    const calls = await loadMemoryCalls('darwin');
    expect(calls.ok).toBe(false);
    if (!calls.ok) expect(calls.status.code).toBe('UNSUPPORTED');
  });
});

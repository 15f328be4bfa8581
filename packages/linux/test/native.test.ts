// libc through koffi, for real: it loads once per process, declares a call that works
// (getpid against process.pid), and names errno values with the preferred spellings.
import { describe, expect, it } from 'vitest';
import { loadLibc } from '../src/native.js';

describe.skipIf(process.platform !== 'linux')('loadLibc', () => {
  it('loads libc once and binds a working call', async () => {
    const first = loadLibc();
    expect(loadLibc()).toBe(first);
    const libc = await first;
    if (!libc.ok) expect.fail(libc.status.message);
    const getpid = libc.value.lib.func('int getpid(void)');
    expect(getpid()).toBe(process.pid);
  });

  it('names errno values, preferring the usual spelling of shared numbers', async () => {
    const libc = await loadLibc();
    if (!libc.ok) expect.fail(libc.status.message);
    const { errnoName } = libc.value;
    expect([errnoName(2), errnoName(11), errnoName(95), errnoName(35)]).toEqual(['ENOENT', 'EAGAIN', 'EOPNOTSUPP', 'EDEADLK']);
    expect(errnoName(9999)).toBe('E9999');
  });

  it('reports errno after a failing call', async () => {
    const libc = await loadLibc();
    if (!libc.ok) expect.fail(libc.status.message);
    const close = libc.value.lib.func('int close(int fd)');
    expect(close(-1)).toBe(-1);
    expect(libc.value.errnoName(libc.value.koffi.errno())).toBe('EBADF');
  });
});

/**
 * The run watch's reading of its rings (src/linux/runs.ts), on rings this test writes itself in
 * the kernel's layout (struct perf_event_mmap_page, then PERF_RECORD_SWITCH_CPU_WIDE, FORK, EXIT
 * and LOST records): the cases a live kernel gives only by chance — a task that holds its
 * CPU through a whole interval, a CPU with no record yet, lost records, an overflowed ring, a
 * record that does not parse. runs.test.ts checks the same watch on this host's real kernel.
 */
import { describe, expect, it } from 'vitest';
import { createRunWatch, DATA_PAGES, type Native, type RunWatch } from '../src/linux/runs.js';

const PAGE = 4096;
const SIZE = DATA_PAGES * PAGE;
const SWITCH_OUT = 1 << 13;

/** One CPU's ring as the kernel would leave it: records written at the head, which the watch reads up to. */
class FakeRing {
  readonly memory = new ArrayBuffer(PAGE + SIZE);
  readonly view = new DataView(this.memory);
  head = 0;

  private put(type: number, misc: number, body: readonly number[]): void {
    const size = 8 + body.length * 4;
    const at = (offset: number): number => PAGE + ((this.head + offset) % SIZE);
    this.view.setUint32(at(0), type, true);
    this.view.setUint16(at(4), misc, true);
    this.view.setUint16(at(6), size, true);
    body.forEach((word, i) => this.view.setUint32(at(8 + i * 4), word, true));
    this.head += size;
    this.view.setBigUint64(1024, BigInt(this.head), true);
  }

  /** `from` is switched out for `to` (the record of the task leaving: sample pid `from`, next_prev_pid `to`). */
  switchOut(from: number, to: number): void {
    this.put(15, SWITCH_OUT, [to, to, from, from]);
  }

  /** `to` is switched in after `from` (sample pid `to`, next_prev_pid `from`). */
  switchIn(to: number, from: number): void {
    this.put(15, 0, [from, from, to, to]);
  }

  /** The kernel's fork record (pid, ppid, tid, ptid, time): `child` of `parent`, written before the child first runs. */
  fork(child: number, parent: number, time: number, tid = child): void {
    this.put(7, 0, [child, parent, tid, parent, time, 0]);
  }

  /** The kernel's exit record of `pid` (of its thread `tid`). */
  exit(pid: number, parent: number, time: number, tid = pid): void {
    this.put(4, 0, [pid, parent, tid, parent, time, 0]);
  }

  lost(): void {
    this.put(2, 0, [1, 0, 5, 0, 0, 0]);
  }

  /** A record whose size is not a multiple of 8, as a corrupted ring would show. */
  garbage(): void {
    this.put(15, 0, [1, 2, 3]);
  }

  /** The kernel wrote more than the ring holds since the watch last read it. */
  overrun(): void {
    this.head += SIZE + 8;
    this.view.setBigUint64(1024, BigInt(this.head), true);
  }

  get tail(): number {
    return Number(this.view.getBigUint64(1032, true));
  }
}

function watchOver(rings: readonly FakeRing[], cpuList: { now: string } = { now: '0-1' }): { watch: RunWatch; closed: number[] } {
  const closed: number[] = [];
  const native: Native = {
    open: (_attr, cpu) => 100 + cpu,
    mmap: (fd) => rings[fd - 100],
    view: (pointer) => (pointer as FakeRing).memory,
    munmap: () => undefined,
    close: (fd) => void closed.push(fd),
    errno: () => 'EINVAL',
  };
  const made = createRunWatch(native, rings.map((_, cpu) => cpu), () => cpuList.now, '0-1');
  if (!made.ok) throw new Error(made.status.message);
  return { watch: made.value, closed };
}

describe('the run watch over rings in the kernel layout', () => {
  it('counts both sides of a switch, and the task that holds its CPU through a quiet interval', () => {
    const rings = [new FakeRing(), new FakeRing()];
    const { watch } = watchOver(rings);
    rings[0]!.switchOut(10, 20);
    rings[1]!.switchIn(30, 0);
    watch.drain();
    const first = watch.seq;
    rings[0]!.switchOut(20, 0);
    watch.drain();
    expect(watch.ranSince(20, first)).toBe(true);
    expect(watch.ranSince(10, first)).toBe(false);
    // 30 was switched in on CPU 1 and never out: it ran through the interval without a record.
    expect(watch.ranSince(30, first)).toBe(true);
    expect(watch.ranSince(40, first)).toBe(false);
    // The tail is written back, so the kernel may reuse what was read.
    expect(rings[0]!.tail).toBe(rings[0]!.head);
    // CPU 0 went idle (0): nobody on it runs in the next interval.
    const second = watch.seq;
    watch.drain();
    expect(watch.ranSince(20, second)).toBe(false);
    expect(watch.ranSince(30, second)).toBe(true);
  });

  it('does not know an interval while a CPU has had no record since the open', () => {
    const rings = [new FakeRing(), new FakeRing()];
    const { watch } = watchOver(rings);
    rings[0]!.switchOut(10, 20);
    watch.drain();
    expect(watch.ranSince(99, 0)).toBe(true);
    rings[1]!.switchOut(30, 0);
    watch.drain();
    const known = watch.seq;
    watch.drain();
    expect(watch.ranSince(99, known)).toBe(false);
    expect(watch.ranSince(20, known)).toBe(true);
  });

  it('counts everyone as run in an interval with lost records, an overrun ring or a record that does not parse, and recovers after', () => {
    for (const spoil of [(ring: FakeRing) => ring.lost(), (ring: FakeRing) => ring.overrun(), (ring: FakeRing) => ring.garbage()]) {
      const rings = [new FakeRing(), new FakeRing()];
      const { watch } = watchOver(rings);
      rings[0]!.switchOut(10, 0);
      rings[1]!.switchOut(11, 0);
      watch.drain();
      const before = watch.seq;
      spoil(rings[0]!);
      watch.drain();
      expect(watch.ranSince(99, before)).toBe(true);
      const after = watch.seq;
      rings[0]!.switchOut(12, 0);
      watch.drain();
      expect(watch.ranSince(99, after)).toBe(false);
      expect(watch.ranSince(12, after)).toBe(true);
    }
  });

  it('closes its rings and counts everyone as run once the CPU list changes, or once closed', () => {
    const rings = [new FakeRing(), new FakeRing()];
    const cpuList = { now: '0-1' };
    const { watch, closed } = watchOver(rings, cpuList);
    rings[0]!.switchOut(10, 0);
    rings[1]!.switchOut(11, 0);
    watch.drain(true);
    const before = watch.seq;
    watch.drain(true);
    expect(watch.ranSince(99, before)).toBe(false);
    cpuList.now = '0-2';
    watch.drain(true);
    expect(closed.sort()).toEqual([100, 101]);
    expect(watch.ranSince(99, watch.seq)).toBe(true);

    const other = watchOver([new FakeRing(), new FakeRing()]);
    other.watch.close();
    other.watch.close();
    expect(other.closed.sort()).toEqual([100, 101]);
    expect(other.watch.ranSince(99, other.watch.seq)).toBe(true);
  });

  it('forgets pids that are gone, but not those first seen after the scan it is told of', () => {
    const rings = [new FakeRing(), new FakeRing()];
    const { watch } = watchOver(rings);
    rings[0]!.switchOut(10, 0);
    rings[1]!.switchOut(11, 0);
    watch.drain();
    const scanned = watch.seq;
    rings[0]!.switchIn(12, 0);
    watch.drain();
    watch.retain(new Set([11]), scanned);
    expect(watch.ranSince(10, 0)).toBe(false);
    expect(watch.ranSince(11, 0)).toBe(true);
    expect(watch.ranAfter(scanned)).toEqual([12]);
  });

  it('gives every pid switched, forked or exited after a drain, and nothing while an interval is not known', () => {
    const rings = [new FakeRing(), new FakeRing()];
    const { watch } = watchOver(rings);
    // No record on either CPU yet: who holds them is not known.
    watch.drain();
    expect(watch.ranAfter(0)).toBeUndefined();
    rings[0]!.switchOut(10, 0);
    rings[1]!.switchOut(11, 0);
    watch.drain();
    const since = watch.seq;
    // A child forked but not yet run shows only in the fork record; a new thread in its process's.
    rings[0]!.fork(40, 10, 5);
    rings[1]!.fork(11, 11, 5, 44);
    // Ended since: left out, even when the exit is on another CPU's ring than the fork; one ended and forked again is in.
    rings[0]!.exit(41, 11, 6);
    rings[0]!.exit(42, 10, 8);
    rings[1]!.fork(42, 10, 7);
    rings[1]!.exit(43, 10, 9);
    rings[0]!.fork(43, 10, 10);
    // A thread's exit is not its process's.
    rings[1]!.exit(11, 11, 11, 44);
    watch.drain();
    expect(watch.ranAfter(since)?.sort()).toEqual([11, 40, 43]);
    expect(watch.ranAfter(watch.seq)).toEqual([]);
    expect(watch.forkedAfter(43, since)).toBe(true);
    expect(watch.forkedAfter(10, since)).toBe(false);
    expect(watch.forkedAfter(43, watch.seq)).toBe(false);
    rings[1]!.lost();
    watch.drain();
    expect(watch.ranAfter(since)).toBeUndefined();
  });
});

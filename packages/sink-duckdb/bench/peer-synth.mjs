// Turns a short 1 Hz capture of /proc (peer-capture.mjs) into as many 1 Hz samples as wanted,
// keeping what the capture saw: processes present throughout keep their captured rows (an idle
// sleeper's never change), with their counters advancing by the captured per-second deltas,
// cycled; processes seen only part of the time exit when they did; and the short-lived
// processes that appeared during the capture appear again at the captured rate, with their
// captured rows and lifetimes, new pids (advancing as the kernel's fork counter did) and new
// start times. Deterministic: the same capture gives the same samples.

/** process_stats columns that only grow: they advance by the captured deltas, cycled. */
const COUNTERS = [
  'utime', 'stime', 'minflt', 'majflt', 'read_bytes', 'write_bytes', 'read_chars', 'write_chars',
  'voluntary_ctxt_switches', 'nonvoluntary_ctxt_switches',
];
/** Linux hands out pids from 300 after wrapping at pid_max. */
const PID_WRAP_FLOOR = 300;

/** The capture, reorganized per process (pid, start_time): when it was seen and its rows then. */
export function buildModel(capture) {
  const samples = capture.samples;
  const n = samples.length;
  if (n < 3) throw new Error(`a capture needs at least 3 samples, got ${n}`);
  const entities = new Map();
  for (const [index, sample] of samples.entries()) {
    const processes = new Map(sample.processes.map((row) => [`${row.pid}/${row.start_time}`, row]));
    for (const stats of sample.stats) {
      const key = `${stats.pid}/${stats.start_time}`;
      let entity = entities.get(key);
      if (entity === undefined) {
        entity = { pid: stats.pid, startTime: stats.start_time, first: index, last: index, stats: [], processes: [] };
        entities.set(key, entity);
      }
      entity.last = index;
      entity.stats[index] = stats;
      entity.processes[index] = processes.get(key);
    }
  }
  for (const entity of entities.values()) {
    // A pid missed in one scan (it raced the read) keeps its previous rows there.
    for (let index = entity.first; index <= entity.last; index += 1) {
      entity.stats[index] ??= entity.stats[index - 1];
      entity.processes[index] ??= entity.processes[index - 1] ?? entity.processes.find((row) => row !== undefined);
    }
  }
  const all = [...entities.values()];
  const persistent = all.filter((entity) => entity.first === 0 && entity.last === n - 1);
  const leaving = all.filter((entity) => entity.first === 0 && entity.last < n - 1);
  const arrivals = all.filter((entity) => entity.first > 0);
  const bySlot = Array.from({ length: n }, () => []);
  for (const entity of arrivals) bySlot[entity.first].push(entity);
  const changed = persistent.filter((entity) => entity.stats.some((row) => !sameValues(row, entity.stats[0])));
  return {
    n,
    period: n - 1,
    ts0: samples[0].ts,
    pidMax: capture.pidMax,
    // The fork counter's advance over the capture's period: where the kernel's next pids lie a period later.
    pidAdvance: samples[n - 1].forks - samples[0].forks,
    persistent: persistent.map((entity) => prepareCycled(entity, n)),
    leaving,
    bySlot,
    summary: {
      captureSeconds: n,
      processesPerScan: median(samples.map((sample) => sample.stats.length)),
      persistent: persistent.length,
      persistentChanging: changed.length,
      persistentIdle: persistent.length - changed.length,
      sleepers: persistent.filter((entity) => entity.processes[0]?.cmdline === 'sleep 86400').length,
      exitedDuringCapture: leaving.length,
      appearedPerSecond: round(arrivals.length / (n - 1), 2),
      appearedMeanSamplesSeen: round(arrivals.reduce((sum, entity) => sum + entity.last - entity.first + 1, 0) / Math.max(1, arrivals.length), 2),
      appearedStillAliveAtEnd: arrivals.filter((entity) => entity.last === n - 1).length,
      forksPerSecond: round((samples[n - 1].forks - samples[0].forks) / ((samples[n - 1].ts - samples[0].ts) / 1000), 1),
    },
  };
}

/** A persistent process's rows per phase of the cycle and the per-cycle advance of each counter. */
function prepareCycled(entity, n) {
  const moving = [];
  for (const column of COUNTERS) {
    const first = entity.stats[0][column];
    const last = entity.stats[n - 1][column];
    if (first === null || last === null || first === undefined || last === undefined) continue;
    if (last !== first) moving.push([column, last - first]);
  }
  return { entity, moving, stats: entity.stats.slice(0, n - 1), processes: entity.processes.slice(0, n - 1) };
}

function sameValues(a, b) {
  for (const key of Object.keys(a)) if (a[key] !== b[key]) return false;
  return true;
}

/**
 * An iterator over `samples` synthesized samples from `start` (epoch ms) at 1 Hz: each step
 * gives `{ ts, processes, stats }`, fresh row arrays whose rows are never changed afterwards.
 */
export function synthesize(model, { start, samples }) {
  const { period, pidMax } = model;
  const shift = start - model.ts0;
  const span = pidMax - PID_WRAP_FLOOR;
  const shifted = (row, pid, startTime) => ({ ...row, pid, start_time: startTime });
  // Persistent processes: their rows per phase, start times moved to the synthesized clock once.
  const cycled = model.persistent.map(({ entity, moving, stats, processes }) => ({
    moving,
    stats: stats.map((row) => shifted(row, entity.pid, entity.startTime + shift)),
    processes: processes.map((row) => shifted(row, entity.pid, entity.startTime + shift)),
  }));
  const leaving = model.leaving.map((entity) => ({
    pid: entity.pid,
    last: entity.last,
    stats: entity.stats.map((row) => shifted(row, entity.pid, entity.startTime + shift)),
    processes: entity.processes.map((row) => shifted(row, entity.pid, entity.startTime + shift)),
  }));
  // Pids in use: a new process never gets one (the kernel skips them too).
  const taken = new Set([...model.persistent.map(({ entity }) => entity.pid), ...model.leaving.map((entity) => entity.pid)]);
  let live = [];
  let step = 0;
  const allocate = (pid, cycle) => {
    let next = PID_WRAP_FLOOR + mod(pid - PID_WRAP_FLOOR + cycle * model.pidAdvance, span);
    while (taken.has(next)) next = PID_WRAP_FLOOR + mod(next + 1 - PID_WRAP_FLOOR, span);
    taken.add(next);
    return next;
  };
  return {
    next() {
      if (step >= samples) return { done: true, value: undefined };
      const t = step;
      step += 1;
      const ts = start + t * 1000;
      const phase = t % period;
      const lap = Math.floor(t / period);
      const stats = [];
      const processes = [];
      for (const process of cycled) {
        let row = process.stats[phase];
        if (lap > 0 && process.moving.length > 0) {
          row = { ...row };
          for (const [column, advance] of process.moving) row[column] += lap * advance;
        }
        stats.push(row);
        processes.push(process.processes[phase]);
      }
      for (const process of leaving) {
        if (t > process.last) {
          if (t === process.last + 1) taken.delete(process.pid);
          continue;
        }
        stats.push(process.stats[t]);
        processes.push(process.processes[t]);
      }
      if (t > 0) {
        const slot = 1 + ((t - 1) % period);
        const cycle = Math.floor((t - 1) / period);
        for (const entity of model.bySlot[slot]) {
          live.push({ entity, born: t, pid: allocate(entity.pid, cycle), startTime: entity.startTime + shift + (t - entity.first) * 1000 });
        }
      }
      const staying = [];
      for (const instance of live) {
        const index = instance.entity.first + (t - instance.born);
        if (index > instance.entity.last) {
          taken.delete(instance.pid);
          continue;
        }
        staying.push(instance);
        stats.push(shifted(instance.entity.stats[index], instance.pid, instance.startTime));
        processes.push(shifted(instance.entity.processes[index], instance.pid, instance.startTime));
      }
      live = staying;
      return { done: false, value: { ts, processes, stats } };
    },
    [Symbol.iterator]() {
      return this;
    },
  };
}

function mod(value, divisor) {
  return ((value % divisor) + divisor) % divisor;
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function round(value, digits) {
  return Number(value.toFixed(digits));
}

// probe-hello: uptime and load averages from /proc/uptime and /proc/loadavg, one metric table.
// The plugin kit supplies the rest: manifest, wrapping, closed state, UNSUPPORTED off Linux.
import { column, defineProbe, err, fail, ok, StatusCode, type Result } from '@virtualeyes/core';
import { identity } from './identity.js';

/** The numbers at the start of a /proc file, or why there are fewer than `count`. */
function numbers(text: Result<string>, path: string, count: number): Result<number[]> {
  if (!text.ok) return text;
  const values = text.value.trim().split(/\s+/).slice(0, count).map(Number);
  if (values.length < count || values.some((value) => !Number.isFinite(value))) {
    return err(fail(StatusCode.PARSE_ERROR, `unexpected ${path}: '${text.value.trim().slice(0, 80)}'`));
  }
  return ok(values);
}

/** The probe's module: `manifest` and `createProbe`, as the loader expects. */
export const { manifest, createProbe } = defineProbe<Record<string, never>>({
  identity,
  name: 'hello',
  description: 'Seconds since boot and the load averages, from /proc/uptime and /proc/loadavg.',
  configSchema: { type: 'object', additionalProperties: false, properties: {} },
  tables: [
    {
      name: 'hello',
      kind: 'metric',
      description: 'Uptime and load, one row per sample.',
      key: [],
      defaultIntervalMs: 1000,
      columns: [
        column.float64('uptime', 'Seconds since boot.', { unit: 's' }),
        column.float64('load1', 'Load average over 1 minute.'),
        column.float64('load5', 'Load average over 5 minutes.'),
        column.float64('load15', 'Load average over 15 minutes.'),
      ],
    },
  ],
  unsupported: (platform) => `hello reads Linux's /proc/uptime and /proc/loadavg, which ${platform} does not have`,
  platforms: {
    linux: (_config, { files, clock }) =>
      ok({
        collect() {
          const uptime = numbers(files.readText('/proc/uptime'), '/proc/uptime', 1);
          const load = numbers(files.readText('/proc/loadavg'), '/proc/loadavg', 3);
          if (!uptime.ok || !load.ok) return { batches: [], errors: [uptime, load].flatMap((read) => (read.ok ? [] : [read.status])) };
          const [seconds = 0] = uptime.value;
          const [load1 = 0, load5 = 0, load15 = 0] = load.value;
          return { batches: [{ table: 'hello', ts: clock.now(), snapshot: true, rows: [{ uptime: seconds, load1, load5, load15 }] }], errors: [] };
        },
      }),
  },
});

// The contract suites run against plugins built with the kit, proving the suites themselves
// pass a well-behaved plugin (the plugin packages run them against their real
// implementations): a probe that counts, defined here, and the memory sink core ships.
import { column, defineProbe, ok, TableKind } from '../src/index.js';
import * as memory from '../src/testing/memory-sink.js';
import { probeContractSuite, sinkContractSuite } from '../src/testing/index.js';

const counter = defineProbe<Record<string, never>>({
  identity: { packageName: '@fixture/probe-counter', version: '1.2.3', coreRange: '>=0.1.0' },
  name: 'counter',
  description: 'Counts its collections, for the contract suite.',
  configSchema: { type: 'object', additionalProperties: false, properties: {} },
  tables: [
    {
      name: 'ticks',
      kind: TableKind.METRIC,
      description: 'One row per collection.',
      key: [],
      defaultIntervalMs: 1000,
      columns: [column.int64('n', 'Collections so far.')],
    },
  ],
  platforms: {
    any: () => {
      let n = 0;
      return ok({
        collect: (context) => {
          n += 1;
          return { batches: [{ table: 'ticks', ts: context.ts, snapshot: true, rows: [{ n }] }], errors: [] };
        },
      });
    },
  },
});

probeContractSuite({ module: counter });
sinkContractSuite({ module: memory, options: () => ({}) });

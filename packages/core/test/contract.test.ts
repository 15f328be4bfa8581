// The contract suites run against the fixture plugins, proving the suites themselves pass a
// well-behaved plugin (the plugin packages run them against their real implementations).
import { probeContractSuite, sinkContractSuite } from '../src/testing/index.js';
import type { ProbeExports, SinkExports } from '../src/testing/index.js';
import * as counter from './fixtures/plugins/probe-counter.mjs';
import * as memory from './fixtures/plugins/sink-memory.mjs';

probeContractSuite({ module: counter as unknown as ProbeExports });
sinkContractSuite({ module: memory as unknown as SinkExports, options: () => ({}) });

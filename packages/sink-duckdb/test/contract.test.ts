// The sink contract suite from core, run against the real DuckDB sink on fresh store files.
import { sinkContractSuite } from '@virtualeyes/core/testing';
import type { SinkModule } from '@virtualeyes/core';
import { createReader, createSink, manifest } from '../src/index.js';
import { useTempDir } from './helpers.js';

const newPath = useTempDir('sink-duckdb-contract-');

sinkContractSuite({
  module: { manifest, createSink, createReader } as unknown as SinkModule,
  options: () => ({ path: newPath() }),
});

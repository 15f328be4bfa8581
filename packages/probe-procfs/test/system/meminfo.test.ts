/**
 * The meminfo fields added for the system work (DirectMap*, Vmalloc*, *PmdMapped, Cma*, Balloon,
 * Unaccepted…): on the host-a capture the memory table gives each as /proc/meminfo has it, in
 * bytes, and null where this kernel has none; on the live host the same holds at one instant.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createFileReader } from '@virtualeyes/core';
import { createFixtureReader } from '@virtualeyes/core/testing';
import { describe, expect, it } from 'vitest';
import { MEMINFO_FIELDS } from '../../src/tables.js';
import { batchOf, collect, probeOver, stepDir } from '../helpers.js';

const ADDED = ['WritebackTmp', 'NFS_Unstable', 'Bounce', 'SecPageTables', 'VmallocTotal', 'VmallocChunk', 'ShmemPmdMapped', 'FilePmdMapped', 'CmaTotal', 'CmaFree', 'Balloon', 'Unaccepted', 'DirectMap4k', 'DirectMap2M', 'DirectMap4M', 'DirectMap1G'];

/** key → bytes, read here with a regular expression rather than the probe's parser. */
const meminfo = (text: string): Map<string, number> => new Map([...text.matchAll(/^(\S+):\s+(\d+) kB$/gm)].map((match) => [match[1]!, Number(match[2]) * 1024]));

describe('memory table, added meminfo fields', () => {
  it('declares each added field as a nullable bytes column', () => {
    for (const key of ADDED) {
      const field = MEMINFO_FIELDS.find(([, name]) => name === key);
      expect(field, key).toBeDefined();
      expect(field![2]).toBe('bytes');
    }
  });

  it('reads them from a capture, null where the kernel has none', async () => {
    const dir = stepDir('host-a', 'step0');
    const values = meminfo(readFileSync(join(dir, 'proc/meminfo'), 'utf8'));
    const { batches } = await collect(probeOver(createFixtureReader(dir)), ['memory']);
    const row = batchOf(batches, 'memory').rows[0]!;
    for (const key of ADDED) {
      const column = MEMINFO_FIELDS.find(([, name]) => name === key)![0];
      expect(row[column], key).toBe(values.get(key) ?? null);
    }
    expect(row.direct_map_2m).not.toBeNull();
    expect(row.cma_total).toBeNull();
  });

  it.runIf(process.platform === 'linux')('reads the static ones from the live host as /proc/meminfo has them', async () => {
    const values = meminfo(readFileSync('/proc/meminfo', 'utf8'));
    const { batches } = await collect(probeOver(createFileReader()), ['memory']);
    const row = batchOf(batches, 'memory').rows[0]!;
    for (const key of ['VmallocTotal', 'DirectMap4k', 'DirectMap2M', 'DirectMap1G', 'CmaTotal', 'Unaccepted']) {
      const column = MEMINFO_FIELDS.find(([, name]) => name === key)![0];
      expect(row[column], key).toBe(values.get(key) ?? null);
    }
  });
});

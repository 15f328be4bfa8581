/**
 * The probe contract suite from core, run against this package on the real /proc: manifest,
 * lifecycle, schema-valid rows with unique keys, independent instances, collect after close.
 * process_events is left out of the collected tables: it returns one batch per distinct event
 * time, so two instances started milliseconds apart on a live host never return the same list
 * of batches, which the suite's independence check compares. Its socket (processEvents is off
 * by default) and its rows are checked by test/events/live.privileged.test.ts.
 */
import { probeContractSuite } from '@virtualeyes/core/testing';
import { EventsTable } from '../src/events/tables.js';
import { createProbe, manifest } from '../src/index.js';

const tables = manifest.tables.filter((table) => table.defaultIntervalMs !== undefined && table.name !== EventsTable.PROCESS_EVENTS).map((table) => table.name);

probeContractSuite({ module: { manifest, createProbe }, supported: process.platform === 'linux', tables });

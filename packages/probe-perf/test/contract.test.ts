/**
 * The probe contract suite from core, run against this package on the real kernel: manifest,
 * lifecycle, schema-valid rows with unique keys, independent instances, collect after close.
 * On this project's VM the hardware events come back UNSUPPORTED; the suite must still pass.
 */
import { probeContractSuite } from '@virtualeyes/core/testing';
import { createProbe, manifest } from '../src/index.js';

probeContractSuite({ module: { manifest, createProbe }, supported: process.platform === 'linux' });

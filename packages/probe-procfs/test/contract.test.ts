/**
 * The probe contract suite from core, run against this package on the real /proc: manifest,
 * lifecycle, schema-valid rows with unique keys, independent instances, collect after close.
 */
import { probeContractSuite } from '@virtualeyes/core/testing';
import { createProbe, manifest } from '../src/index.js';

probeContractSuite({ module: { manifest, createProbe }, supported: process.platform === 'linux' });

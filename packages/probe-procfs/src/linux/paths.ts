/**
 * Every path the probe reads, built once per instance from the configured roots, so the
 * collectors never assemble strings for the fixed files and tests can point any root at a
 * fixture folder.
 */
import type { ProcfsConfig } from '../config.js';

/** Absolute paths of the files and folders this probe reads. */
export interface Paths {
  readonly proc: string;
  readonly stat: string;
  readonly meminfo: string;
  readonly loadavg: string;
  readonly cpuinfo: string;
  readonly hostname: string;
  readonly osrelease: string;
  readonly version: string;
  readonly arch: string;
  readonly bootId: string;
  readonly system: string;
  readonly nodes: string;
  readonly osRelease: string;
  readonly machineId: string;
  readonly passwd: string;
}

/** Builds the paths under the configured roots. */
export function buildPaths(config: Pick<ProcfsConfig, 'procRoot' | 'sysRoot' | 'etcRoot'>): Paths {
  const proc = trimSlash(config.procRoot);
  const sys = trimSlash(config.sysRoot);
  const etc = trimSlash(config.etcRoot);
  return {
    proc,
    stat: `${proc}/stat`,
    meminfo: `${proc}/meminfo`,
    loadavg: `${proc}/loadavg`,
    cpuinfo: `${proc}/cpuinfo`,
    hostname: `${proc}/sys/kernel/hostname`,
    osrelease: `${proc}/sys/kernel/osrelease`,
    version: `${proc}/sys/kernel/version`,
    arch: `${proc}/sys/kernel/arch`,
    bootId: `${proc}/sys/kernel/random/boot_id`,
    system: `${sys}/devices/system`,
    nodes: `${sys}/devices/system/node`,
    osRelease: `${etc}/os-release`,
    machineId: `${etc}/machine-id`,
    passwd: `${etc}/passwd`,
  };
}

function trimSlash(root: string): string {
  return root.length > 1 && root.endsWith('/') ? root.slice(0, -1) : root;
}

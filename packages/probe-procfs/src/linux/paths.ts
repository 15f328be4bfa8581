/**
 * Every fixed path the probe reads. They are the usual absolute paths: the FileReader in the
 * probe's deps maps them to the host's roots (the agent's `roots`, HOST_PROC…) or to a
 * fixture folder in tests, so the probe never builds paths from a root of its own.
 */

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

/** The paths, read through `deps.files`. */
export const PATHS: Paths = Object.freeze({
  proc: '/proc',
  stat: '/proc/stat',
  meminfo: '/proc/meminfo',
  loadavg: '/proc/loadavg',
  cpuinfo: '/proc/cpuinfo',
  hostname: '/proc/sys/kernel/hostname',
  osrelease: '/proc/sys/kernel/osrelease',
  version: '/proc/sys/kernel/version',
  arch: '/proc/sys/kernel/arch',
  bootId: '/proc/sys/kernel/random/boot_id',
  system: '/sys/devices/system',
  nodes: '/sys/devices/system/node',
  osRelease: '/etc/os-release',
  machineId: '/etc/machine-id',
  passwd: '/etc/passwd',
});

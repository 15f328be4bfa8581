/**
 * The system group's options: their JSON Schema properties (merged into the probe's CONFIG_SCHEMA,
 * the single source of defaults) and their type (part of ProcfsConfig).
 */
import type { JsonSchema } from '@virtualeyes/core';

/** The system group's options, after defaults. */
export interface SystemOptions {
  /** Filesystem types filesystem_usage does not statfs (pseudo filesystems, and autofs, whose statfs would mount). */
  readonly fsSkipTypes: readonly string[];
  /** Deepest cgroup the cgroups table walks to, the root being depth 0. */
  readonly cgroupMaxDepth: number;
  /** Most cgroups the cgroups table reports per collection (breadth first, so shallow ones come first). */
  readonly cgroupMaxCount: number;
}

/** Defaults of {@link SystemOptions}. */
export const SYSTEM_DEFAULTS: SystemOptions = {
  fsSkipTypes: [
    'autofs',
    'binfmt_misc',
    'bpf',
    'cgroup',
    'cgroup2',
    'configfs',
    'debugfs',
    'devpts',
    'efivarfs',
    'fusectl',
    'hugetlbfs',
    'mqueue',
    'nsfs',
    'proc',
    'pstore',
    'rpc_pipefs',
    'securityfs',
    'selinuxfs',
    'sysfs',
    'tracefs',
  ],
  cgroupMaxDepth: 4,
  cgroupMaxCount: 1000,
};

/** JSON Schema properties of {@link SystemOptions}. */
export const SYSTEM_OPTIONS: Readonly<Record<string, JsonSchema>> = {
  fsSkipTypes: {
    type: 'array',
    items: { type: 'string', minLength: 1 },
    uniqueItems: true,
    default: SYSTEM_DEFAULTS.fsSkipTypes,
    description: 'Filesystem types filesystem_usage does not statfs: pseudo filesystems with no space to report, and autofs (statfs would trigger the mount). tmpfs and devtmpfs are kept, as df keeps them.',
  },
  cgroupMaxDepth: {
    type: 'integer',
    minimum: 0,
    maximum: 64,
    default: SYSTEM_DEFAULTS.cgroupMaxDepth,
    description: 'Deepest cgroup the cgroups table walks to (the root is 0; 4 reaches the containers of a Kubernetes pod slice).',
  },
  cgroupMaxCount: {
    type: 'integer',
    minimum: 1,
    maximum: 1000000,
    default: SYSTEM_DEFAULTS.cgroupMaxCount,
    description: 'Most cgroups the cgroups table reports per collection, walked breadth first; beyond it the walk stops (reported once).',
  },
};

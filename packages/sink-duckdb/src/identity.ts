/**
 * Who this plugin is, for the plugin kit's manifest: generated from package.json by
 * scripts/version-gen.mjs at every build and after `changeset version`. Do not edit.
 */
import type { PluginIdentity } from '@virtualeyes/core';

/** @virtualeyes/sink-duckdb as its package.json describes it. */
export const identity: PluginIdentity = {
  packageName: '@virtualeyes/sink-duckdb',
  version: '0.1.0',
  coreRange: '^0.1.0',
};

/**
 * This package's version, reported by `--version` and the status endpoint.
 * Generated from package.json by scripts/version-gen.mjs; a test keeps the two equal.
 */

/** The version of @virtualeyes/vwatchd. */
export const VERSION = '0.1.0';

/**
 * This package's version, reported by `--version`.
 * Generated from package.json by scripts/version-gen.mjs; a test keeps the two equal.
 */

/** The version of @virtualeyes/virtualeyes. */
export const VERSION = '0.1.0';

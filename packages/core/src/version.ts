/**
 * This package's version, checked by the loader against each plugin's coreRange.
 * Generated from package.json by scripts/version-gen.mjs; a test keeps the two equal.
 */

/** The version of @virtualeyes/core. */
export const CORE_VERSION = '0.1.0';

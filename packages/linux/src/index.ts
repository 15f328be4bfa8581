/**
 * @virtualeyes/linux: what every Linux plugin of virtualeyes would otherwise repeat: the
 * /proc/PID/stat parser, boot time and USER_HZ, process identity (pid, start_time), exact
 * integer scanning with one rule past 2^53, and what an errno says about a vanished pid.
 */
export { findLine, MAX_BTIME, parseBtime, readBootMs } from './boot.js';
export { processKey, processStartTime } from './identity.js';
export { clip, parseError } from './parse-error.js';
export { classifyPidErrno, classifyPidStatus, PidErrno } from './pid-errno.js';
export type { PidAccess } from './pid-errno.js';
export { parsePidStat } from './pid-stat.js';
export type { PidStat } from './pid-stat.js';
export { fieldEnd, INT64_MAX, multiplyCount, readCount, readInt, readUint, skipBlanks, toCount } from './scan.js';
export type { Count } from './scan.js';
export { DEFAULT_USER_HZ, MAX_TICKS, ticksToMs } from './ticks.js';

/**
 * dsprobe's public API for programs that embed it.
 */
export * from './types.js';
export type * from './scenario/types.js';
export { EXIT, DsprobeError } from './errors.js';
export { monotonicClock, manualClock, type Clock } from './run/clock.js';
export { seededRandom, type Random } from './run/random.js';
export * from './measure/hist.js';

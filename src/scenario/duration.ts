/** Moved to the ground floor (src/time/duration.ts) so plan/ and cost/ can use it without importing scenario/. */
export * from '../time/duration.js';

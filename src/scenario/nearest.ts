/** Moved to the ground floor (src/nearest.ts) so measure/ can use it without importing scenario/. */
export * from '../nearest.js';

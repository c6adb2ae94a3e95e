/** Moved to the ground floor (src/models.ts) so mock/ and measure/ can use it without importing scenario/. */
export * from '../models.js';

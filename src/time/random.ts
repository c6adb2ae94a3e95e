/**
 * Seeded randomness: every random choice in dsprobe and its mock comes from one of these,
 * seeded from the scenario's `seed`, so a run can be repeated.
 */

/** A seeded source of uniform floats in [0, 1). */
export interface Random {
  next(): number;
  /** Integer in [min, max] inclusive. */
  int(min: number, max: number): number;
  /** A fresh independent stream derived from this one and a label (stable for a given seed and label). */
  fork(label: string): Random;
}

function hashString(s: string): number {
  // FNV-1a 32-bit.
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** mulberry32: small, fast, good enough for load generation (not for cryptography). */
export function seededRandom(seed: number): Random {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (min, max) => min + Math.floor(next() * (max - min + 1)),
    fork: (label) => seededRandom((seed ^ hashString(label)) >>> 0),
  };
}

/**
 * Bounded work for any scenario value: the documented maxima (docs/scenario.md "Limits"). A scenario past one
 * is a validation error (exit 2) with its position, before anything is planned, allocated or sent.
 */

/** Largest scenario file read, bytes (a real scenario is a few KiB). */
export const MAX_SCENARIO_BYTES = 1024 * 1024;
/** Longest duration anywhere in a scenario (7 days): it fits one timer (Node's limit is 2^31-1 ms, ~24.8 days). */
export const MAX_DURATION_MS = 7 * 24 * 3600 * 1000;
/** Most items in any list (stages, expect, api_key_env), and most entries in any map (models, headers, pricing). */
export const MAX_LIST_ITEMS = 1000;
/** Highest in-flight level anywhere (load.start/max/step, models.*.inflight/max, stages). */
export const MAX_LEVEL = 1_000_000;
/** Most ramp steps a plan may have ((max - start) / step + 1, or the stages). */
export const MAX_STEPS = 10_000;

/**
 * Whether text looks like a binary file, not YAML: a NUL byte, or many replacement characters (bytes that are
 * not UTF-8) in its first 8 KiB.
 */
export function looksBinary(text: string): boolean {
  const head = text.slice(0, 8192);
  if (head.includes('\0')) return true;
  let bad = 0;
  for (let i = 0; i < head.length; i++) if (head.charCodeAt(i) === 0xfffd) bad++;
  return bad > 8 && bad > head.length / 100;
}

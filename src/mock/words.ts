/**
 * The mock's generated text: one word per token, word k of a flight a pure function of (seed, k), so no
 * text is stored per stream and a non-streamed body can be rebuilt at the end. Words are plain ASCII with
 * no JSON-special characters, so their JSON forms are pre-serialised once.
 */

/** 64 words, each one "token", each ending in a space. */
export const WORDS: readonly string[] = (
  'the a model stream token cap queue slot wait load test probe mock data value reply answer thought ' +
  'reason step next first last fast slow deep seek flash pro keep alive chunk frame event server client ' +
  'request response account user limit rate level ramp search bracket edge cliff knee state count time ' +
  'delay budget cost price cache hit miss prefix so then on at'
)
  .split(' ')
  .map((w) => w + ' ');

if (WORDS.length !== 64) throw new Error(`mock words: expected 64, got ${WORDS.length}`);

/** Index of word k of a flight with `seed` (a cheap integer hash). */
export function wordIndex(seed: number, k: number): number {
  let x = (seed ^ Math.imul(k + 1, 0x9e3779b1)) >>> 0;
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b) >>> 0;
  return (x ^ (x >>> 13)) & 63;
}

/** The text of tokens [from, to) of a flight. */
export function textOf(seed: number, from: number, to: number): string {
  let s = '';
  for (let k = from; k < to; k++) s += WORDS[wordIndex(seed, k)]!;
  return s;
}

/**
 * One learned text-delta template (fast-delta.ts): a chunk's text before its delta text (`prefix`) and after it
 * (`suffix`), and how a frame's bytes or a chunk's text are compared with them.
 *
 * A template of a dialect that keeps a prior (template-prior.ts) is *shared*: every stream of the thread whose chunks
 * have its shape reads them with this one object, not a copy of its own. Its prefix is then compared but for the
 * values that may vary between responses (the top-level `id`, `created` and `system_fingerprint`: varyingMask), each
 * checked to be a value of its kind, so a chunk it takes tokenises exactly as the chunk it was learned from, for the
 * reason template-prior.ts gives. Why shared: a stream lives as long as its request, and what it holds is copied by
 * every young-generation collection that finds it alive. A prefix of its own, and its words, were about 0.4 KB of the
 * 1.6 KB an open stream held (V8's sampling heap profiler, 1,000 streams of 100 events), and those collections'
 * pauses set the tail of first-token times at thousands of streams.
 */
import { isAscii, ownCopy } from './json-bytes.js';
import { DIGIT, mayVaryTo, STRING, varyingMask } from './template-prior.js';

/** A DataView of the last buffer `prefixIn` read (a thread's reads come in one shared buffer: made once). */
let viewed: Uint8Array | null = null;
let view: DataView | null = null;

function viewOf(b: Uint8Array): DataView {
  if (b !== viewed) {
    viewed = b;
    view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  }
  return view as DataView;
}

/** 0x80 in every byte, as a 32-bit integer (the bit tricks below stay in 32-bit arithmetic: `| 0` after each sum). */
const HIGH = 0x80808080 | 0;

/** One learned template. Made by `DeltaTemplates.learn`; shared through the dialect's prior when it keeps one. */
export class DeltaTemplate {
  readonly prefix: string;
  readonly suffix: string;
  /** Both are ASCII, so their UTF-16 codes are their UTF-8 bytes: a frame can be matched in bytes. */
  readonly ascii: boolean;
  /** Per prefix position: 0 when it must be equal, else the kind of value it may vary to (varyingMask). */
  private readonly mask: Uint8Array | null;
  /**
   * The prefix's bytes as little-endian 32-bit words, its last `length % 4` left out (compared one by one), a byte
   * that may vary as 0. Made on the first byte match. Reading a 171-character prefix this way took 100-160 ns
   * against 500-600 ns byte by byte, pinned, Node 20 (2026-12-02): at one event a token, the byte path's largest cost.
   */
  private words: Int32Array | null = null;
  /** With a value that may vary: the words with none, as (byte offset, word) pairs. */
  private fixed: Int32Array | null = null;
  /**
   * And the words with one, as (byte offset, word, its bytes that must be equal, its bytes that may be another plain
   * string character, its bytes that may be another digit, the template's own word) sextuples, each mask 0xFF in
   * those bytes. Their values are judged four bytes at a time: about 80 bytes an event in a DeepSeek chunk, of which
   * the fingerprint's (one per deployment) are mostly the template's own. A number's first digit is judged with
   * `one` (no new leading 0), so a word equal to the template's needs nothing more.
   */
  private vary: Int32Array | null = null;
  /** Places judged one by one: the first digit of each varying number (no new leading 0), and varying places past the last word. */
  private one: Int32Array | null = null;

  /** `shared`: the template is kept in a prior, so its varying values are compared by kind (see the file's head). */
  constructor(prefix: string, suffix: string, shared: boolean) {
    const ascii = isAscii(prefix) && isAscii(suffix);
    this.ascii = ascii;
    // A flat copy lets the parsed chunk's text go (ownCopy); a template past ASCII is left to the text path as it is.
    this.prefix = ascii ? ownCopy(prefix) : prefix;
    this.suffix = ascii ? ownCopy(suffix) : suffix;
    const mask = shared && ascii ? varyingMask(this.prefix) : null;
    this.mask = mask !== null && mask.some((k) => k !== 0) ? mask : null;
  }

  /** Whether `data` starts with the prefix, but for the values that may vary. */
  prefixOf(data: string): boolean {
    const p = this.prefix;
    const m = this.mask;
    // slice + === compiles to a flat memory compare; startsWith measured 3-4x slower on V8 (Node 20).
    if (m === null) return data.slice(0, p.length) === p;
    if (data.length < p.length) return false;
    // Every place that may vary is judged by kind, equal or not, as `prefixIn` judges it.
    for (let i = 0; i < p.length; i++) {
      if (m[i] === 0 ? data.charCodeAt(i) !== p.charCodeAt(i) : !mayVaryTo(m[i] as number, data, i)) return false;
    }
    return true;
  }

  /** Whether `b[at..]` holds the prefix's bytes (an ASCII template only), but for the values that may vary. */
  prefixIn(b: Uint8Array, at: number): boolean {
    const w = this.words ?? this.compile();
    const d = viewOf(b);
    if (this.mask === null) {
      for (let k = 0; k < w.length; k++) if (d.getInt32(at + 4 * k, true) !== w[k]) return false;
      for (let i = 4 * w.length; i < this.prefix.length; i++) if (b[at + i] !== this.prefix.charCodeAt(i)) return false;
      return true;
    }
    // The words with nothing that may vary, as they are; then those with a value that may: their other bytes, and
    // the value's bytes judged four at a time (a bit trick each: with every byte below 0x80, none below 0x20, a quote
    // or a backslash in a string value's; digits only in a number's), the other bytes standing in as `A`, and as `0`.
    const fixed = this.fixed as Int32Array;
    for (let j = 0; j < fixed.length; j += 2) if (d.getInt32(at + (fixed[j] as number), true) !== fixed[j + 1]) return false;
    const vary = this.vary as Int32Array;
    for (let j = 0; j < vary.length; j += 6) {
      const x = d.getInt32(at + (vary[j] as number), true);
      // The template's own bytes are values of their kind (a fingerprint, mostly): nothing to judge.
      if (x === vary[j + 5]) continue;
      if ((x & (vary[j + 2] as number)) !== vary[j + 1] || (x & HIGH) !== 0) return false;
      const sm = vary[j + 3] as number;
      const dm = vary[j + 4] as number;
      const y = (x & sm) | (0x41414141 & ~sm);
      const q = y ^ 0x22222222;
      const z = y ^ 0x5c5c5c5c;
      if (((((y - 0x20202020) | 0) & ~y) | (((q - 0x01010101) | 0) & ~q) | (((z - 0x01010101) | 0) & ~z)) & HIGH) return false;
      const g = (x & dm) | (0x30303030 & ~dm);
      if (((((g - 0x30303030) | 0) & ~g) | ((g + 0x46464646) | 0) | g) & HIGH) return false;
    }
    const p = this.prefix;
    const m = this.mask as Uint8Array;
    for (let i = 4 * w.length; i < p.length; i++) if (m[i] === 0 && b[at + i] !== p.charCodeAt(i)) return false;
    const one = this.one as Int32Array;
    for (let j = 0; j < one.length; j++) {
      const i = one[j] as number;
      if (!mayVaryTo(m[i] as number, b, at + i)) return false;
    }
    return true;
  }

  /** Makes the words and their masks (see `words`, `fixed`, `vary`, `one`). */
  private compile(): Int32Array {
    const p = this.prefix;
    const m = this.mask;
    const n = p.length >>> 2;
    const w = new Int32Array(n);
    const fixed: number[] = [];
    const vary: number[] = [];
    for (let k = 0; k < n; k++) {
      let sm = 0;
      let dm = 0;
      let eq = 0;
      let all = 0;
      for (let j = 0; j < 4; j++) {
        const i = 4 * k + j;
        all |= p.charCodeAt(i) << (8 * j);
        const kind = m === null ? 0 : (m[i] as number);
        if (kind === STRING) sm |= 0xff << (8 * j);
        else if (kind === DIGIT) dm |= 0xff << (8 * j);
        else {
          w[k] = (w[k] as number) | (p.charCodeAt(i) << (8 * j));
          eq |= 0xff << (8 * j);
        }
      }
      if (sm === 0 && dm === 0) fixed.push(4 * k, w[k] as number);
      else vary.push(4 * k, w[k] as number, eq, sm, dm, all);
    }
    const one: number[] = [];
    for (let i = 0; m !== null && i < p.length; i++) {
      if (m[i] === 0) continue;
      if (i >= 4 * n || (m[i] === DIGIT && m[i - 1] !== DIGIT)) one.push(i);
    }
    this.fixed = Int32Array.from(fixed);
    this.vary = Int32Array.from(vary);
    this.one = Int32Array.from(one);
    this.words = w;
    return w;
  }
}

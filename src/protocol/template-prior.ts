/**
 * A new stream's first text delta, read without JSON.parse, from the last template another stream learned.
 *
 * Every stream of one server sends its text deltas in one shape, and two streams' chunks differ outside their text
 * only in the values of a few top-level fields that name the response, e.g. (OpenAI / DeepSeek)
 *
 *   {"id":"<per response>","object":"chat.completion.chunk","created":<per second>,"model":"m","choices":[...
 *
 * A learned prefix (fast-delta.ts) came from a chunk fully parsed and known to be a pure text delta. A new chunk whose
 * prefix has the same length and differs from it only inside the *values* of those fields (string characters for
 * string characters, with no quote, backslash or control character on either side; digits for digits, with no new
 * leading zero) tokenises exactly as the learned one does: the same keys, nesting and values, but for those fields
 * that no reader looks at. It is therefore valid JSON and a pure text delta too, and the stream reads its later chunks
 * with that same template (delta-template.ts), judged the same way.
 * Anything else (another length, any other byte, an escape in a varying value) takes the parsing path, as before.
 */
import { codeAt, scanJsonString } from './json-bytes.js';

/** Top-level fields whose values may differ between two responses' chunks of one shape. */
const VARYING = new Set(['id', 'created', 'system_fingerprint']);

/** In the mask, beside 0 (the byte must be equal): may be another plain string character; may be another digit. */
export const STRING = 1;
export const DIGIT = 2;

const isDigit = (c: number) => c >= 48 && c <= 57;

/**
 * Whether unit `i` of `s` (text, or its UTF-8 bytes) is a value the mask's `kind` at that place allows: another plain
 * string character (no quote, backslash, control character or anything past ASCII), or another digit that does not
 * start a number of more than one digit with 0. A place whose kind is 0 allows nothing but its own value.
 */
export function mayVaryTo(kind: number, s: string | Uint8Array, i: number): boolean {
  const c = codeAt(s, i);
  if (kind === STRING) return c >= 0x20 && c < 0x80 && c !== 34 && c !== 92;
  if (kind !== DIGIT || !isDigit(c)) return false;
  // No new leading zero: a 0 that starts a number of more than one digit.
  return !(c === 48 && !isDigit(codeAt(s, i - 1)) && isDigit(codeAt(s, i + 1)));
}

/**
 * Which bytes of `prefix` (a JSON object's text up to its delta text) may differ in another response's chunk of the
 * same shape: the bodies of the VARYING top-level fields' string values (those without escapes) and the digits of
 * their number values. All others must be equal. A prefix that is not an object's start varies nowhere.
 */
export function varyingMask(prefix: string): Uint8Array {
  const m = new Uint8Array(prefix.length);
  if (prefix.charCodeAt(0) !== 123) return m;
  let depth = 0;
  let expectKey = false;
  let key = '';
  for (let i = 0; i < prefix.length; i++) {
    const c = prefix.charCodeAt(i);
    if (c === 34) {
      const end = scanJsonString(prefix, i + 1);
      if (end === -1) break; // the delta text's opening quote: the prefix ends inside it
      const escaped = prefix.lastIndexOf('\\', end) > i;
      if (depth === 1 && expectKey) key = prefix.slice(i + 1, end);
      else {
        if (depth === 1 && !escaped && VARYING.has(key)) m.fill(STRING, i + 1, end);
        key = '';
      }
      expectKey = false;
      i = end;
    } else if (c === 123 || c === 91) {
      depth++;
      expectKey = c === 123 && depth === 1;
      key = '';
    } else if (c === 125 || c === 93) {
      depth--;
    } else if (c === 44) {
      expectKey = depth === 1;
      key = '';
    } else if (depth === 1 && key !== '' && (isDigit(c) || c === 45)) {
      // A number value: its digits may vary (its sign, point and exponent letters may not).
      let k = i;
      for (; k < prefix.length; k++) {
        const d = prefix.charCodeAt(k);
        if (isDigit(d)) {
          if (VARYING.has(key)) m[k] = DIGIT;
        } else if (d !== 45 && d !== 43 && d !== 46 && d !== 101 && d !== 69) break;
      }
      key = '';
      i = k - 1;
    }
  }
  return m;
}

/** A template learned by parsing: the chunk's text before its delta text and after it (all of it: `suffix` ''). */
export interface PriorTemplate {
  readonly prefix: string;
  readonly suffix: string;
}

/** How many recent templates a prior keeps: a thinking stream learns two (reasoning, then answer). */
const KEPT = 2;

/**
 * One per dialect, use and thread: the last templates learned by parsing and, once asked for, their masks. Only
 * candidates: every adoption is checked in full (`adopts`), so which stream taught them does not matter.
 */
export class TemplatePrior<T extends PriorTemplate = PriorTemplate> {
  private readonly ts: T[] = [];
  private readonly ms: (Uint8Array | null)[] = [];

  /**
   * A template just learned by parsing (ASCII: it is compared with bytes). The newest is tried first. Returns the one
   * kept: an equal template kept before, or `t`.
   */
  offer(t: T): T {
    for (const h of this.ts) if (h.prefix === t.prefix && h.suffix === t.suffix) return h;
    this.ts.unshift(t);
    this.ms.unshift(null);
    if (this.ts.length > KEPT) {
      this.ts.pop();
      this.ms.pop();
    }
    return t;
  }

  /** How many templates are kept (0 to KEPT). */
  get size(): number {
    return this.ts.length;
  }

  /** The template at `i` (0 the newest). */
  at(i: number): T {
    return this.ts[i] as T;
  }

  /**
   * Whether `b[at, at + prefix.length)` is template `i`'s prefix but for values that may vary (see the file's head).
   * The caller has checked the suffix and the text between.
   */
  adopts(i: number, b: Uint8Array, at: number): boolean {
    const p = (this.ts[i] as PriorTemplate).prefix;
    let m: Uint8Array | null = null;
    // From the end: another kind of chunk (a role chunk, say) differs near the text, and fails in a few bytes.
    for (let k = p.length - 1; k >= 0; k--) {
      const c = b[at + k] as number;
      if (c === p.charCodeAt(k)) continue;
      m ??= this.ms[i] ??= varyingMask(p);
      if (!mayVaryTo(m[k] as number, b, at + k)) return false;
    }
    return true;
  }

  /** Whether `b[start, end)` is, whole, one of the kept chunks but for values that may vary (`suffix` ''). */
  adoptsWhole(b: Uint8Array, start: number, end: number): boolean {
    for (let i = 0; i < this.ts.length; i++) {
      if ((this.ts[i] as PriorTemplate).prefix.length === end - start && this.adopts(i, b, start)) return true;
    }
    return false;
  }
}

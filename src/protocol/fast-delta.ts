/**
 * A correct shortcut for the hot path: most stream chunks are "one more piece of text" and differ from the
 * previous one only in that text, e.g. (OpenAI / DeepSeek)
 *
 *   {"id":"X","object":"chat.completion.chunk",...,"choices":[{"index":0,"delta":{"content":"TEXT"},"logprobs":null,"finish_reason":null}],"usage":null}
 *
 * After one such chunk has been fully JSON.parse'd, its text is cut out, leaving a template (prefix, suffix).
 * A later chunk that starts with the same prefix, ends with the same suffix and holds a valid JSON string body
 * in between is, by construction, valid JSON with the same structure: the only fact it carries is whether the
 * text is empty. That check costs two string compares and a short scan of the text, instead of a JSON.parse.
 * Anything else (usage, finish_reason, errors, other servers' spacing) falls back to JSON.parse.
 */
import type { TemplatePrior } from './template-prior.js';

/** At most this many templates per stream (OpenAI: content + reasoning; Anthropic: one per content block). */
const MAX_TEMPLATES = 4;

/** The code at `k`: a UTF-16 unit of a string, a byte of bytes (from 0x80 up, part of a character either way). */
function codeAt(s: string | Uint8Array, k: number): number {
  return typeof s === 'string' ? s.charCodeAt(k) : (s[k] as number);
}

/**
 * Index of the closing quote of the JSON string whose body starts at `start`, or -1 if the body is not a valid
 * JSON string body (control character, bad escape, no closing quote before `end`). Reads text, or its UTF-8 bytes
 * to the same answer (every byte of a multi-byte character is from 0x80 up, as the decoded character is).
 */
export function scanJsonString(s: string | Uint8Array, start: number, end = s.length): number {
  let i = start;
  while (i < end) {
    const c = codeAt(s, i);
    if (c === 34 /* " */) return i;
    if (c < 0x20) return -1;
    if (c === 92 /* \ */) {
      const e = codeAt(s, i + 1);
      if (e === 117 /* u */) {
        if (i + 6 > end) return -1;
        for (let k = i + 2; k < i + 6; k++) {
          const h = codeAt(s, k);
          const hex = (h >= 48 && h <= 57) || (h >= 65 && h <= 70) || (h >= 97 && h <= 102);
          if (!hex) return -1;
        }
        i += 6;
        continue;
      }
      // " \ / b f n r t
      if (e === 34 || e === 92 || e === 47 || e === 98 || e === 102 || e === 110 || e === 114 || e === 116) {
        i += 2;
        continue;
      }
      return -1;
    }
    i++;
  }
  return -1;
}

/** Whether the JSON string body `raw` decodes to `text`. */
function decodesTo(raw: string, text: string): boolean {
  try {
    return JSON.parse('"' + raw + '"') === text;
  } catch {
    return false;
  }
}

/** The SSE framing of an unnamed one-line event: `data: ` before the data (its bytes), a blank line after. */
const FRAME_HEAD = [100, 97, 116, 97, 58, 32];
const FRAME_HEAD_LEN = FRAME_HEAD.length;
const LF = 10;

/** Whether `b[start, end)` is framed as one unnamed one-line event: `data: ` first, LF LF last. */
export function isDataFrame(b: Uint8Array, start: number, end: number): boolean {
  if (end - start < FRAME_HEAD_LEN + 2 || b[end - 1] !== LF || b[end - 2] !== LF) return false;
  for (let k = 0; k < FRAME_HEAD_LEN; k++) if (b[start + k] !== FRAME_HEAD[k]) return false;
  return true;
}

/** One learned template: the chunk's text before the delta's text and after it. */
interface Template {
  prefix: string;
  suffix: string;
  /** Both are ASCII, so their UTF-16 codes are their UTF-8 bytes: a frame can be matched in bytes. */
  ascii: boolean;
  /** Byte matches tried with it so far, until WORDS_AFTER (then `words` is made). */
  uses: number;
  /** The prefix's bytes as little-endian 32-bit words (prefixWords), made once the template has been tried often. */
  words: Int32Array | null;
}

/**
 * Byte matches a template takes before its prefix is compared in words. The words cost an ArrayBuffer per template
 * (about 5 µs a request with its freeing, in the engine bench's case 2: 5 events a request) and save about 0.3 µs
 * an event (a 171-character prefix): worth it for a stream of more than a dozen or so events, not for a short one.
 */
const WORDS_AFTER = 16;

/** Whether every unit of `s` is below 0x80. */
export function isAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) >= 0x80) return false;
  return true;
}

/**
 * The bytes of `s` (ASCII) as little-endian 32-bit words, its last `s.length % 4` characters left out (compared one
 * by one). Kept beside the template's text: about 0.2 KB a stream, most of it outside the JS heap.
 */
function prefixWords(s: string): Int32Array {
  const w = new Int32Array(s.length >>> 2);
  for (let k = 0, i = 0; k < w.length; k++, i += 4) {
    w[k] = s.charCodeAt(i) | (s.charCodeAt(i + 1) << 8) | (s.charCodeAt(i + 2) << 16) | (s.charCodeAt(i + 3) << 24);
  }
  return w;
}

/** A DataView of the last buffer `wordsAre` read (a thread's reads come in one shared buffer: made once). */
let viewed: Uint8Array | null = null;
let view: DataView | null = null;

/**
 * Whether `b[at..]` holds the codes of `s` (ASCII), whose words are `w` (prefixWords): word by word, then the last
 * few characters. Reading a 171-character prefix this way took 100-160 ns against 500-600 ns unit by unit, pinned,
 * Node 20 (2026-12-02): at one event a token this was the byte path's largest single cost.
 */
function wordsAre(b: Uint8Array, at: number, s: string, w: Int32Array): boolean {
  if (b !== viewed) {
    viewed = b;
    view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  }
  const d = view as DataView;
  for (let k = 0; k < w.length; k++) if (d.getInt32(at + 4 * k, true) !== w[k]) return false;
  for (let i = 4 * w.length; i < s.length; i++) if (b[at + i] !== s.charCodeAt(i)) return false;
  return true;
}

/** Whether `b[at..]` holds the codes of `s` (ASCII). A loop, not Buffer.compare: a native call costs more here. */
function bytesAre(b: Uint8Array, at: number, s: string): boolean {
  for (let i = 0; i < s.length; i++) if (b[at + i] !== s.charCodeAt(i)) return false;
  return true;
}

/**
 * A flat copy of an ASCII string. `data.slice(...)` makes a view into the chunk's text (V8 keeps a slice of 13 or
 * more characters as a pointer into its parent), and reading a view unit by unit (`bytesAre`, once per event) costs
 * about twice as much as reading a flat string: 290 against 136 ns for a 130-character prefix, measured on this
 * machine. The copy is made once per template and lets the chunk's text go.
 */
export function ownCopy(s: string): string {
  return Buffer.from(s, 'latin1').toString('latin1');
}

/**
 * Learned chunk templates for one stream. Kept in fields, not arrays, and as the chunk's own text, not copies in
 * bytes: a stream lives as long as its request, and whatever it holds is copied by every young-generation
 * collection that finds it alive (a stream of the usual kind learns one or two).
 */
export class DeltaTemplates {
  private t0: Template | null = null;
  private t1: Template | null = null;
  private more: Template[] | null = null;
  private readonly prior: TemplatePrior | null;

  /** `prior`: the dialect's memory of the last template learned by any stream (template-prior.ts), if it keeps one. */
  constructor(prior: TemplatePrior | null = null) {
    this.prior = prior;
  }

  /** The template at index `i` (0 first), or null past the last. */
  private at(i: number): Template | null {
    return i === 0 ? this.t0 : i === 1 ? this.t1 : (this.more?.[i - 2] ?? null);
  }

  /**
   * Matches `data` against the learned templates.
   * Returns -1 when no template fits (parse it), 0 when it is a text delta with empty text, 1 with text.
   */
  match(data: string): number {
    for (let i = 0, t = this.t0; t !== null; t = this.at(++i)) {
      const p = t.prefix;
      const s = t.suffix;
      const bodyEnd = data.length - s.length;
      // slice + === compiles to a flat memory compare; startsWith/endsWith measured 3-4x slower on V8 (Node 20).
      if (bodyEnd < p.length || data.slice(bodyEnd) !== s || data.slice(0, p.length) !== p) continue;
      // The body must be exactly one valid string body: its closing quote is the suffix's first character.
      if (scanJsonString(data, p.length, data.length) !== bodyEnd) continue;
      return bodyEnd > p.length ? 1 : 0;
    }
    return -1;
  }

  /**
   * Matches a whole read that is one unnamed SSE event, `data: ` + data + LF LF, in bytes, without decoding it:
   * the same answer `match(data)` gives, for a frame built as the template's. -1 when no template fits (then the
   * frame takes the text path: SSE parser, then `match`). Only for a parser with nothing pending (the caller's
   * check), which would read this frame as exactly that one event. Templates with a character past ASCII in them
   * (never seen from a real server) are left to the text path. The frame is `b[start, end)`: nothing outside it
   * is read.
   */
  matchFrame(b: Uint8Array, start = 0, end = b.length): number {
    if (!isDataFrame(b, start, end)) return -1;
    const head = start + FRAME_HEAD_LEN;
    for (let i = 0, t = this.t0; t !== null; t = this.at(++i)) {
      if (!t.ascii) continue;
      const p = t.prefix;
      const s = t.suffix;
      const bodyStart = head + p.length;
      const bodyEnd = end - 2 - s.length;
      if (bodyEnd < bodyStart || !bytesAre(b, bodyEnd, s)) continue;
      const w = t.words ?? (++t.uses >= WORDS_AFTER ? (t.words = prefixWords(p)) : null);
      if (w === null ? !bytesAre(b, head, p) : !wordsAre(b, head, p, w)) continue;
      if (scanJsonString(b, bodyStart, end - 2) !== bodyEnd) continue;
      return bodyEnd > bodyStart ? 1 : 0;
    }
    return -1;
  }

  /**
   * For a frame no learned template matched, in a stream that has learned fewer than the prior keeps: matches it
   * against the prior (other streams' last learned templates, template-prior.ts) and, when one fits, learns this
   * frame's own template from its bytes, as parsing it would have. The same answers as `matchFrame`; -1 sends the
   * frame to the text path.
   */
  adoptFrame(b: Buffer, start = 0, end = b.length): number {
    const prior = this.prior;
    if (prior === null || prior.size === 0 || this.t1 !== null || !isDataFrame(b, start, end)) return -1;
    const head = start + FRAME_HEAD_LEN;
    for (let i = 0; i < prior.size; i++) {
      const t = prior.at(i);
      const bodyStart = head + t.prefix.length;
      const bodyEnd = end - 2 - t.suffix.length;
      if (bodyEnd < bodyStart || !bytesAre(b, bodyEnd, t.suffix) || !prior.adopts(i, b, head)) continue;
      if (scanJsonString(b, bodyStart, end - 2) !== bodyEnd) continue;
      // The prefix as a flat string of its own (latin1 of ASCII bytes); the suffix is the prior's, equal and shared.
      const own: Template = { prefix: b.toString('latin1', head, bodyStart), suffix: t.suffix, ascii: true, uses: 0, words: null };
      if (this.t0 === null) this.t0 = own;
      else this.t1 = own;
      return bodyEnd > bodyStart ? 1 : 0;
    }
    return -1;
  }

  /**
   * Learns a template from a chunk already parsed and known to be a pure text delta whose text is `text`,
   * located right after `marker` (e.g. `"delta":{"content":"`). Does nothing when the raw form is ambiguous.
   */
  learn(data: string, marker: string, text: string): void {
    const n = this.size;
    if (n >= MAX_TEMPLATES) return;
    const i = data.indexOf(marker);
    if (i === -1 || data.indexOf(marker, i + 1) !== -1) return;
    if (i > 0 && data.charCodeAt(i - 1) === 92) return; // an escaped quote: not structural
    const start = i + marker.length;
    const end = scanJsonString(data, start);
    if (end === -1) return;
    const raw = data.slice(start, end);
    // Without a backslash the raw body is the text itself; with one, it must decode to it.
    if (raw.indexOf('\\') === -1 ? raw !== text : !decodesTo(raw, text)) return;
    const prefix = data.slice(0, start);
    const suffix = data.slice(end);
    for (let k = 0, t = this.t0; t !== null; t = this.at(++k)) {
      if (t.prefix === prefix && t.suffix === suffix) return;
    }
    const ascii = isAscii(prefix) && isAscii(suffix);
    const t: Template = ascii ? { prefix: ownCopy(prefix), suffix: ownCopy(suffix), ascii, uses: 0, words: null } : { prefix, suffix, ascii, uses: 0, words: null };
    if (ascii) this.prior?.offer(t);
    if (n === 0) this.t0 = t;
    else if (n === 1) this.t1 = t;
    else (this.more ??= []).push(t);
  }

  /** Number of templates learned (for tests). */
  get size(): number {
    return this.t0 === null ? 0 : this.t1 === null ? 1 : 2 + (this.more?.length ?? 0);
  }
}

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

/** The SSE framing of an unnamed one-line event: `data: ` before the data, a blank line after. */
const FRAME_HEAD = 'data: ';
const FRAME_TAIL = '\n\n';

/** Learned chunk templates for one stream. */
export class DeltaTemplates {
  private readonly prefixes: string[] = [];
  private readonly suffixes: string[] = [];
  /** The same templates as whole SSE frames in bytes (`data: ` + prefix, suffix + LF LF): see matchFrame. */
  private readonly framePrefixes: Buffer[] = [];
  private readonly frameSuffixes: Buffer[] = [];

  /**
   * Matches `data` against the learned templates.
   * Returns -1 when no template fits (parse it), 0 when it is a text delta with empty text, 1 with text.
   */
  match(data: string): number {
    const n = this.prefixes.length;
    for (let t = 0; t < n; t++) {
      const p = this.prefixes[t] as string;
      const s = this.suffixes[t] as string;
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
   * check), which would read this frame as exactly that one event.
   */
  matchFrame(frame: Buffer): number {
    const n = this.framePrefixes.length;
    const len = frame.length;
    for (let t = 0; t < n; t++) {
      const p = this.framePrefixes[t] as Buffer;
      const s = this.frameSuffixes[t] as Buffer;
      const bodyEnd = len - s.length;
      if (bodyEnd < p.length || frame.compare(s, 0, s.length, bodyEnd, len) !== 0 || frame.compare(p, 0, p.length, 0, p.length) !== 0) continue;
      if (scanJsonString(frame, p.length, len) !== bodyEnd) continue;
      return bodyEnd > p.length ? 1 : 0;
    }
    return -1;
  }

  /**
   * Learns a template from a chunk already parsed and known to be a pure text delta whose text is `text`,
   * located right after `marker` (e.g. `"delta":{"content":"`). Does nothing when the raw form is ambiguous.
   */
  learn(data: string, marker: string, text: string): void {
    if (this.prefixes.length >= MAX_TEMPLATES) return;
    const i = data.indexOf(marker);
    if (i === -1 || data.indexOf(marker, i + 1) !== -1) return;
    if (i > 0 && data.charCodeAt(i - 1) === 92) return; // an escaped quote: not structural
    const start = i + marker.length;
    const end = scanJsonString(data, start);
    if (end === -1) return;
    try {
      if (JSON.parse('"' + data.slice(start, end) + '"') !== text) return;
    } catch {
      return;
    }
    const prefix = data.slice(0, start);
    const suffix = data.slice(end);
    for (let t = 0; t < this.prefixes.length; t++) {
      if (this.prefixes[t] === prefix && this.suffixes[t] === suffix) return;
    }
    this.prefixes.push(prefix);
    this.suffixes.push(suffix);
    this.framePrefixes.push(Buffer.from(FRAME_HEAD + prefix));
    this.frameSuffixes.push(Buffer.from(suffix + FRAME_TAIL));
  }

  /** Number of templates learned (for tests). */
  get size(): number {
    return this.prefixes.length;
  }
}

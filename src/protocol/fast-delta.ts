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
import { DeltaTemplate } from './delta-template.js';
import { bytesAre, FRAME_HEAD_LEN, isDataFrame, scanJsonString } from './json-bytes.js';
import type { TemplatePrior } from './template-prior.js';

/** At most this many templates per stream (OpenAI: content + reasoning; Anthropic: one per content block). */
const MAX_TEMPLATES = 4;

/** Whether the JSON string body `raw` decodes to `text`. */
function decodesTo(raw: string, text: string): boolean {
  try {
    return JSON.parse('"' + raw + '"') === text;
  } catch {
    return false;
  }
}

/**
 * Learned chunk templates for one stream, kept in fields, not arrays: a stream lives as long as its request, and
 * whatever it holds is copied by every young-generation collection that finds it alive (a stream of the usual kind
 * learns one or two). With a prior, the templates are the thread's shared ones (delta-template.ts): a stream holds
 * references, not text of its own.
 */
export class DeltaTemplates {
  private t0: DeltaTemplate | null = null;
  private t1: DeltaTemplate | null = null;
  private more: DeltaTemplate[] | null = null;
  private readonly prior: TemplatePrior<DeltaTemplate> | null;

  /** `prior`: the dialect's memory of the last templates learned by any stream (template-prior.ts), if it keeps one. */
  constructor(prior: TemplatePrior<DeltaTemplate> | null = null) {
    this.prior = prior;
  }

  /** The template at index `i` (0 first), or null past the last. */
  private at(i: number): DeltaTemplate | null {
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
      // slice + === compiles to a flat memory compare; endsWith measured 3-4x slower on V8 (Node 20).
      if (bodyEnd < p.length || data.slice(bodyEnd) !== s || !t.prefixOf(data)) continue;
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
    for (let i = 0, t = this.t0; t !== null; t = this.at(++i)) {
      const m = t.ascii ? frameAnswer(t, b, start, end) : -1;
      if (m !== -1) return m;
    }
    return -1;
  }

  /**
   * For a frame no learned template matched, in a stream that has learned fewer than two: matches it against the
   * prior's templates (other streams' last learned, template-prior.ts) and, when one fits, takes that template as
   * its own, as parsing the frame would have taught it one of this shape. The same answers as `matchFrame`; -1
   * sends the frame to the text path.
   */
  adoptFrame(b: Uint8Array, start = 0, end = b.length): number {
    const prior = this.prior;
    if (prior === null || prior.size === 0 || this.t1 !== null || !isDataFrame(b, start, end)) return -1;
    for (let i = 0; i < prior.size; i++) {
      const t = prior.at(i);
      if (t === this.t0) continue; // matchFrame tried it
      const m = frameAnswer(t, b, start, end);
      if (m === -1) continue;
      if (this.t0 === null) this.t0 = t;
      else this.t1 = t;
      return m;
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
    const prior = this.prior;
    let t = new DeltaTemplate(prefix, suffix, prior !== null);
    // Shared: an equal template the prior kept already is taken instead of this copy.
    if (t.ascii && prior !== null) t = prior.offer(t);
    if (n === 0) this.t0 = t;
    else if (n === 1) this.t1 = t;
    else (this.more ??= []).push(t);
  }

  /** Number of templates learned (for tests). */
  get size(): number {
    return this.t0 === null ? 0 : this.t1 === null ? 1 : 2 + (this.more?.length ?? 0);
  }
}

/** `matchFrame`'s answer for one ASCII template and a frame known to be a `data:` event (isDataFrame). */
function frameAnswer(t: DeltaTemplate, b: Uint8Array, start: number, end: number): number {
  const head = start + FRAME_HEAD_LEN;
  const bodyStart = head + t.prefix.length;
  const bodyEnd = end - 2 - t.suffix.length;
  if (bodyEnd < bodyStart || !bytesAre(b, bodyEnd, t.suffix) || !t.prefixIn(b, head)) return -1;
  // The body must be exactly one valid string body: its closing quote is the suffix's first character.
  if (scanJsonString(b, bodyStart, end - 2) !== bodyEnd) return -1;
  return bodyEnd > bodyStart ? 1 : 0;
}

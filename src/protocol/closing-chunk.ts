/**
 * An OpenAI stream's closing chunk (the one with `finish_reason` and `usage`) read without parsing its head.
 *
 * Every stream ends with one, e.g. (DeepSeek)
 *
 *   {"id":"<per response>",...,"choices":[{"index":0,"delta":{"content":""},...,"finish_reason":"stop"}],"usage":{...}}
 *
 * Parsed whole (the SSE parser's text path, then JSON.parse of the chunk) it cost about 5 µs of a 3-token stream's
 * 12 (bench/prober-micro.js's exchange alone), once per request. Here a closing chunk that was parsed, had no text,
 * no error and a `finish_reason`, and whose last top-level key is `usage`, teaches its head: the text up to and
 * including `"usage":`. A later frame that is that head (but for the values that may vary, template-prior.ts), then a
 * JSON object, then the outer `}`, is valid JSON of the same structure: the same choices, the same finish reason, no
 * text and no error. Only its usage differs, and only that is parsed. Anything else takes the parsing path.
 */
import type { ResponseFacts } from './dialect.js';
import { FRAME_HEAD_LEN, isAscii, isDataFrame, ownCopy } from './json-bytes.js';
import { TemplatePrior, type PriorTemplate } from './template-prior.js';
import { openAiUsage } from './usage.js';

/** A learned closing chunk's head (`suffix` ''), and the finish reason it carries. */
interface ClosingHead extends PriorTemplate {
  readonly reason: string;
}

const USAGE_KEY = '"usage":';
const LF = 10;
const OPEN_BRACE = 123;
const CLOSE_BRACE = 125;

/** One per thread (as the other priors): the last closing heads learned by parsing, tried on every stream's end. */
export class ClosingHeads {
  private readonly prior = new TemplatePrior<ClosingHead>();

  /**
   * A closing chunk just parsed (`data`, its JSON text): no text in it, no error, `reason` its finish reason and
   * a usage object its `usage`. Learns its head when `usage` is its last top-level key.
   */
  learn(data: string, reason: string): void {
    const k = data.lastIndexOf(USAGE_KEY);
    if (k <= 0 || data.charCodeAt(data.length - 1) !== CLOSE_BRACE) return;
    const prefix = data.slice(0, k + USAGE_KEY.length);
    if (!isAscii(prefix)) return;
    // The head takes any value then `}` as a whole JSON text only if `"usage":` is a top-level key (not text inside
    // a string, not a key nested deeper): then a frame of this head, an object and `}` is one top-level object.
    try {
      JSON.parse(`${prefix}0}`);
    } catch {
      return;
    }
    this.prior.offer({ prefix: ownCopy(prefix), suffix: '', reason });
  }

  /**
   * Reads the frame `b[start, end)` (`data: ...` LF LF) into `f` as the parsing path would (its finish reason, and
   * its usage when the object is one) if it is a learned closing chunk; false when it is not (nothing is changed).
   */
  read(b: Buffer, start: number, end: number, f: ResponseFacts): boolean {
    const n = this.prior.size;
    if (n === 0 || !isDataFrame(b, start, end) || b[end - 3] !== CLOSE_BRACE) return false;
    const at = start + FRAME_HEAD_LEN;
    for (let i = 0; i < n; i++) {
      const t = this.prior.at(i);
      const from = at + t.prefix.length;
      // The usage object, whole, between the head and the outer `}`; one event (no LF inside).
      if (from >= end - 3 || b[from] !== OPEN_BRACE || !this.prior.adopts(i, b, at)) continue;
      for (let k = from; k < end - 2; k++) if (b[k] === LF) return false;
      let u: unknown;
      try {
        u = JSON.parse(b.toString('utf8', from, end - 3));
      } catch {
        return false;
      }
      f.finish_reason = t.reason;
      const usage = openAiUsage(u);
      if (usage) f.usage = usage;
      return true;
    }
    return false;
  }
}

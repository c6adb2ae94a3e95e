/**
 * The OpenAI chat-completions dialect, as DeepSeek speaks it (DEEPSEEK-API.md, "OpenAI surface").
 */
import { asObj, fault, tokenEvent, type ChatParams, type Dialect, type ResponseFacts, type StreamReader } from './dialect.js';
import { DeltaTemplates } from './fast-delta.js';
import type { DeltaTemplate } from './delta-template.js';
import { FRAME_HEAD_LEN, isAscii, isDataFrame, ownCopy } from './json-bytes.js';
import { TemplatePrior } from './template-prior.js';
import { errorOf } from './server-error.js';
import { openAiUsage } from './usage.js';
import { templatedBody } from './body-template.js';
import { ClosingHeads } from './closing-chunk.js';

const CONTENT_MARK = '"delta":{"content":"';
const REASONING_MARK = '"delta":{"reasoning_content":"';

function hasText(v: unknown): v is string {
  return typeof v === 'string' && v.length > 0;
}

/**
 * This thread's last learned OpenAI text-delta template, offered to new streams (template-prior.ts). Only a
 * candidate, checked in full at every use: which run or server taught it never changes an answer.
 */
const PRIOR = new TemplatePrior<DeltaTemplate>();

/**
 * Its last chunks read to no effect (DeepSeek's first, `{"role":"assistant","content":""}`), whole: a new stream's
 * chunk equal to one but for the values that may vary has no effect either, and is read in bytes.
 */
const QUIET = new TemplatePrior();

/** Its last closing chunks' heads (finish reason and usage), for reading a stream's end without parsing it. */
const CLOSING = new ClosingHeads();

/** `data: [DONE]` and the blank line, as bytes. */
const DONE_FRAME = Buffer.from('data: [DONE]\n\n');

/** Whether `b[start, end)` is exactly DONE_FRAME. */
function isDoneFrame(b: Buffer, start: number, end: number): boolean {
  if (end - start !== DONE_FRAME.length) return false;
  for (let k = 0; k < DONE_FRAME.length; k++) if (b[start + k] !== DONE_FRAME[k]) return false;
  return true;
}

/** Reads one OpenAI-style stream: `data: {chunk}` frames, then `data: [DONE]`. */
class OpenAiStream implements StreamReader {
  private readonly f: ResponseFacts;
  private readonly tpl = new DeltaTemplates(PRIOR);

  constructor(f: ResponseFacts) {
    this.f = f;
  }

  frame(buf: Buffer, start: number, end: number, atUs: number): boolean {
    if (this.f.complete) return false;
    let m = this.tpl.matchFrame(buf, start, end);
    if (m === -1) m = this.tpl.adoptFrame(buf, start, end);
    if (m === -1) {
      // The end marker, as `message` reads it; a chunk of no effect, as it would find it.
      if (isDoneFrame(buf, start, end)) this.f.complete = true;
      else if (CLOSING.read(buf, start, end, this.f)) return true;
      else if (QUIET.size === 0 || !isDataFrame(buf, start, end) || !QUIET.adoptsWhole(buf, start + FRAME_HEAD_LEN, end - 2)) return false;
      return true;
    }
    if (m === 1) tokenEvent(this.f, atUs);
    return true;
  }

  message(event: string, data: string, atUs: number): void {
    const f = this.f;
    if (f.complete) return; // anything after [DONE] is ignored
    // Fast path: a text delta shaped exactly like one already parsed (see fast-delta.ts).
    const m = this.tpl.match(data);
    if (m === 1) return tokenEvent(f, atUs);
    if (m === 0) return;
    if (data === '[DONE]') {
      f.complete = true;
      return;
    }
    let j: unknown;
    try {
      j = JSON.parse(data);
    } catch {
      return fault(f, 'bad_json', data);
    }
    const err = errorOf(j, 'mid_stream_error');
    if (err || event === 'error') {
      f.error ??= err ?? { rateLimited: false, detail: 'mid_stream_error', message: data.slice(0, 300) };
      return;
    }
    const o = asObj(j);
    if (!o) return fault(f, 'bad_json', data);
    const choices = o.choices;
    let text = false;
    let finish = false;
    if (Array.isArray(choices)) {
      for (const c of choices) {
        const co = asObj(c);
        if (!co) continue;
        const d = asObj(co.delta);
        if (d && (hasText(d.content) || hasText(d.reasoning_content) || hasText(d.reasoning) || Array.isArray(d.tool_calls))) {
          text = true;
        }
        if (typeof co.finish_reason === 'string') {
          f.finish_reason = co.finish_reason;
          finish = true;
        }
      }
    }
    const usage = o.usage != null ? openAiUsage(o.usage) : undefined;
    if (usage) f.usage = usage;
    if (text) tokenEvent(f, atUs);
    else if (!finish && !usage && isAscii(data)) QUIET.offer({ prefix: ownCopy(data), suffix: '' });
    else if (finish && usage) CLOSING.learn(data, f.finish_reason as string);
    // Learn a template from a pure text delta (one choice, one text key, nothing else of interest).
    if (!finish && !usage && Array.isArray(choices) && choices.length === 1) {
      const d = asObj(asObj(choices[0])?.delta);
      if (d) {
        const keys = Object.keys(d);
        if (keys.length === 1) {
          if (typeof d.content === 'string') this.tpl.learn(data, CONTENT_MARK, d.content);
          else if (typeof d.reasoning_content === 'string') this.tpl.learn(data, REASONING_MARK, d.reasoning_content);
        }
      }
    }
  }
}

/** The OpenAI dialect: `POST {base}/chat/completions`, bearer auth. */
export const openAiDialect: Dialect = {
  name: 'openai',
  path: '/chat/completions',
  headers(apiKey) {
    return { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
  },
  // Every field but the prompt and the user_id is stringified once per shape (body-template.ts).
  body: templatedBody((p: ChatParams) => {
    const messages: { role: string; content: string }[] = [];
    if (p.system.length > 0) messages.push({ role: 'system', content: p.system });
    messages.push({ role: 'user', content: p.prompt });
    const b: Record<string, unknown> = { model: p.model, messages, max_tokens: p.max_tokens, stream: p.stream };
    // Generic OpenAI servers only report usage in streams when asked; DeepSeek sends it anyway.
    if (p.stream) b.stream_options = { include_usage: true };
    b.thinking = { type: p.thinking ? 'enabled' : 'disabled' };
    if (p.thinking && p.reasoning_effort) b.reasoning_effort = p.reasoning_effort;
    if (p.temperature !== undefined) b.temperature = p.temperature;
    if (p.user_id !== undefined) b.user_id = p.user_id;
    return JSON.stringify(b);
  }),
  streamReader(facts) {
    return new OpenAiStream(facts);
  },
  readBody(json, f) {
    const o = asObj(json);
    const choices = o?.choices;
    if (!o || !Array.isArray(choices)) return fault(f, 'unexpected_body', JSON.stringify(json).slice(0, 200));
    for (const c of choices) {
      const co = asObj(c);
      if (!co) continue;
      const m = asObj(co.message);
      if (m && (hasText(m.content) || hasText(m.reasoning_content) || Array.isArray(m.tool_calls))) f.token_events++;
      if (typeof co.finish_reason === 'string') f.finish_reason = co.finish_reason;
    }
    const usage = openAiUsage(o.usage);
    if (usage) f.usage = usage;
    f.complete = true;
  },
};

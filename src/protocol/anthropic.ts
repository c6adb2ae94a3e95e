/**
 * The Anthropic messages dialect, as DeepSeek's `/anthropic` surface speaks it (DEEPSEEK-API.md).
 * Frames carry an event name: message_start, content_block_start/delta/stop, message_delta, message_stop,
 * ping, error. A frame without `event:` is routed by its JSON `type` (lenient; the official SDK drops it).
 */
import { asObj, fault, tokenEvent, type ChatParams, type Dialect, type ResponseFacts, type StreamReader } from './dialect.js';
import { DeltaTemplates } from './fast-delta.js';
import { errorOf } from './server-error.js';
import { anthropicUsage, mergeAnthropicUsage, type AnthropicUsageFields } from './usage.js';
import { ANTHROPIC_MIN_THINKING_BUDGET } from '../models.js';
import { templatedBody } from './body-template.js';

const TEXT_MARK = '"delta":{"type":"text_delta","text":"';
const THINKING_MARK = '"delta":{"type":"thinking_delta","thinking":"';

/** The `anthropic-version` header value sent. */
export const ANTHROPIC_VERSION = '2023-06-01';

/**
 * The thinking budget sent: the API's minimum (1024), but always below max_tokens, which the API requires too.
 * With max_tokens <= 1024 no budget meets both rules; below max_tokens wins (DeepSeek ignores the budget) and
 * scenario validation warns.
 */
export function thinkingBudget(maxTokens: number): number {
  return Math.max(0, Math.min(ANTHROPIC_MIN_THINKING_BUDGET, maxTokens - 1));
}

function hasText(v: unknown): boolean {
  return typeof v === 'string' && v.length > 0;
}

class AnthropicStream implements StreamReader {
  private readonly f: ResponseFacts;
  private readonly tpl = new DeltaTemplates();
  private readonly usage: AnthropicUsageFields = {};

  constructor(f: ResponseFacts) {
    this.f = f;
  }

  message(event: string, data: string, atUs: number): void {
    const f = this.f;
    if (f.complete) return;
    if (event === 'content_block_delta' || event === 'message') {
      const m = this.tpl.match(data);
      if (m === 1) return tokenEvent(f, atUs);
      if (m === 0) return;
    }
    if (event === 'ping') return;
    let j: unknown;
    try {
      j = JSON.parse(data);
    } catch {
      return fault(f, 'bad_json', data);
    }
    const o = asObj(j);
    if (!o) return fault(f, 'bad_json', data);
    const type = event === 'message' && typeof o.type === 'string' ? o.type : event;
    switch (type) {
      case 'content_block_delta': {
        const d = asObj(o.delta);
        if (!d) return;
        if (d.type === 'text_delta' && typeof d.text === 'string') {
          if (d.text.length > 0) tokenEvent(f, atUs);
          if (Object.keys(d).length === 2) this.tpl.learn(data, TEXT_MARK, d.text);
        } else if (d.type === 'thinking_delta' && typeof d.thinking === 'string') {
          if (d.thinking.length > 0) tokenEvent(f, atUs);
          if (Object.keys(d).length === 2) this.tpl.learn(data, THINKING_MARK, d.thinking);
        } else if (hasText(d.text) || hasText(d.thinking) || hasText(d.partial_json)) {
          tokenEvent(f, atUs);
        }
        return;
      }
      case 'content_block_start': {
        const b = asObj(o.content_block);
        if (b && (hasText(b.text) || hasText(b.thinking))) tokenEvent(f, atUs);
        return;
      }
      case 'message_start': {
        if (mergeAnthropicUsage(this.usage, asObj(o.message)?.usage)) f.usage = anthropicUsage(this.usage);
        return;
      }
      case 'message_delta': {
        const d = asObj(o.delta);
        if (d && typeof d.stop_reason === 'string') f.finish_reason = d.stop_reason;
        if (mergeAnthropicUsage(this.usage, o.usage)) f.usage = anthropicUsage(this.usage);
        return;
      }
      case 'message_stop':
        f.complete = true;
        return;
      case 'error': {
        f.error ??= errorOf(j, 'mid_stream_error') ?? { rateLimited: false, detail: 'mid_stream_error', message: data.slice(0, 300) };
        return;
      }
      default: {
        // content_block_stop, ping routed by type, unknown future events: nothing to record,
        // unless it is an error envelope under another name.
        const e = errorOf(j, 'mid_stream_error');
        if (e) f.error ??= e;
      }
    }
  }
}

/** The Anthropic dialect: `POST {base}/v1/messages` with `x-api-key` and `anthropic-version`. */
export const anthropicDialect: Dialect = {
  name: 'anthropic',
  path: '/v1/messages',
  headers(apiKey) {
    return { 'x-api-key': apiKey, 'anthropic-version': ANTHROPIC_VERSION, 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
  },
  // Every field but the prompt and the user_id is stringified once per shape (body-template.ts).
  body: templatedBody((p: ChatParams) => {
    const b: Record<string, unknown> = {
      model: p.model,
      max_tokens: p.max_tokens,
      messages: [{ role: 'user', content: p.prompt }],
      stream: p.stream,
    };
    if (p.system.length > 0) b.system = p.system;
    b.thinking = p.thinking ? { type: 'enabled', budget_tokens: thinkingBudget(p.max_tokens) } : { type: 'disabled' };
    // With thinking the messages API accepts only temperature 1: another value is not sent (validation warns).
    if (p.temperature !== undefined && !(p.thinking && p.temperature !== 1)) b.temperature = p.temperature;
    if (p.user_id !== undefined) b.metadata = { user_id: p.user_id };
    return JSON.stringify(b);
  }),
  streamReader(facts) {
    return new AnthropicStream(facts);
  },
  readBody(json, f) {
    const o = asObj(json);
    if (!o || !Array.isArray(o.content)) return fault(f, 'unexpected_body', JSON.stringify(json).slice(0, 200));
    for (const c of o.content) {
      const co = asObj(c);
      if (co && (hasText(co.text) || hasText(co.thinking))) f.token_events++;
    }
    if (typeof o.stop_reason === 'string') f.finish_reason = o.stop_reason;
    const u: AnthropicUsageFields = {};
    if (mergeAnthropicUsage(u, o.usage)) f.usage = anthropicUsage(u);
    f.complete = true;
  },
};

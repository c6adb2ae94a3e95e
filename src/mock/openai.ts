/**
 * DeepSeek's OpenAI-compatible bytes (DEEPSEEK-API.md, "OpenAI surface"): chunk frames with a constant id,
 * `"usage":null` until the final chunk, which carries finish_reason and full usage, then `data: [DONE]`.
 * With thinking, a role delta with `"reasoning_content":""` opens, then reasoning deltas, then content deltas.
 */
import { hexId, openaiErrorType, type Dialect } from './dialect.js';
import type { Flight } from './flight.js';
import { WORDS, textOf, wordIndex } from './words.js';

/** Per-word delta JSON, serialised once: plain content, content during thinking, reasoning. */
const CONTENT = WORDS.map((w) => `{"content":"${w}"}`);
const CONTENT_T = WORDS.map((w) => `{"content":"${w}","reasoning_content":null}`);
const REASONING = WORDS.map((w) => `{"content":null,"reasoning_content":"${w}"}`);
const TAIL = ',"logprobs":null,"finish_reason":null}],"usage":null}\n\n';
const ROLE = '{"role":"assistant","content":""}';
const ROLE_T = '{"role":"assistant","content":null,"reasoning_content":""}';
const FINGERPRINT = 'fp_dsprobe_mock';

/** The `usage` object for `f`, counting the tokens actually produced. */
export function openaiUsage(f: Flight): string {
  const c = f.emitted;
  const r = Math.min(c, f.reasoningTokens);
  const p = f.promptTokens;
  const h = f.hitTokens;
  const details = f.thinking ? `,"completion_tokens_details":{"reasoning_tokens":${r}}` : '';
  return (
    `{"prompt_tokens":${p},"completion_tokens":${c},"total_tokens":${p + c},` +
    `"prompt_tokens_details":{"cached_tokens":${h}}${details},` +
    `"prompt_cache_hit_tokens":${h},"prompt_cache_miss_tokens":${p - h}}`
  );
}

function uuid(hex: string): string {
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/** The OpenAI surface. */
export const openaiDialect: Dialect = {
  contentType: (stream) => (stream ? 'text/event-stream; charset=utf-8' : 'application/json'),

  errorBody(status, message) {
    const code = status >= 400 && status < 429 ? '"invalid_request_error"' : 'null';
    return `{"error":{"message":${JSON.stringify(message)},"type":"${openaiErrorType(status)}","param":null,"code":${code}}}`;
  },

  newId: (seq, seed) => uuid(hexId(seq, seed)),

  open: () => '',

  tokens(f, from, to, chunk) {
    if (!f.framePrefix) {
      f.framePrefix =
        `data: {"id":"${f.id}","object":"chat.completion.chunk","created":${f.created},` +
        `"model":${JSON.stringify(f.model)},"system_fingerprint":"${FINGERPRINT}","choices":[{"index":0,"delta":`;
    }
    const pre = f.framePrefix;
    let out = from === 0 ? pre + (f.thinking ? ROLE_T : ROLE) + TAIL : '';
    const r = f.reasoningTokens;
    let k = from;
    while (k < to) {
      const reasoning = k < r;
      let end = Math.min(to, k + chunk);
      if (reasoning && end > r) end = r;
      let delta: string;
      if (end - k === 1) {
        const w = wordIndex(f.wordSeed, k);
        delta = reasoning ? REASONING[w]! : f.thinking ? CONTENT_T[w]! : CONTENT[w]!;
      } else {
        const text = textOf(f.wordSeed, k, end);
        delta = reasoning
          ? `{"content":null,"reasoning_content":"${text}"}`
          : f.thinking
            ? `{"content":"${text}","reasoning_content":null}`
            : `{"content":"${text}"}`;
      }
      out += pre + delta + TAIL;
      k = end;
    }
    return out;
  },

  close(f) {
    // A reply that ends before its first token still opens with the role delta.
    const opening = f.emitted === 0 ? openaiDialect.tokens(f, 0, 0, 1) : '';
    const pre = f.framePrefix;
    const delta = f.thinking ? '{"content":"","reasoning_content":null}' : '{"content":""}';
    return (
      opening +
      `${pre}${delta},"logprobs":null,"finish_reason":${JSON.stringify(f.finishReason)}}],"usage":${openaiUsage(f)}}\n\n` +
      'data: [DONE]\n\n'
    );
  },

  streamError(_f, message, type) {
    return `data: {"error":{"message":${JSON.stringify(message)},"type":${JSON.stringify(type)},"param":null,"code":null}}\n\n`;
  },

  malformed(f) {
    return `data: {"id":"${f.id}","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"trunc\n\n`;
  },

  body(f) {
    const r = Math.min(f.emitted, f.reasoningTokens);
    const content = textOf(f.wordSeed, r, f.emitted);
    const reasoning = f.thinking ? `,"reasoning_content":"${textOf(f.wordSeed, 0, r)}"` : '';
    return (
      `{"id":"${f.id}","object":"chat.completion","created":${f.created},"model":${JSON.stringify(f.model)},` +
      `"choices":[{"index":0,"message":{"role":"assistant","content":"${content}"${reasoning}},` +
      `"logprobs":null,"finish_reason":${JSON.stringify(f.finishReason)}}],` +
      `"usage":${openaiUsage(f)},"system_fingerprint":"${FINGERPRINT}"}`
    );
  },
};

/**
 * DeepSeek's Anthropic-compatible bytes (DEEPSEEK-API.md, "Anthropic surface"): every frame carries an
 * `event:` line (the official SDK drops frames without one): message_start, ping, content_block_start,
 * content_block_delta (thinking_delta, text_delta), content_block_stop, message_delta, message_stop;
 * errors as `event: error`. With thinking, block 0 is the thinking block and block 1 the text.
 */
import { anthropicErrorType, hexId, type Dialect } from './dialect.js';
import type { Flight } from './flight.js';
import { WORDS, textOf, wordIndex } from './words.js';

/** Whole delta frames per word and block index, serialised once. */
const TEXT_AT = [0, 1].map((i) =>
  WORDS.map((w) => `event: content_block_delta\ndata: {"type":"content_block_delta","index":${i},"delta":{"type":"text_delta","text":"${w}"}}\n\n`),
);
const THINKING0 = WORDS.map(
  (w) => `event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"${w}"}}\n\n`,
);
const PING = 'event: ping\ndata: {"type":"ping"}\n\n';

function blockStart(index: number, thinking: boolean): string {
  const block = thinking ? '{"type":"thinking","thinking":"","signature":""}' : '{"type":"text","text":""}';
  return `event: content_block_start\ndata: {"type":"content_block_start","index":${index},"content_block":${block}}\n\n`;
}

function blockStop(index: number): string {
  return `event: content_block_stop\ndata: {"type":"content_block_stop","index":${index}}\n\n`;
}

/** Anthropic stop_reason for the mock's finish reason. */
function stopReason(finish: string): string {
  if (finish === 'stop') return 'end_turn';
  if (finish === 'length') return 'max_tokens';
  return finish;
}

function usage(f: Flight, output: number): string {
  return (
    `{"input_tokens":${f.promptTokens - f.hitTokens},"output_tokens":${output},` +
    `"cache_creation_input_tokens":0,"cache_read_input_tokens":${f.hitTokens}}`
  );
}

/** Opens the block that token k belongs to, closing the previous one. */
function switchBlock(f: Flight, k: number): string {
  const want = f.thinking && k >= f.reasoningTokens ? 1 : 0;
  if (f.block === want) return '';
  const out = (f.block >= 0 ? blockStop(f.block) : '') + blockStart(want, f.thinking && want === 0);
  f.block = want;
  return out;
}

/** The Anthropic surface. */
export const anthropicDialect: Dialect = {
  contentType: (stream) => (stream ? 'text/event-stream; charset=utf-8' : 'application/json'),

  errorBody(status, message) {
    return `{"type":"error","error":{"type":"${anthropicErrorType(status)}","message":${JSON.stringify(message)}}}`;
  },

  newId: (seq, seed) => 'msg_' + hexId(seq, seed).slice(0, 24),

  open(f) {
    const message =
      `{"id":"${f.id}","type":"message","role":"assistant","model":${JSON.stringify(f.model)},"content":[],` +
      `"stop_reason":null,"stop_sequence":null,"usage":${usage(f, 0)}}`;
    return `event: message_start\ndata: {"type":"message_start","message":${message}}\n\n` + PING;
  },

  tokens(f, from, to, chunk) {
    let out = '';
    let k = from;
    const r = f.thinking ? f.reasoningTokens : 0;
    while (k < to) {
      out += switchBlock(f, k);
      const reasoning = k < r;
      let end = Math.min(to, k + chunk);
      if (reasoning && end > r) end = r;
      if (end - k === 1) {
        const w = wordIndex(f.wordSeed, k);
        out += reasoning ? THINKING0[w]! : TEXT_AT[f.block]![w]!;
      } else {
        const text = textOf(f.wordSeed, k, end);
        const delta = reasoning ? `{"type":"thinking_delta","thinking":"${text}"}` : `{"type":"text_delta","text":"${text}"}`;
        out += `event: content_block_delta\ndata: {"type":"content_block_delta","index":${f.block},"delta":${delta}}\n\n`;
      }
      k = end;
    }
    return out;
  },

  close(f) {
    // Close with the text block open: a reply whose text is empty still has one.
    const textIndex = f.thinking ? 1 : 0;
    let out = '';
    if (f.block !== textIndex) {
      out += (f.block >= 0 ? blockStop(f.block) : '') + blockStart(textIndex, false);
      f.block = textIndex;
    }
    out += blockStop(textIndex);
    return (
      out +
      `event: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":"${stopReason(f.finishReason)}","stop_sequence":null},` +
      `"usage":{"output_tokens":${f.emitted}}}\n\n` +
      'event: message_stop\ndata: {"type":"message_stop"}\n\n'
    );
  },

  streamError(_f, message, type) {
    return `event: error\ndata: {"type":"error","error":{"type":${JSON.stringify(type)},"message":${JSON.stringify(message)}}}\n\n`;
  },

  malformed(f) {
    return `event: content_block_delta\ndata: {"type":"content_block_delta","index":${Math.max(0, f.block)},"delta":{"type":"text_delta","text":"trunc\n\n`;
  },

  body(f) {
    const r = f.thinking ? Math.min(f.emitted, f.reasoningTokens) : 0;
    const thinking = f.thinking ? `{"type":"thinking","thinking":"${textOf(f.wordSeed, 0, r)}","signature":""},` : '';
    return (
      `{"id":"${f.id}","type":"message","role":"assistant","model":${JSON.stringify(f.model)},` +
      `"content":[${thinking}{"type":"text","text":"${textOf(f.wordSeed, r, f.emitted)}"}],` +
      `"stop_reason":"${stopReason(f.finishReason)}","stop_sequence":null,"usage":${usage(f, f.emitted)}}`
    );
  },
};

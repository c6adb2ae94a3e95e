// Micro-benchmark of the prober's per-request CPU on the hot path, without sockets: a DeepSeek-style stream is
// fed chunk by chunk (one frame per chunk, the worst case: one socket read per token) into
//   1. dsprobe's Exchange (the connection handler the prober uses: SSE parser + dialect + template fast path),
//   2. a plain baseline: TextDecoder + line split + JSON.parse of every frame,
//   3. the official openai client's stream decoder (Stream.fromSSEResponse over a web ReadableStream).
// Prints CPU µs per request and per chunk. Asserts nothing. Needs `npx tsc -p tsconfig.json` first.
//
//   node bench/prober-micro.js [requests=2000] [tokens=200]
import { Exchange } from '../dist/transport/exchange.js';
import { openAiDialect } from '../dist/protocol/openai.js';
import { Stream } from 'openai/streaming';

const requests = Number(process.argv[2] ?? 2000);
const tokens = Number(process.argv[3] ?? 200);

const chunk = (delta, finish = null, usage = null) =>
  `data: ${JSON.stringify({ id: '6a8f0c2e-1b7d-4e3a-9f21-0c5d8e7b4a13', object: 'chat.completion.chunk', created: 1760000000, model: 'deepseek-v4-flash', system_fingerprint: 'fp_3a5770e1b4_prod0820_fp8_kvcache', choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }], usage })}\n\n`;
const WORDS = ['The', ' river', ' ran', ' past', ' the', ' old', ' mill', ',', ' and', ' "quoted"', ' naïve', ' 中文', '\n'];
const frames = [chunk({ role: 'assistant', content: '' })];
for (let i = 0; i < tokens; i++) frames.push(chunk({ content: WORDS[i % WORDS.length] }));
frames.push(chunk({ content: '' }, 'stop', { prompt_tokens: 1200, completion_tokens: tokens, total_tokens: 1200 + tokens, prompt_tokens_details: { cached_tokens: 1024 }, prompt_cache_hit_tokens: 1024, prompt_cache_miss_tokens: 176 }));
frames.push('data: [DONE]\n\n');
const buffers = frames.map((f) => Buffer.from(f));
const rawHeaders = [Buffer.from('content-type'), Buffer.from('text/event-stream; charset=utf-8'), Buffer.from('x-ds-trace-id'), Buffer.from('abc')];
const clock = { nowUs: () => Math.round(performance.now() * 1000), sleepUntil: async () => undefined };
const req = { id: 0, model: 'deepseek-v4-flash', step: 0, target_inflight: 1, inflight_at_send: 1, key_index: 0, apiKey: 'k', system: '', prompt: '', max_tokens: 1, stream: true, thinking: false, intended_us: 0, deadline_us: 1e15 };

function dsprobeOnce() {
  let out;
  const x = new Exchange(req, openAiDialect, clock, undefined, (s) => (out = s), () => undefined);
  x.onConnect(() => undefined);
  x.onHeaders(200, rawHeaders, () => undefined, 'OK');
  for (const b of buffers) x.onData(b, 0, b.length);
  x.onComplete(null);
  if (out.outcome !== 'ok' || out.token_events !== tokens) throw new Error(`bad sample ${JSON.stringify(out)}`);
}

function baselineOnce() {
  const dec = new TextDecoder();
  let events = 0;
  let rest = '';
  for (const b of buffers) {
    const text = rest + dec.decode(b, { stream: true });
    const lines = text.split('\n');
    rest = lines.pop();
    for (const l of lines) {
      if (!l.startsWith('data: ')) continue;
      const d = l.slice(6);
      if (d === '[DONE]') continue;
      const j = JSON.parse(d);
      if (j.choices[0]?.delta?.content) events++;
    }
  }
  if (events !== tokens) throw new Error('baseline miscounted');
}

async function openaiOnce() {
  let i = 0;
  const body = new ReadableStream({
    pull(c) {
      if (i < buffers.length) c.enqueue(buffers[i++]);
      else c.close();
    },
  });
  const stream = Stream.fromSSEResponse(new Response(body, { headers: { 'content-type': 'text/event-stream' } }), new AbortController());
  let events = 0;
  for await (const ch of stream) if (ch.choices[0]?.delta?.content) events++;
  if (events !== tokens) throw new Error('openai miscounted');
}

async function measure(name, fn) {
  for (let i = 0; i < Math.min(200, requests); i++) await fn(); // warm-up
  const c0 = process.cpuUsage();
  for (let i = 0; i < requests; i++) await fn();
  const c = process.cpuUsage(c0);
  const us = (c.user + c.system) / requests;
  return [name, us.toFixed(1), (us / buffers.length).toFixed(2)];
}

const rows = [['parser', 'CPU µs/request', 'CPU µs/chunk']];
rows.push(await measure('dsprobe Exchange (SSE + dialect + fast path)', dsprobeOnce));
rows.push(await measure('baseline: split + JSON.parse every frame', baselineOnce));
rows.push(await measure('openai client Stream.fromSSEResponse', openaiOnce));
console.log(`${requests} requests × ${buffers.length} chunks (${tokens} tokens), node ${process.version}`);
const w = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
for (const r of rows) console.log(r.map((v, c) => (c === 0 ? v.padEnd(w[c]) : v.padStart(w[c]))).join('  '));

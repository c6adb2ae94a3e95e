// The exchange's byte path for whole `data:` events (fast-delta.ts, matchFrame) must read a stream exactly as the
// text path does: the same Sample whether each read is one whole event (the byte path takes most of them) or the
// stream arrives byte by byte (the byte path never applies), and the first-token hook once, at the first text.
import { describe, expect, test, vi } from 'vitest';
import { Exchange } from '../../src/transport/exchange.js';
import { openAiDialect } from '../../src/protocol/openai.js';
import type { ProbeRequest } from '../../src/transport/prober.js';
import type { Sample } from '../../src/types.js';

const chunk = (delta: object, finish: string | null = null, usage: object | null = null) =>
  `data: ${JSON.stringify({ id: 'r1', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }], usage })}\n\n`;
const FRAMES = [
  ': keep-alive\n\n',
  chunk({ role: 'assistant', content: '' }),
  chunk({ content: '' }),
  chunk({ content: 'The' }),
  chunk({ content: ' "river"' }),
  chunk({ content: '' }),
  chunk({ content: ' naïve 中文 🎉' }),
  chunk({ content: '\n' }),
  chunk({ reasoning_content: 'not the learned shape' }),
  chunk({ content: 'x' }).replace('data: ', 'data:'),
  chunk({ content: 'y' }),
  chunk({ content: '' }, 'stop', { prompt_tokens: 5, completion_tokens: 7, total_tokens: 12 }),
  'data: [DONE]\n\n',
  chunk({ content: 'after done' }),
];
const TEXT_EVENTS = 7; // The, "river", naïve..., \n, reasoning, x, y

/** What lies around a read in the thread's buffer: an earlier read's bytes, here a whole event and its end. */
const AROUND = Buffer.from('data: {"choices":[{"delta":{"content":"junk"}}]}\n\n');

function run(reads: Buffer[]): { sample: Sample; firsts: number[] } {
  let t = 0;
  const clock = { nowUs: () => (t += 1000), sleepUntil: async () => undefined };
  const req = { id: 1, model: 'm', step: 0, target_inflight: 1, inflight_at_send: 1, key_index: 0, apiKey: 'k', system: '', prompt: '', max_tokens: 9, stream: true, thinking: false, intended_us: 0, deadline_us: 1e15 } as ProbeRequest;
  const firsts: number[] = [];
  let sample: Sample | undefined;
  const x = new Exchange(req, openAiDialect, clock, { onFirstToken: (_r, at) => firsts.push(at) }, (s) => (sample = s), () => undefined);
  x.onConnect(() => undefined);
  x.onHeaders(200, ['content-type', 'text/event-stream'], () => undefined, 'OK');
  // Each read in place inside a larger buffer, as h1.ts hands it on: bytes before and after it read as events would.
  for (const r of reads) {
    const at = AROUND.length;
    const buf = Buffer.concat([AROUND, r, AROUND]);
    x.onData(buf, at, at + r.length);
  }
  x.onComplete(null);
  return { sample: sample as Sample, firsts };
}

describe('exchange: whole-event reads in bytes', () => {
  test('the same Sample as byte-at-a-time reads; the first-token hook once, with the sample', () => {
    const whole = run(FRAMES.map((f) => Buffer.from(f)));
    const bytes = Buffer.from(FRAMES.join(''));
    const byByte = run(Array.from(bytes, (b) => Buffer.of(b)));
    for (const r of [whole, byByte]) {
      expect(r.sample.outcome).toBe('ok');
      expect(r.sample.token_events).toBe(TEXT_EVENTS);
      expect(r.sample.usage?.completion_tokens).toBe(7);
      expect(r.firsts).toEqual([r.sample.first_token_us]);
    }
    // One clock reading each for the send, the headers and every read: the first text ("The", the 4th read) is the 6th.
    expect(whole.sample.first_token_us! - whole.sample.sent_us).toBe(5000);
  });

  test('several whole events in one read (joined by the server or a busy loop): the same Sample, however they are grouped', () => {
    const one = run(FRAMES.map((f) => Buffer.from(f))).sample;
    // Every way of cutting the stream between events into consecutive reads: 2^(n-1) groupings.
    for (let cuts = 0; cuts < 1 << (FRAMES.length - 1); cuts++) {
      const reads: Buffer[] = [];
      let group = '';
      let firstRead = -1;
      FRAMES.forEach((f, i) => {
        group += f;
        if (i === 3 && firstRead === -1) firstRead = reads.length;
        if (i === FRAMES.length - 1 || (cuts >> i) & 1) {
          reads.push(Buffer.from(group));
          group = '';
        }
      });
      const { sample, firsts } = run(reads);
      expect([sample.outcome, sample.token_events, sample.usage, sample.finish_reason], `cuts ${cuts}`).toEqual([one.outcome, one.token_events, one.usage, one.finish_reason]);
      expect(firsts).toEqual([sample.first_token_us]);
      // The first text arrives with the read that holds the 4th event: its clock reading (send, headers, then one per read).
      expect(sample.first_token_us! - sample.sent_us, `cuts ${cuts}`).toBe((2 + firstRead) * 1000);
    }
  });
});

describe('exchange: a new response read in bytes from what another taught', () => {
  const stream = (id: string, created: number) => {
    const c = (delta: object, finish: string | null = null, usage: object | null = null) =>
      `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model: 'm', system_fingerprint: 'fp_1', choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }], usage })}\n\n`;
    return [c({ role: 'assistant', content: '' }), c({ content: 'Hello' }), c({ content: ' world' }), c({ content: '' }, 'stop', { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 }), 'data: [DONE]\n\n'];
  };

  test('its role chunk, first delta and [DONE] are read in bytes (one JSON.parse: the usage), to the same Sample', () => {
    run(stream('chatcmpl-aaaa', 1745225423).map((f) => Buffer.from(f)));
    const frames = stream('chatcmpl-bbbb', 1745225999);
    const parse = vi.spyOn(JSON, 'parse');
    const whole = run(frames.map((f) => Buffer.from(f)));
    const parsed = parse.mock.calls.length;
    parse.mockRestore();
    const byByte = run(Array.from(Buffer.from(frames.join('')), (b) => Buffer.of(b)));
    expect(parsed).toBe(1);
    for (const r of [whole, byByte]) {
      expect([r.sample.outcome, r.sample.token_events, r.sample.finish_reason, r.sample.usage?.completion_tokens]).toEqual(['ok', 2, 'stop', 2]);
      expect(r.firsts).toEqual([r.sample.first_token_us]);
    }
    // Send, headers, then one clock reading per read: the role chunk is the first data, "Hello" the first token.
    expect(whole.sample.first_data_us! - whole.sample.sent_us).toBe(2000);
    expect(whole.sample.first_token_us! - whole.sample.sent_us).toBe(3000);
  });

  test('a parser made only after events read in bytes takes the stream as past its start: a BOM there is text', () => {
    run(stream('chatcmpl-aaaa', 1745225423).map((f) => Buffer.from(f)));
    const frames = stream('chatcmpl-cccc', 1745225999);
    // After the role chunk and the first delta (read in bytes: no parser yet), a read the byte path does not take: a
    // BOM, then what looks like one more delta. Past the start a BOM is not dropped, so that line's field is
    // "\uFEFFdata", unknown, and ignored: only "Hello" and " world" count, as a byte-by-byte reading says.
    const odd = `\uFEFF${frames[2]!.replace(' world', ' extra')}`;
    const all = [frames[0]!, frames[1]!, odd, frames[2]!, frames[3]!, frames[4]!];
    const whole = run(all.map((f) => Buffer.from(f)));
    const byByte = run(Array.from(Buffer.from(all.join('')), (b) => Buffer.of(b)));
    for (const r of [whole, byByte]) expect([r.sample.outcome, r.sample.token_events, r.sample.finish_reason]).toEqual(['ok', 2, 'stop']);
  });
});

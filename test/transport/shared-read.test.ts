// Plain TCP load sockets read into one buffer per thread (shared-read.ts): a read's bytes are valid only during
// the call. These cases interleave two connections so that a second read overwrites the buffer while the first
// response is half read: whatever the first kept must have been copied, or its body (or its SSE line) is garbled.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import net from 'node:net';
import { monotonicClock } from '../../src/time/clock.js';
import { createProber, type ProbeRequest, type Prober } from '../../src/transport/prober.js';
import { WarmConnector } from '../../src/transport/connector.js';
import { readsShared } from '../../src/transport/shared-read.js';
import { JSON_CT, oaChunk, SSE, startServer, type TestServer } from './server.js';

const clock = monotonicClock();
const USAGE = { prompt_tokens: 12, completion_tokens: 3, total_tokens: 15 };
const body = (text: string, id: string): string =>
  JSON.stringify({ id, object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content: text }, finish_reason: 'stop' }], usage: USAGE });
// B differs from A from its first bytes on (its head is one header longer, its body has another id), so that
// B's read puts different bytes where A's first half lay.
const A_BODY = body('the first answer, long enough to be cut in the middle of a string', 'a');
const B_BODY = body('Z'.repeat(100), `"b"}]]}${'Z'.repeat(40)}`);
const A_STREAM = [oaChunk({ content: 'one' }), oaChunk({ content: 'two' }), oaChunk({ content: 'three' }), oaChunk({ content: '' }, 'stop', USAGE), 'data: [DONE]\n\n'].join('');
const B_STREAM = [oaChunk({ content: 'Z'.repeat(300) }), oaChunk({ content: '' }, 'stop', USAGE), 'data: [DONE]\n\n'].join('');

function req(model: string, stream: boolean, id: number): ProbeRequest {
  const now = clock.nowUs();
  return {
    id, model, step: 0, target_inflight: 2, inflight_at_send: 1, key_index: 0, apiKey: 'sk-test', system: '', prompt: 'hi', max_tokens: 8,
    stream, thinking: false, intended_us: now, deadline_us: now + 10_000_000,
  };
}

let server: TestServer;
let prober: Prober;
// B's answer is written only once A's first half is out, and A's second half only once B's answer is out.
let aHalfOut: () => void = () => undefined;
let bOut: () => void = () => undefined;
const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  const split = (text: string, head: Record<string, string>) => async (res: import('node:http').ServerResponse) => {
    const b = new Promise<void>((r) => (bOut = r));
    res.writeHead(200, head);
    res.write(text.slice(0, Math.floor(text.length / 2)));
    await wait(30);
    aHalfOut();
    await b;
    await wait(30);
    res.end(text.slice(Math.floor(text.length / 2)));
  };
  const whole = (text: string, head: Record<string, string>) => async (res: import('node:http').ServerResponse) => {
    res.writeHead(200, head);
    res.end(text);
    await wait(30);
    bOut();
  };
  server = await startServer({
    a_body: split(A_BODY, JSON_CT),
    b_body: whole(B_BODY, { ...JSON_CT, 'x-pad': 'Q'.repeat(37) }),
    a_stream: split(A_STREAM, SSE),
    b_stream: whole(B_STREAM, { ...SSE, 'x-pad': 'Q'.repeat(37) }),
  });
  prober = createProber({ baseUrl: server.url, protocol: 'openai', clock });
});

afterAll(async () => {
  await prober.close();
  await server.close();
});

async function interleaved(a: string, b: string, stream: boolean) {
  const aHalf = new Promise<void>((r) => (aHalfOut = r));
  const first = prober.send(req(a, stream, 1));
  await aHalf;
  const second = prober.send(req(b, stream, 2));
  return Promise.all([first, second]);
}

describe('reads into the shared buffer', () => {
  test('a non-streaming body split over two reads survives another connection reading in between', async () => {
    const [a, b] = await interleaved('a_body', 'b_body', false);
    expect(b.outcome).toBe('ok');
    // Had the first half been kept as a view of the shared buffer, B's bytes would sit in it: not JSON any more.
    expect(a.outcome).toBe('ok');
    expect(a.token_events).toBe(1);
    expect(a.usage?.completion_tokens).toBe(3);
  });

  test('an SSE frame split over two reads survives another connection reading in between', async () => {
    const [a, b] = await interleaved('a_stream', 'b_stream', true);
    expect(b.outcome).toBe('ok');
    expect(a.outcome).toBe('ok');
    expect(a.token_events).toBe(3);
  });

  test('plain TCP sockets read shared; a stashed socket that gets bytes nobody asked for is closed', async () => {
    const stray = net.createServer((s) => setTimeout(() => s.write('HTTP/1.1 200 OK\r\n\r\n'), 20));
    await new Promise<void>((r) => stray.listen(0, '127.0.0.1', r));
    const port = (stray.address() as net.AddressInfo).port;
    const c = new WarmConnector(new URL(`http://127.0.0.1:${port}`), clock);
    try {
      expect(await c.warm(1)).toBe(1);
      expect(c.stashed).toBe(1);
      await wait(150);
      // Out-of-step bytes on a socket no request holds: dropped from the stash, never handed to a request.
      expect(c.stashed).toBe(0);
      const sock = await new Promise<net.Socket | null>((r) => c.connectOrigin((_e, s) => r(s)));
      expect(sock && readsShared(sock)).toBe(true);
      sock?.destroy();
    } finally {
      c.close();
      stray.close();
    }
  });
});

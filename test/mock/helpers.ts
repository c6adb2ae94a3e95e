/**
 * Helpers for the mock's tests: start a mock on 127.0.0.1:0, open raw HTTP requests (node:http, one
 * connection each) and read their bytes, and wait for ground-truth conditions by polling /_mock/state.
 */
import { request, type IncomingMessage, type ClientRequest } from 'node:http';
import { afterEach } from 'vitest';
import { startMock, type MockConfigInput, type MockHandle, type MockState, type StartMockOptions } from '../../src/mock/index.js';

const open: MockHandle[] = [];

/** Starts a mock that is closed after the current test. */
export async function mock(config: MockConfigInput = {}, opts: StartMockOptions = {}): Promise<MockHandle> {
  const h = await startMock({ host: '127.0.0.1', port: 0, ...config }, opts);
  open.push(h);
  return h;
}

afterEach(async () => {
  await Promise.all(open.splice(0).map((h) => h.close()));
});

/** A request whose response headers arrived. */
export interface Opened {
  status: number;
  headers: IncomingMessage['headers'];
  res: IncomingMessage;
  req: ClientRequest;
  /** Every byte received so far, as text. */
  text(): string;
  /** Resolves with the whole body when the response ends, or with what arrived when the connection dies. */
  done: Promise<{ body: string; aborted: boolean }>;
  /** Closes the connection from the client side. */
  abort(): void;
}

/** Sends one request on its own connection; resolves when the response headers arrive. */
export function send(
  url: string,
  path: string,
  body: unknown,
  headers: Record<string, string> = { authorization: 'Bearer sk-test-0001' },
  method = 'POST',
): Promise<Opened> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
    const req = request(`${url}${path}`, { method, agent: false, headers: { 'content-type': 'application/json', ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      const done = new Promise<{ body: string; aborted: boolean }>((ok) => {
        let settled = false;
        const finish = (aborted: boolean) => {
          if (settled) return;
          settled = true;
          ok({ body: Buffer.concat(chunks).toString('utf8'), aborted });
        };
        res.on('end', () => finish(false));
        res.on('aborted', () => finish(true));
        res.on('error', () => finish(true));
        res.on('close', () => finish(!res.complete));
      });
      resolve({
        status: res.statusCode ?? 0,
        headers: res.headers,
        res,
        req,
        text: () => Buffer.concat(chunks).toString('utf8'),
        done,
        abort: () => req.destroy(),
      });
    });
    req.on('error', reject);
    if (payload !== undefined) req.write(payload);
    req.end();
  });
}

/** Sends a request and reads the whole response. */
export async function fetchText(url: string, path: string, body?: unknown, headers?: Record<string, string>, method?: string) {
  const o = await send(url, path, body, headers, method ?? (body === undefined ? 'GET' : 'POST'));
  const { body: text, aborted } = await o.done;
  return { status: o.status, headers: o.headers, body: text, aborted };
}

/** A chat body for the OpenAI surface. */
export function chat(model = 'deepseek-v4-flash', extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { model, messages: [{ role: 'user', content: 'Say hello.' }], ...extra };
}

/** Latency settings that keep a request in flight until the test lets it go (1 hour prefill). */
export const HOLD: MockConfigInput['latency'] = { prefill_overhead: '1h', jitter: 0 };

/** Latency settings that finish requests quickly (a few ms). */
export const FAST: MockConfigInput['latency'] = {
  prefill_overhead: '2ms',
  prefill_per_token: 0,
  inter_token: '1ms',
  jitter: 0,
  answer_tokens: { min: 5, max: 5 },
  reasoning_tokens: { min: 3, max: 3 },
};

/** Polls the mock's state until `pred` holds (bounded by the test timeout, not by a wall-clock assertion). */
export async function until(h: MockHandle, pred: (s: MockState) => boolean, what = 'condition'): Promise<MockState> {
  for (let i = 0; i < 2000; i++) {
    const s = await h.state();
    if (pred(s)) return s;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error(`mock state never reached: ${what}`);
}

/** The counters of one account and model. */
export function counts(s: MockState, model = 'deepseek-v4-flash', account = 'default') {
  const a = s.accounts.find((x) => x.name === account);
  if (!a) throw new Error(`no account ${account}`);
  return a.models[model]!;
}

/** Splits an SSE body into frames (text between blank lines), keeping comments. */
export function frames(body: string): string[] {
  return body.split('\n\n').filter((f) => f.length > 0);
}

/** The JSON payloads of `data:` frames (skips [DONE]). */
export function dataJson(body: string): Record<string, any>[] {
  return frames(body)
    .map((f) => f.split('\n').find((l) => l.startsWith('data: ')))
    .filter((l): l is string => !!l && l !== 'data: [DONE]')
    .map((l) => JSON.parse(l.slice(6)));
}

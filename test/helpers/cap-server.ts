/**
 * An independent judge for claims about caps, 429s and fatal answers: a small OpenAI-style server written for the
 * tests (none of the mock's code). Per model it admits up to `cap` requests at once and answers the rest 429 at
 * once; admitted requests stream `tokens` deltas `tokenMs` apart. It logs every answer with its time, so a test can
 * count refusals per second itself.
 */
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';

export interface CapServerOptions {
  caps: Record<string, number>;
  /** Accepted keys; any key when absent. Others get 401. */
  keys?: string[];
  tokens?: number;
  tokenMs?: number;
  /** Serve HTTPS with this key and certificate (PEM). */
  tls?: { key: string; cert: string };
  /**
   * Over the cap, a request waits up to this long for a slot instead of a 429 at once. A stream that ends frees its
   * slot first: the waiting request is admitted, and its status line written, before the ended stream's last bytes
   * (microseconds apart, in one synchronous block). The server never holds more than the cap, yet a client reading
   * the two in that order sees one request more than the cap open at the admission.
   */
  holdMs?: number;
}

export interface Answer {
  t_ms: number;
  status: number;
  model: string;
  max_tokens: number;
}

export interface CapServer {
  url: string;
  answers: Answer[];
  inflight: Record<string, number>;
  close(): Promise<void>;
}

const now = () => performance.now();

export async function startCapServer(opts: CapServerOptions): Promise<CapServer> {
  const t0 = now();
  const answers: Answer[] = [];
  const inflight: Record<string, number> = {};
  /** Requests waiting for a slot (holdMs), oldest first. */
  const waiting: Record<string, (() => void)[]> = {};
  const sockets = new Set<import('node:net').Socket>();
  const json = (res: http.ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const handler = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    const auth = (req.headers.authorization ?? '').replace(/^Bearer\s+/i, '');
    const keyOk = !opts.keys || opts.keys.includes(auth);
    if (req.method === 'GET' && /\/models$/.test(req.url ?? '')) {
      if (!keyOk) return json(res, 401, { error: { message: 'Authentication Fails, Your api key is invalid', type: 'authentication_error' } });
      return json(res, 200, { object: 'list', data: Object.keys(opts.caps).map((id) => ({ id, object: 'model' })) });
    }
    if (req.method === 'GET' && /\/user\/balance$/.test(req.url ?? '')) {
      return json(res, 200, { is_available: true, balance_infos: [{ currency: 'USD', total_balance: '100.00' }] });
    }
    let raw = '';
    req.on('data', (c) => (raw += c));
    req.on('end', () => {
      let body: { model?: string; max_tokens?: number; stream?: boolean } = {};
      try {
        body = JSON.parse(raw);
      } catch {
        /* answered 400 below */
      }
      const model = body.model ?? '';
      const log = (status: number) => answers.push({ t_ms: now() - t0, status, model, max_tokens: body.max_tokens ?? 0 });
      if (!keyOk) {
        log(401);
        return json(res, 401, { error: { message: 'Authentication Fails, Your api key is invalid', type: 'authentication_error' } });
      }
      if (!(model in opts.caps)) {
        log(400);
        return json(res, 400, { error: { message: 'Model Not Exist', type: 'invalid_request_error' } });
      }
      const cur = inflight[model] ?? 0;
      const refuse = () => {
        log(429);
        json(res, 429, { error: { message: `Too many requests. Your current concurrency: ${inflight[model] ?? 0}.`, type: 'rate_limit_error' } });
      };
      if (cur >= (opts.caps[model] ?? 0)) {
        if (!opts.holdMs) return refuse();
        const queue = (waiting[model] ??= []);
        const timer = setTimeout(() => {
          queue.splice(queue.indexOf(admit), 1);
          refuse();
        }, opts.holdMs);
        const admit = () => {
          clearTimeout(timer);
          stream();
        };
        queue.push(admit);
        return;
      }
      stream();

      function stream(): void {
        log(200);
        inflight[model] = (inflight[model] ?? 0) + 1;
        let done = false;
        const release = () => {
          if (done) return;
          done = true;
          inflight[model] = (inflight[model] ?? 1) - 1;
          // A request waiting for a slot takes this one at once (holdMs).
          waiting[model]?.shift()?.();
        };
        res.on('close', release);
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        const frame = (delta: object, extra: object = {}) =>
          res.write(`data: ${JSON.stringify({ id: 'x', object: 'chat.completion.chunk', model, choices: [{ index: 0, delta, finish_reason: null }], usage: null, ...extra })}\n\n`);
        frame({ role: 'assistant', content: '' });
        // The head and first frame leave now, not on the next tick (a response's first write corks its socket).
        if (opts.holdMs) res.socket?.uncork();
        const total = Math.min(opts.tokens ?? 20, body.max_tokens ?? 20);
        let i = 0;
        const tick = () => {
          if (res.destroyed) return release();
          if (i < total) {
            i++;
            frame({ content: ' w' });
            setTimeout(tick, opts.tokenMs ?? 50);
            return;
          }
          // Done: the slot is free now (a waiting request is admitted here, its status line written at once), and
          // the last bytes go out right after it.
          if (opts.holdMs) release();
          last();
        };
        const last = () => {
          res.write(
            `data: ${JSON.stringify({ id: 'x', object: 'chat.completion.chunk', model, choices: [{ index: 0, delta: { content: '' }, finish_reason: 'stop' }], usage: { prompt_tokens: 10, completion_tokens: total, total_tokens: 10 + total } })}\n\n`,
          );
          res.end('data: [DONE]\n\n');
          release();
        };
        setTimeout(tick, opts.tokenMs ?? 50);
      }
    });
  };
  const server = opts.tls ? https.createServer({ key: opts.tls.key, cert: opts.tls.cert }, handler) : http.createServer(handler);
  server.on(opts.tls ? 'secureConnection' : 'connection', (s: import('node:net').Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `${opts.tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    answers,
    inflight,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

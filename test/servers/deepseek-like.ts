/**
 * An independent DeepSeek-like test server (test code; it shares nothing with src/mock). Its admission rule is the
 * ground truth that dsprobe's report is judged against, and it logs every request: arrival, admission decision,
 * status, first byte, keep-alive times, service start, end, key, user_id and trace id (x-ds-trace-id).
 *
 * Modes (combine as needed): an account cap that follows a schedule (drops and rises mid-run); a noisy edge (each
 * admission draws its limit from base ± spread); a queue of fixed depth in front of the running slots (keep-alives
 * starting late or early, stream and non-stream); per-user_id caps; separate accounts per key; a queue that never
 * answers 429 but 503 after a fixed wait; 429 bodies in DeepSeek's, a plain gateway's and Anthropic's shape.
 */
import http from 'node:http';
import type net from 'node:net';
import { performance } from 'node:perf_hooks';

export type Shape429 = 'deepseek' | 'gateway' | 'anthropic';

export interface TruthConfig {
  /** Account cap: a number, or a function of ms since `trigger` (see below) and of the 429s sent so far. */
  cap?: number | ((ctx: { sinceTriggerMs: number | null; refused: number }) => number);
  /** When the schedule's clock starts: at the first 429 sent (default) or at the first request. */
  trigger?: 'first_429' | 'first_request';
  /** Noisy edge: each admission decision draws its limit uniformly from base-spread .. base+spread (seeded). */
  noise?: { base: number; spread: number; seed: number };
  /** Per-user_id cap (on top of the account cap); 429 messages then quote the user_id's own count. */
  perUser?: number;
  /** Separate accounts: cap per API key (Bearer token); 429 messages quote that account's count. */
  perKey?: Record<string, number>;
  /** A queue of fixed depth in front of `running` slots: admitted requests beyond `running` wait with keep-alives. */
  queue?: { running: number; firstKeepaliveMs: number; everyMs: number };
  /** No 429 ever: beyond `running` a request waits without any answer, then gets 503 after `waitMs` (a proxy queue). */
  queue503?: { running: number; waitMs: number };
  shape429?: Shape429;
  /** Tokens per answer and the gap between them (ms); the first token comes after `firstMs`. */
  tokens: number;
  gapMs: number;
  firstMs?: number;
}

export interface LogEntry {
  trace: string;
  key: string;
  user_id: string;
  stream: boolean;
  arrival_ms: number;
  decision: 'run' | 'queued' | 'refused' | 'waited_503';
  /** The count the limiter compared (and quoted), and the limit it used. */
  count: number;
  limit: number;
  status?: number;
  headers_ms?: number;
  keepalive_ms: number[];
  /** Service start (left the queue). */
  start_ms?: number;
  first_data_ms?: number;
  end_ms?: number;
  /** The client closed the connection before the response ended. */
  client_closed: boolean;
  /** dsprobe's pre-flight (max_tokens 1), not part of the run. */
  preflight: boolean;
}

export interface TruthServer {
  url: string;
  log: LogEntry[];
  /** 429s this server sent. */
  refused(): number;
  close(): Promise<void>;
}

/** A small seeded generator (mulberry32), independent of dsprobe's. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function body429(shape: Shape429, count: number): { type: string; text: string } {
  if (shape === 'gateway') {
    return { type: 'text/html', text: '<html>\r\n<head><title>429 Too Many Requests</title></head>\r\n<body><center><h1>429 Too Many Requests</h1></center></body></html>\r\n' };
  }
  if (shape === 'anthropic') {
    return { type: 'application/json', text: JSON.stringify({ type: 'error', error: { type: 'rate_limit_error', message: 'Number of concurrent connections has exceeded your rate limit.' } }) };
  }
  return {
    type: 'application/json',
    text: JSON.stringify({ error: { message: `Too many requests. Please pace your requests reasonably. Your current concurrency: ${count}.`, type: 'rate_limit_error', param: null, code: 'rate_limit_exceeded' } }),
  };
}

export async function startTruthServer(cfg: TruthConfig): Promise<TruthServer> {
  const t0 = performance.now();
  const now = () => performance.now() - t0;
  const log: LogEntry[] = [];
  const random = cfg.noise ? rng(cfg.noise.seed) : () => 0.5;
  let refused = 0;
  let firstRequestMs: number | null = null;
  let first429Ms: number | null = null;
  let seq = 0;
  // Admitted and not ended: in total, per account (key) and per user_id.
  let open = 0;
  const openKey = new Map<string, number>();
  const openUser = new Map<string, number>();
  let running = 0;
  const waiting: (() => void)[] = [];
  const sockets = new Set<net.Socket>();

  const capNow = (): number => {
    if (cfg.noise) return cfg.noise.base - cfg.noise.spread + Math.floor(random() * (2 * cfg.noise.spread + 1));
    if (cfg.cap === undefined) return Infinity;
    if (typeof cfg.cap === 'number') return cfg.cap;
    const from = (cfg.trigger ?? 'first_429') === 'first_429' ? first429Ms : firstRequestMs;
    return cfg.cap({ sinceTriggerMs: from === null ? null : now() - from, refused });
  };

  const server = http.createServer((req, res) => {
    const url = req.url ?? '/';
    if (req.method === 'GET' && url.endsWith('/models')) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ object: 'list', data: [{ id: 'deepseek-v4-flash', object: 'model', owned_by: 'deepseek' }] }));
      return;
    }
    if (req.method === 'GET' && url.endsWith('/user/balance')) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ is_available: true, balance_infos: [{ currency: 'USD', total_balance: '100.00', granted_balance: '0.00', topped_up_balance: '100.00' }] }));
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => handle(req, res, Buffer.concat(chunks).toString('utf8')));
  });

  function handle(req: http.IncomingMessage, res: http.ServerResponse, text: string): void {
    let body: { stream?: boolean; user_id?: string; model?: string; max_tokens?: number } = {};
    try {
      body = JSON.parse(text);
    } catch {
      res.writeHead(400).end();
      return;
    }
    const key = String(req.headers.authorization ?? '').replace(/^Bearer /, '');
    const user = body.user_id ?? '';
    const stream = body.stream === true;
    const trace = `truth-${seq++}`;
    const e: LogEntry = { trace, key, user_id: user, stream, arrival_ms: now(), decision: 'run', count: 0, limit: Infinity, keepalive_ms: [], client_closed: false, preflight: body.max_tokens === 1 };
    log.push(e);
    if (firstRequestMs === null && !e.preflight) firstRequestMs = e.arrival_ms;

    if (cfg.queue503) {
      const q = cfg.queue503;
      let admittedSlot = false;
      const go = () => {
        admittedSlot = true;
        running++;
        serve(e, res, stream, body.model ?? 'deepseek-v4-flash', () => {});
      };
      if (running < q.running) return go();
      e.decision = 'waited_503';
      const onSlot = () => {
        clearTimeout(timer);
        e.decision = 'run';
        go();
      };
      waiting.push(onSlot);
      const timer = setTimeout(() => {
        const i = waiting.indexOf(onSlot);
        if (i >= 0) waiting.splice(i, 1);
        if (admittedSlot) return;
        e.status = 503;
        e.headers_ms = e.end_ms = now();
        res.writeHead(503, { 'content-type': 'text/html', 'x-ds-trace-id': trace });
        res.end('<html><body><h1>503 Service Unavailable</h1>\nNo server is available to handle this request.\n</body></html>\n');
      }, q.waitMs);
      res.on('close', () => {
        if (e.end_ms === undefined) {
          e.client_closed = true;
          const i = waiting.indexOf(onSlot);
          if (i >= 0) waiting.splice(i, 1);
          clearTimeout(timer);
        }
      });
      return;
    }

    // The limiter: per account (key), per user_id, then the account cap.
    let count = 0;
    let limit = Infinity;
    const acct = cfg.perKey ? key : '';
    if (cfg.perKey) {
      count = openKey.get(acct) ?? 0;
      limit = cfg.perKey[key] ?? 0;
    }
    if (count < limit && cfg.perUser !== undefined) {
      count = openUser.get(user) ?? 0;
      limit = cfg.perUser;
    }
    if (count < limit) {
      count = open;
      limit = capNow();
    }
    e.count = count;
    e.limit = limit;
    if (count >= limit) {
      e.decision = 'refused';
      e.status = 429;
      if (!e.preflight) refused++;
      if (first429Ms === null && !e.preflight) first429Ms = now();
      const b = body429(cfg.shape429 ?? 'deepseek', count);
      e.headers_ms = e.end_ms = now();
      res.writeHead(429, { 'content-type': b.type, 'x-ds-trace-id': trace });
      res.end(b.text);
      return;
    }
    open++;
    openKey.set(acct, (openKey.get(acct) ?? 0) + 1);
    openUser.set(user, (openUser.get(user) ?? 0) + 1);
    const release = () => {
      open--;
      openKey.set(acct, (openKey.get(acct) ?? 1) - 1);
      openUser.set(user, (openUser.get(user) ?? 1) - 1);
    };
    serve(e, res, stream, body.model ?? 'deepseek-v4-flash', release);
  }

  /** Sends the answer: headers at once, keep-alives while queued, then tokens. `release` frees the admission. */
  function serve(e: LogEntry, res: http.ServerResponse, stream: boolean, model: string, release: () => void): void {
    e.status = 200;
    e.headers_ms = now();
    res.writeHead(200, { 'content-type': stream ? 'text/event-stream' : 'application/json', 'x-ds-trace-id': e.trace });
    res.flushHeaders();
    const timers = new Set<NodeJS.Timeout>();
    const at = (ms: number, f: () => void) => {
      const t = setTimeout(() => {
        timers.delete(t);
        f();
      }, ms);
      timers.add(t);
    };
    let done = false;
    let slot = false;
    const finish = () => {
      if (done) return;
      done = true;
      e.end_ms = now();
      for (const t of timers) clearTimeout(t);
      release();
      if (slot) {
        running--;
        const next = waiting.shift();
        if (next) next();
      }
    };
    res.on('close', () => {
      if (!done) {
        e.client_closed = true;
        const i = waiting.indexOf(start);
        if (i >= 0) waiting.splice(i, 1);
        finish();
      }
    });
    const id = `chatcmpl-${e.trace}`;
    const chunk = (delta: object, finish: string | null, usage: object | null = null) =>
      `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created: 0, model, choices: [{ index: 0, delta, finish_reason: finish }], usage })}\n\n`;
    function start(): void {
      slot = true;
      // queue503 took its slot before serve(); everything else takes it here.
      if (!cfg.queue503) running++;
      e.start_ms = now();
      let k = 0;
      const step = () => {
        if (done) return;
        if (k === 0 && stream) e.first_data_ms = now();
        if (stream) res.write(chunk(k === 0 ? { role: 'assistant', content: 'w ' } : { content: 'w ' }, null));
        k++;
        if (k < cfg.tokens) return at(cfg.gapMs, step);
        const usage = { prompt_tokens: 20, completion_tokens: cfg.tokens, total_tokens: 20 + cfg.tokens, prompt_cache_hit_tokens: 0, prompt_cache_miss_tokens: 20 };
        if (stream) {
          res.write(chunk({}, 'stop', usage));
          res.end('data: [DONE]\n\n');
        } else {
          e.first_data_ms = now();
          res.end(JSON.stringify({ id, object: 'chat.completion', created: 0, model, choices: [{ index: 0, message: { role: 'assistant', content: 'w '.repeat(cfg.tokens) }, finish_reason: 'stop' }], usage }));
        }
        finish();
      };
      at(cfg.firstMs ?? cfg.gapMs, step);
    }
    // A plain server runs at once; a queue of fixed depth runs `queue.running` at once and keeps the rest waiting
    // with keep-alives (the first after `firstKeepaliveMs`, then every `everyMs`).
    if (cfg.queue503 || !cfg.queue || running < cfg.queue.running) return start();
    e.decision = 'queued';
    const q = cfg.queue;
    const ka = () => {
      if (done || e.start_ms !== undefined) return;
      e.keepalive_ms.push(now());
      res.write(stream ? ': keep-alive\n\n' : '\n');
      at(q.everyMs, ka);
    };
    at(q.firstKeepaliveMs, ka);
    waiting.push(start);
  }

  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    log,
    refused: () => refused,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

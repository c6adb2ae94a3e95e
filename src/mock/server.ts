/**
 * The mock's HTTP server: routes both surfaces, decides admission (auth, validation, balance, faults, caps)
 * before any body byte, hands admitted requests to the Engine, and serves the ground-truth endpoints.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import type { Socket } from 'node:net';
import { DsprobeError, EXIT } from '../errors.js';
import { monotonicClock, type Clock } from '../time/clock.js';
import { seededRandom } from '../time/random.js';
import { Accounts, tooManyMessage, type AccountState } from './accounts.js';
import type { MockConfig } from './config.js';
import { hexId } from './dialect.js';
import { Engine } from './engine.js';
import { EventBus, type MockEvent } from './events.js';
import { defaultErrorMessage, gatewayPage, pickFault } from './faults.js';
import { openaiDialect } from './openai.js';
import { anthropicDialect } from './anthropic.js';
import { isBad, parseChatRequest, type Surface } from './request.js';
import { LOOP_RESOLUTION_MS, snapshot, type MockState } from './state.js';
import { handleAdmin } from './admin.js';
import { readBody, sendJson } from './http.js';

/** A running mock in this process. */
export interface MockServer {
  url: string;
  host: string;
  port: number;
  events: EventBus;
  state(opts?: { resetLoop?: boolean }): MockState;
  close(): Promise<void>;
}

/** What the request handlers share. */
export interface ServerContext {
  cfg: MockConfig;
  clock: Clock;
  accounts: Accounts;
  engine: Engine;
  events: EventBus;
  state(resetLoop: boolean): MockState;
}

/** Starts the mock on cfg.host:cfg.port. Rejects with a DsprobeError (exit 2) when the address is taken. */
export async function createMockServer(cfg: MockConfig, opts: { clock?: Clock } = {}): Promise<MockServer> {
  const clock = opts.clock ?? monotonicClock();
  const rng = seededRandom(cfg.seed);
  const events = new EventBus();
  const accounts = new Accounts(cfg, clock.nowUs());
  const engine = new Engine(cfg, clock, accounts, events, rng.fork('engine'), () => {});
  const faultRng = rng.fork('faults');
  const loop: IntervalHistogram = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
  loop.enable();
  const sockets = new Set<Socket>();
  let server: Server;
  const ctx: ServerContext = {
    cfg,
    clock,
    accounts,
    engine,
    events,
    state(resetLoop) {
      const s = snapshot(cfg, accounts, engine, clock.nowUs(), loop, sockets.size, memoryUsage());
      if (resetLoop) loop.reset();
      return s;
    },
  };
  const chat = (surface: Surface, body: string, req: IncomingMessage, res: ServerResponse) =>
    handleChat(ctx, faultRng, surface, body, req, res);

  server = createServer({ requestTimeout: 0, keepAliveTimeout: 5000 }, (req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    if (req.method === 'POST' && (path === '/chat/completions' || path === '/v1/chat/completions')) {
      return readBody(req, res, (body) => chat('openai', body, req, res));
    }
    if (req.method === 'POST' && (path === '/anthropic/v1/messages' || path === '/anthropic/messages')) {
      return readBody(req, res, (body) => chat('anthropic', body, req, res));
    }
    if (path.startsWith('/_mock/')) return handleAdmin(ctx, path, req, res);
    if (req.method === 'GET' && (path === '/models' || path === '/v1/models')) {
      if (!authenticate(ctx, 'openai', req, res)) return;
      const data = cfg.models.map((id) => ({ id, object: 'model', owned_by: 'deepseek' }));
      return sendJson(res, 200, JSON.stringify({ object: 'list', data }));
    }
    if (req.method === 'GET' && (path === '/user/balance' || path === '/v1/user/balance')) {
      const acc = authenticate(ctx, 'openai', req, res);
      if (!acc) return;
      const b = acc.balance.toFixed(2);
      return sendJson(
        res,
        200,
        JSON.stringify({
          is_available: acc.balance > 0,
          balance_infos: [{ currency: 'USD', total_balance: b, granted_balance: '0.00', topped_up_balance: b }],
        }),
      );
    }
    sendJson(res, 404, openaiDialect.errorBody(404, `Not found: ${req.method} ${path}`));
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.on('clientError', (_err, socket) => socket.destroy());

  await new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => reject(listenError(err, cfg));
    server.once('error', onError);
    server.listen({ host: cfg.host, port: cfg.port, backlog: 4096 }, () => {
      server.off('error', onError);
      resolve();
    });
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : cfg.port;
  const hostInUrl = cfg.host.includes(':') ? `[${cfg.host}]` : cfg.host;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${hostInUrl}:${port}`,
    host: cfg.host,
    port,
    events,
    state: (o) => ctx.state(o?.resetLoop === true),
    close() {
      closing ??= new Promise<void>((resolve) => {
        engine.stop();
        loop.disable();
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

/** Admission of one chat request: the order is auth, body, balance, fault, cap (429 before any body). */
function handleChat(ctx: ServerContext, faultRng: ReturnType<typeof seededRandom>, surface: Surface, body: string, req: IncomingMessage, res: ServerResponse): void {
  const { cfg, accounts, engine } = ctx;
  const dialect = surface === 'openai' ? openaiDialect : anthropicDialect;
  const seq = engine.nextSeq();
  const traceId = hexId(seq, cfg.seed ^ 0x7f4a7c15);
  res.setHeader('x-ds-trace-id', traceId);
  const reject = (status: number, reason: string, message: string, acc?: AccountState, model?: string, extra?: Partial<MockEvent>, html?: string) => {
    engine.totals.rejected++;
    if (ctx.events.active) {
      const e: MockEvent = { type: 'reject', t_ms: ctx.clock.nowUs() / 1000, id: seq, trace_id: traceId, surface, status, reason, ...extra };
      if (acc) e.account = acc.cfg.name;
      if (model) e.model = model;
      ctx.events.emit(e);
    }
    if (html === undefined) return sendJson(res, status, dialect.errorBody(status, message));
    res.writeHead(status, { 'content-type': 'text/html', 'content-length': Buffer.byteLength(html) });
    res.end(html);
  };
  const acc = authenticate(ctx, surface, req, res, () => reject(401, 'auth', authMessage(apiKey(req))));
  if (!acc) return;
  const parsed = parseChatRequest(surface, body, cfg.models);
  if (isBad(parsed)) return reject(parsed.status, 'bad_request', parsed.message, acc);
  const extra = { user: parsed.user, stream: parsed.stream };
  if (acc.balance <= 0) return reject(402, 'balance', 'Insufficient Balance', acc, parsed.model, extra);
  const fault = pickFault(cfg.faults, faultRng, parsed.model, acc.cfg.name, parsed.stream);
  if (fault?.kind === 'http_error') {
    const status = fault.status ?? 500;
    return reject(status, 'fault', fault.message ?? defaultErrorMessage(status), acc, parsed.model, { ...extra, fault: fault.kind });
  }
  if (fault?.kind === 'html_gateway') {
    const status = fault.status ?? 502;
    const page = gatewayPage(status, fault.message);
    return reject(status, 'fault', '', acc, parsed.model, { ...extra, fault: fault.kind }, page);
  }
  const refused = accounts.tryAdmit(acc, parsed.model, parsed.user, ctx.clock.nowUs());
  if (refused) {
    return reject(429, refused.scope === 'user' ? 'user_cap' : 'cap', tooManyMessage(refused), acc, parsed.model, {
      ...extra,
      concurrency: refused.concurrency,
      cap: refused.cap,
    });
  }
  engine.admit(seq, traceId, parsed, surface, acc, res, fault);
}

/** The account for the request's key, or undefined after sending 401 (or calling `onFail`). */
function authenticate(ctx: ServerContext, surface: Surface, req: IncomingMessage, res: ServerResponse, onFail?: () => void): AccountState | undefined {
  const key = apiKey(req);
  const acc = ctx.accounts.byKey(key);
  if (acc) return acc;
  if (onFail) onFail();
  else sendJson(res, 401, (surface === 'openai' ? openaiDialect : anthropicDialect).errorBody(401, authMessage(key)));
  return undefined;
}

/** The key from `Authorization: Bearer …` or `x-api-key`. */
function apiKey(req: IncomingMessage): string | undefined {
  const auth = req.headers.authorization;
  if (auth && /^bearer\s+/i.test(auth)) return auth.replace(/^bearer\s+/i, '').trim() || undefined;
  const x = req.headers['x-api-key'];
  return (Array.isArray(x) ? x[0] : x) || undefined;
}

/** DeepSeek's 401 text; shows only the key's last four characters, as DeepSeek does. */
function authMessage(key: string | undefined): string {
  if (!key) return 'Authentication Fails (no api key provided)';
  return `Authentication Fails, Your api key: ****${key.slice(-4)} is invalid`;
}

function listenError(err: NodeJS.ErrnoException, cfg: MockConfig): Error {
  const where = `${cfg.host}:${cfg.port}`;
  if (err.code === 'EADDRINUSE') {
    return new DsprobeError('DSP_PORT_IN_USE', `cannot listen on ${where}: the port is already in use`, EXIT.USAGE, [
      { path: 'port', message: `${cfg.port} is taken`, hint: 'pick another --port, or --port 0 for any free port' },
    ]);
  }
  if (err.code === 'EADDRNOTAVAIL' || err.code === 'EACCES' || err.code === 'ENOTFOUND') {
    return new DsprobeError('DSP_LISTEN', `cannot listen on ${where}: ${err.code}`, EXIT.USAGE, [
      { path: 'host', message: `cannot bind ${where}`, hint: 'use --host 127.0.0.1 and a port above 1023' },
    ]);
  }
  return err;
}

function memoryUsage(): { rss: number; heapUsed: number; external: number } {
  // The mock is its own entry point (ARCHITECTURE.md): reading its memory is allowed here.
  return process.memoryUsage();
}

/**
 * Ground-truth and control endpoints under /_mock/ (not part of DeepSeek's API):
 * - GET  /_mock/state[?reset_loop=1]  JSON snapshot (MockState); reset_loop restarts the event-loop histogram
 * - GET  /_mock/events                NDJSON stream, one MockEvent per line, from the moment headers arrive
 * - POST /_mock/caps     {"account"?: "default", "model": "...", "cap": N | null}  runtime cap override
 * - POST /_mock/balance  {"account"?: "default", "balance": USD}
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { DEFAULT_ACCOUNT } from './config.js';
import type { ServerContext } from './server.js';
import { readBody, sendJson } from './http.js';
import { openaiDialect } from './openai.js';

/** Serves one /_mock/ request. */
export function handleAdmin(ctx: ServerContext, path: string, req: IncomingMessage, res: ServerResponse): void {
  const query = new URLSearchParams((req.url ?? '').split('?')[1] ?? '');
  if (req.method === 'GET' && path === '/_mock/state') {
    const reset = query.get('reset_loop') === '1' || query.get('reset_loop') === 'true';
    return sendJson(res, 200, JSON.stringify(ctx.state(reset)));
  }
  if (req.method === 'GET' && path === '/_mock/events') return streamEvents(ctx, res);
  if (req.method === 'POST' && (path === '/_mock/caps' || path === '/_mock/balance')) {
    return readBody(req, res, (body) => control(ctx, path, body, res));
  }
  sendJson(res, 404, openaiDialect.errorBody(404, `Not found: ${req.method} ${path}`));
}

function streamEvents(ctx: ServerContext, res: ServerResponse): void {
  res.writeHead(200, { 'content-type': 'application/x-ndjson', 'cache-control': 'no-cache' });
  const off = ctx.events.subscribe((e) => {
    res.write(JSON.stringify(e) + '\n');
  });
  res.on('close', off);
  res.flushHeaders();
}

function control(ctx: ServerContext, path: string, body: string, res: ServerResponse): void {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return sendJson(res, 400, openaiDialect.errorBody(400, 'expected a JSON object'));
  }
  // `null`, a list, a number: valid JSON, but not a control request.
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    return sendJson(res, 400, openaiDialect.errorBody(400, `expected a JSON object (got ${parsed === null ? 'null' : Array.isArray(parsed) ? 'a list' : typeof parsed})`));
  }
  const o = parsed as Record<string, unknown>;
  if (o.account !== undefined && typeof o.account !== 'string') {
    return sendJson(res, 400, openaiDialect.errorBody(400, 'account: expected an account name'));
  }
  const name = typeof o.account === 'string' ? o.account : DEFAULT_ACCOUNT;
  const acc = ctx.accounts.byName(name);
  if (!acc) return sendJson(res, 404, openaiDialect.errorBody(404, `no account named "${name}"`));
  if (path === '/_mock/balance') {
    if (typeof o.balance !== 'number' || !Number.isFinite(o.balance)) {
      return sendJson(res, 400, openaiDialect.errorBody(400, 'balance: expected a number (USD)'));
    }
    acc.balance = o.balance;
  } else {
    if (typeof o.model !== 'string') return sendJson(res, 400, openaiDialect.errorBody(400, 'model: expected a model id'));
    if (o.cap === null) acc.capOverrides.delete(o.model);
    else if (typeof o.cap === 'number' && Number.isInteger(o.cap) && o.cap >= 0) acc.capOverrides.set(o.model, o.cap);
    else return sendJson(res, 400, openaiDialect.errorBody(400, 'cap: expected a whole number >= 0, or null to clear'));
  }
  sendJson(res, 200, JSON.stringify({ ok: true }));
}

/**
 * Tiny loopback servers for transport tests: each case is picked by the `model` field of the request body,
 * and writes exact bytes with node:http (or cuts the socket).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Seen {
  path: string;
  headers: http.IncomingHttpHeaders;
  body: Record<string, unknown>;
}

export type CaseFn = (res: http.ServerResponse, req: http.IncomingMessage, body: Record<string, unknown>) => void;

export interface TestServer {
  url: string;
  seen: Seen[];
  close(): Promise<void>;
}

/** Starts a server on 127.0.0.1:0 that dispatches on body.model (or on the path when there is no body). */
export async function startServer(cases: Record<string, CaseFn>, byPath: Record<string, CaseFn> = {}): Promise<TestServer> {
  const seen: Seen[] = [];
  const sockets = new Set<import('node:net').Socket>();
  const timers = new Set<NodeJS.Timeout>();
  const srv = http.createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(parts).toString('utf8');
      let body: Record<string, unknown> = {};
      try {
        body = raw ? JSON.parse(raw) : {};
      } catch {
        body = {};
      }
      seen.push({ path: req.url ?? '', headers: req.headers, body });
      const fn = byPath[req.url ?? ''] ?? cases[String(body.model)];
      if (!fn) {
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { message: `no case ${String(body.model)}` } }));
        return;
      }
      fn(res, req, body);
    });
  });
  srv.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    close: async () => {
      for (const t of timers) clearTimeout(t);
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => srv.close(() => r()));
    },
  };
}

/** Writes `parts` one after another, `gapMs` apart, then ends (or destroys the socket when `cut`). */
export function trickle(res: http.ServerResponse, parts: string[], gapMs: number, end: 'end' | 'cut' | 'hang' = 'end'): void {
  let i = 0;
  const next = () => {
    if (res.destroyed) return;
    if (i < parts.length) {
      res.write(parts[i++]);
      setTimeout(next, gapMs);
      return;
    }
    if (end === 'end') res.end();
    else if (end === 'cut') res.socket?.destroy();
  };
  next();
}

export const SSE = { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' };
export const JSON_CT = { 'content-type': 'application/json' };

/** An OpenAI stream chunk. */
export function oaChunk(delta: object, finish: string | null = null, usage: object | null = null): string {
  return `data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }], usage })}\n\n`;
}

/** An Anthropic stream frame. */
export function anFrame(event: string, data: object): string {
  return `event: ${event}\ndata: ${JSON.stringify({ type: event, ...data })}\n\n`;
}

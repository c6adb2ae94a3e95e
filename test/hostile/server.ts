/**
 * An independent misbehaving server (test code, not the mock's): every fault a hostile upstream or gateway can
 * throw at dsprobe, on the chat endpoint (streaming and not), on GET /models and on GET /user/balance. Plain
 * node:http and raw sockets, so nothing here shares code or assumptions with src/.
 *
 * Each endpoint gets its own fault; `ok` answers correctly. Endless faults write with backpressure until the
 * client goes away, so the server itself stays small whatever the client does.
 */
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** Faults of the chat endpoint (`stream` picks SSE or a JSON body where it matters). */
export type ChatFault =
  | 'ok'
  | 'endless_line' // SSE: `data: xxxxx...` without a newline, forever
  | 'huge_line' // SSE: one 20 MB line, then the end
  | 'endless_event' // SSE: `data: x\n` lines forever, never a blank line
  | 'endless_body' // 200 JSON body that never ends
  | 'endless_error' // 500 whose body never ends
  | 'huge_429' // 429 with a 5 MB body
  | 'huge_headers' // 100 KB of response headers
  | 'reset_after_headers' // 200 SSE, one frame, then a TCP reset
  | 'reset_before_headers' // accept, then reset at once
  | 'short_body' // content-length 1000, 20 bytes, then the end
  | 'not_http' // raw bytes that are no HTTP status line
  | 'bad_chunk' // 200 SSE, one good chunk, then a chunk size that is not hex
  | 'bad_json'
  | 'html_body'
  | 'http_503'
  | 'blank_only' // 200 JSON body of blank lines only
  | 'stall' // never answers
  | 'trickle' // headers, then one byte per second
  | 'echo_headers'; // 400 whose body quotes every request header (a gateway's debug page)

export interface HostileOptions {
  chat?: ChatFault;
  models?: 'ok' | 'stall' | 'trickle' | 'endless_body';
  balance?: 'ok' | 'stall' | 'trickle' | 'endless_body';
}

export interface HostileServer {
  url: string;
  /** Requests seen per path. */
  seen: Record<string, number>;
  close(): Promise<void>;
}

const DONE_CHUNK = (text: string, finish: string | null) =>
  JSON.stringify({ id: 'h', object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content: text }, finish_reason: finish }] });

/**
 * Writes `piece` again and again, honouring backpressure, until the client goes away. One piece per
 * millisecond at most (tens of MB/s: far past any limit under test within a second) keeps the several endless
 * streams that share this process with the test runner from starving it.
 */
function endless(res: http.ServerResponse, piece: Buffer): void {
  let gone = false;
  res.on('close', () => (gone = true));
  const pump = () => {
    if (gone) return;
    if (res.write(piece)) setTimeout(pump, 1);
    else res.once('drain', pump);
  };
  pump();
}

/** Writes one byte per `everyMs` until the client goes away. */
function trickle(res: http.ServerResponse, everyMs = 1000): void {
  const t = setInterval(() => res.write(' '), everyMs);
  res.on('close', () => clearInterval(t));
}

function okChat(stream: boolean, res: http.ServerResponse): void {
  if (stream) {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.write(`data: ${DONE_CHUNK('hi', null)}\n\n`);
    res.write(`data: ${DONE_CHUNK('', 'stop')}\n\n`);
    res.end('data: [DONE]\n\n');
  } else {
    const body = JSON.stringify({ id: 'h', object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content: 'hi' }, finish_reason: 'stop' }], usage: { prompt_tokens: 5, completion_tokens: 1, total_tokens: 6 } });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  }
}

function chat(fault: ChatFault, stream: boolean, req: http.IncomingMessage, res: http.ServerResponse): void {
  const sock = req.socket as Socket;
  const filler = Buffer.alloc(64 * 1024, 'x');
  switch (fault) {
    case 'ok':
      return okChat(stream, res);
    case 'endless_line':
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: ');
      return endless(res, filler);
    case 'huge_line':
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: ');
      for (let i = 0; i < 320; i++) res.write(filler);
      res.end('\n\ndata: [DONE]\n\n');
      return;
    case 'endless_event':
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      return endless(res, Buffer.from('data: xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n'.repeat(1000)));
    case 'endless_body':
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"choices":[{"message":{"content":"');
      return endless(res, filler);
    case 'endless_error':
      res.writeHead(500, { 'content-type': 'text/plain' });
      return endless(res, filler);
    case 'huge_429': {
      const body = JSON.stringify({ error: { message: 'Too many requests. Your current concurrency: 7. ' + 'y'.repeat(5 * 1024 * 1024), type: 'rate_limit_error' } });
      res.writeHead(429, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
      return;
    }
    case 'huge_headers': {
      const h: Record<string, string> = { 'content-type': 'application/json' };
      for (let i = 0; i < 100; i++) h[`x-junk-${i}`] = 'z'.repeat(1000);
      res.writeHead(200, h);
      res.end('{}');
      return;
    }
    case 'reset_after_headers':
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(`data: ${DONE_CHUNK('partial', null)}\n\n`, () => setTimeout(() => sock.resetAndDestroy(), 20));
      return;
    case 'reset_before_headers':
      sock.resetAndDestroy();
      return;
    case 'not_http':
      sock.end('SSH-2.0-OpenSSH_9.2\r\n\r\n');
      return;
    case 'bad_chunk': {
      const frame = `data: ${DONE_CHUNK('partial', null)}\n\n`;
      sock.write(`HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n${Buffer.byteLength(frame).toString(16)}\r\n${frame}\r\nzz\r\n`);
      return;
    }
    case 'short_body':
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000' });
      res.write('{"choices":[{"messa', () => setTimeout(() => sock.destroy(), 20));
      return;
    case 'bad_json':
      res.writeHead(200, { 'content-type': stream ? 'text/event-stream' : 'application/json' });
      res.end(stream ? 'data: {not json\n\ndata: [DONE]\n\n' : '{not json');
      return;
    case 'html_body':
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<html><head><title>Gateway says hi</title></head><body>hi</body></html>');
      return;
    case 'http_503':
      res.writeHead(503, { 'content-type': 'text/html' });
      res.end('<html><head><title>503 Service Unavailable</title></head></html>');
      return;
    case 'blank_only':
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('\n\n\n\n');
      return;
    case 'stall':
      return; // never answers; the client's deadline must end it
    case 'trickle':
      res.writeHead(200, { 'content-type': stream ? 'text/event-stream' : 'application/json' });
      return trickle(res, 200);
    case 'echo_headers': {
      const body = JSON.stringify({ error: { message: `bad request; you sent: ${JSON.stringify(req.headers)}`, type: 'invalid_request_error' } });
      res.writeHead(400, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
      return;
    }
  }
}

function side(fault: 'ok' | 'stall' | 'trickle' | 'endless_body', okBody: string, res: http.ServerResponse): void {
  if (fault === 'ok') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(okBody);
  } else if (fault === 'trickle') {
    res.writeHead(200, { 'content-type': 'application/json' });
    trickle(res, 200);
  } else if (fault === 'endless_body') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.write('{"data":["');
    endless(res, Buffer.alloc(64 * 1024, 'm'));
  }
  // stall: nothing at all
}

/** Starts the server on 127.0.0.1, port 0. */
export async function startHostile(opts: HostileOptions): Promise<HostileServer> {
  const seen: Record<string, number> = {};
  const sockets = new Set<Socket>();
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0] ?? '';
    seen[path] = (seen[path] ?? 0) + 1;
    res.on('error', () => {});
    if (path.endsWith('/models')) return side(opts.models ?? 'ok', JSON.stringify({ object: 'list', data: [{ id: 'deepseek-v4-flash', object: 'model' }] }), res);
    if (path.endsWith('/user/balance')) return side(opts.balance ?? 'ok', JSON.stringify({ is_available: true, balance_infos: [{ currency: 'USD', total_balance: '100.00' }] }), res);
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      let stream = true;
      try {
        stream = (JSON.parse(body) as { stream?: boolean }).stream !== false;
      } catch {
        // keep the default
      }
      chat(opts.chat ?? 'ok', stream, req, res);
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {});
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

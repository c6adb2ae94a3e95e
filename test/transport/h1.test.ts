/**
 * dsprobe's HTTP/1.1 connection (h1.ts): every framing, split at every byte, over a scripted socket; and the
 * faults that must end a request (and its connection) rather than be guessed at.
 */
import { EventEmitter } from 'node:events';
import net from 'node:net';
import type { AddressInfo, Socket } from 'node:net';
import { afterEach, describe, expect, test } from 'vitest';
import { H1Connection, H1_CODES, type H1Handler, type H1Owner } from '../../src/transport/h1.js';
import { ClientPool } from '../../src/transport/client-pool.js';
import { markSharedRead, sharedRead } from '../../src/transport/shared-read.js';

/** A socket that records what is written and delivers what the test says, synchronously. */
class FakeSocket extends EventEmitter {
  written = '';
  destroyed = false;
  writable = true;
  write(s: string): boolean {
    this.written += s;
    return true;
  }
  destroy(): this {
    this.destroyed = true;
    this.writable = false;
    return this;
  }
}

interface Got {
  status?: number;
  headers?: string[];
  body: string;
  trailers?: string[] | null;
  error?: { code?: string; message: string };
  completes: number;
}

function handler(): { h: H1Handler; got: Got } {
  const got: Got = { body: '', completes: 0 };
  const h: H1Handler = {
    onConnect() {},
    onHeaders(status, raw) {
      got.status = status;
      got.headers = raw;
      return true;
    },
    onData(buf, start, end) {
      got.body += buf.toString('latin1', start, end);
      return true;
    },
    onComplete(trailers) {
      got.completes++;
      got.trailers = trailers;
    },
    onError(err) {
      got.error = { code: (err as { code?: string }).code, message: err.message };
    },
  };
  return { h, got };
}

function owner(): H1Owner & { idles: number; gones: number } {
  return {
    idles: 0,
    gones: 0,
    idle() {
      this.idles++;
    },
    connected() {},
    gone() {
      this.gones++;
    },
  };
}

/** Bytes that would read as framing if a parser looked past the end of a read. */
const JUNK = Buffer.from('\r\n0\r\n\r\nHTTP/1.1 500 X\r\n\r\n5\r\njunk!\r\n\n'.repeat(8), 'latin1');

/**
 * Sends one request over a fresh connection on a FakeSocket, then feeds `pieces`: as `data` events (a Buffer per
 * read), or `shared` as a load socket reads them (Node's `onread`: each piece at the start of the thread's one read
 * buffer, an earlier read's bytes, here framing-like junk, after it).
 */
function exchange(pieces: string[], via: 'data' | 'shared' = 'data'): { got: Got; sock: FakeSocket; own: ReturnType<typeof owner> } {
  const sock = new FakeSocket();
  const own = owner();
  if (via === 'shared') markSharedRead(sock as unknown as Socket);
  const c = new H1Connection(own, (cb) => cb(null, sock as unknown as Socket), '127.0.0.1:1', 1024);
  const { h, got } = handler();
  c.dispatch({ path: '/v1/chat', method: 'POST', headers: { authorization: 'Bearer k' }, body: '{"a":"é"}' }, h);
  const { buffer, callback } = sharedRead();
  for (const p of pieces) {
    const b = Buffer.from(p, 'latin1');
    if (via === 'data') {
      sock.emit('data', b);
      continue;
    }
    b.copy(buffer as Buffer, 0);
    JUNK.copy(buffer as Buffer, b.length);
    callback.call(sock, b.length, buffer as Buffer);
  }
  return { got, sock, own };
}

/** Every way of cutting `text` into two pieces, plus one byte at a time. */
function splits(text: string): string[][] {
  const out: string[][] = [[text], text.split('')];
  for (let i = 1; i < text.length; i++) out.push([text.slice(0, i), text.slice(i)]);
  return out;
}

const CHUNKED =
  'HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\nx-ds-trace-id: t1\r\n\r\n' +
  'f\r\ndata: {"a":1}\n\n\r\n' +
  'E;ext=1\r\ndata: [DONE]\n\n\r\n' +
  '0\r\nx-trailer: yes\r\n\r\n';

describe('H1Connection', () => {
  test('writes one request: host, keep-alive, the caller headers and the UTF-8 length of the body', () => {
    const { sock } = exchange([]);
    expect(sock.written).toBe(
      'POST /v1/chat HTTP/1.1\r\nhost: 127.0.0.1:1\r\nconnection: keep-alive\r\nauthorization: Bearer k\r\ncontent-length: 10\r\n\r\n{"a":"é"}',
    );
  });

  test.each(['data', 'shared'] as const)('a chunked stream, split at every byte, reads to the same body, headers and trailers, once (reads: %s)', (via) => {
    for (const pieces of splits(CHUNKED)) {
      const { got, own } = exchange(pieces, via);
      expect(got.error).toBeUndefined();
      expect(got.status).toBe(200);
      expect(got.headers).toEqual(['content-type', 'text/event-stream', 'transfer-encoding', 'chunked', 'x-ds-trace-id', 't1']);
      expect(got.body).toBe('data: {"a":1}\n\ndata: [DONE]\n\n');
      expect(got.trailers).toEqual(['x-trailer', 'yes']);
      expect(got.completes).toBe(1);
      expect(own.idles).toBe(1);
    }
  });

  test.each(['data', 'shared'] as const)('content-length framing, split at every byte; the connection is reused (reads: %s)', (via) => {
    const text = 'HTTP/1.1 429 Too Many Requests\r\ncontent-length: 12\r\nretry-after: 3\r\n\r\n{"error":{}}';
    for (const pieces of splits(text)) {
      const { got, own } = exchange(pieces, via);
      expect([got.status, got.body, got.completes, own.idles, got.error]).toEqual([429, '{"error":{}}', 1, 1, undefined]);
    }
  });

  test('status lines without a reason, and heads with bare LF line ends, are read', () => {
    for (const text of ['HTTP/1.1 200\r\ncontent-length: 2\r\n\r\nok', 'HTTP/1.1 200 OK\ncontent-length: 2\nx-a:  spaced  \n\nok']) {
      const { got } = exchange([text]);
      expect([got.status, got.body, got.completes, got.error], text).toEqual([200, 'ok', 1, undefined]);
    }
    expect(exchange(['HTTP/1.1 200 OK\ncontent-length: 2\nx-a:  spaced  \n\nok']).got.headers).toEqual(['content-length', '2', 'x-a', 'spaced']);
  });

  test('1xx answers are skipped; 204 has no body', () => {
    const { got } = exchange(['HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n']);
    expect([got.status, got.body, got.completes]).toEqual([204, '', 1]);
  });

  test.each(['data', 'shared'] as const)('a body framed by the close: complete at the close, and the connection is not reused (reads: %s)', (via) => {
    const { got, sock, own } = exchange(['HTTP/1.0 200 OK\r\ncontent-type: application/json\r\n\r\n{"x"', ':1}'], via);
    expect(got.completes).toBe(0);
    sock.emit('end');
    expect([got.body, got.completes, own.idles, own.gones, sock.destroyed]).toEqual(['{"x":1}', 1, 0, 1, true]);
  });

  test('a close before the end of a content-length or chunked body is an error, never a complete', () => {
    for (const head of ['HTTP/1.1 200 OK\r\ncontent-length: 50\r\n\r\nshort', 'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nab']) {
      const { got, sock } = exchange([head]);
      sock.emit('end');
      expect(got.completes).toBe(0);
      expect(got.error?.code).toBe(H1_CODES.closed);
    }
  });

  test('malformed answers end the request with a parse error and close the connection', () => {
    const bad = [
      'SSH-2.0-OpenSSH\r\n\r\n',
      'HTTP/1.1 200 OK\r\nno colon here\r\n\r\n',
      'HTTP/1.1 200 OK\r\ncontent-length: 5\r\ncontent-length: 6\r\n\r\n',
      'HTTP/1.1 200 OK\r\ncontent-length: -1\r\n\r\n',
      'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n',
      'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n2\r\nabXY',
      'HTTP/1.1 101 Switching Protocols\r\n\r\n',
      'HTTP/1.1 20 OK\r\n\r\n',
      'HTTP/1.2 200 OK\r\n\r\n',
      'HTTP/1.1 200OK\r\n\r\n',
      'HTTP/1.1 2x0 OK\r\n\r\n',
      'HTTP/1.1 200 O\rK\r\n\r\n',
      'HTTP/1.1 200 OK\r\n: no name\r\n\r\n',
    ];
    for (const text of bad) {
      const { got, own, sock } = exchange([text]);
      expect(got.error?.code, text).toBe(H1_CODES.parse);
      expect([got.completes, own.idles, sock.destroyed], text).toEqual([0, 0, true]);
    }
  });

  test('a header block past the limit is headers_overflow, whether or not its end has come', () => {
    const big = `HTTP/1.1 200 OK\r\nx-big: ${'a'.repeat(2000)}\r\n`;
    for (const text of [big, `${big}\r\n`]) {
      const { got } = exchange([text]);
      expect(got.error?.code).toBe(H1_CODES.headersOverflow);
    }
  });

  test('a head trickled in small pieces: read whole under the limit, headers_overflow past it', () => {
    const pieces = (t: string, k: number) => Array.from({ length: Math.ceil(t.length / k) }, (_, i) => t.slice(i * k, i * k + k));
    const under = `HTTP/1.1 200 OK\r\nx-pad: ${'p'.repeat(900)}\r\ncontent-length: 2\r\n\r\nok`;
    const a = exchange(pieces(under, 7));
    expect([a.got.status, a.got.body, a.got.completes, a.got.error]).toEqual([200, 'ok', 1, undefined]);
    expect(a.got.headers?.[1]).toHaveLength(900);
    const over = `HTTP/1.1 200 OK\r\nx-pad: ${'p'.repeat(1100)}\r\ncontent-length: 2\r\n\r\nok`;
    const b = exchange(pieces(over, 7));
    expect(b.got.error?.code).toBe(H1_CODES.headersOverflow);
    expect(b.got.completes).toBe(0);
  });

  test('bytes after a complete response (before the next request) close the connection; the response still counts', () => {
    const { got, own, sock } = exchange(['HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nokHTTP/1.1 200 OK\r\n']);
    expect([got.body, got.completes, own.idles, sock.destroyed]).toEqual(['ok', 1, 0, true]);
  });

  test('an abort cuts the connection and reaches the handler as an error, once', () => {
    const sock = new FakeSocket();
    const own = owner();
    const c = new H1Connection(own, (cb) => cb(null, sock as unknown as Socket), 'h', 1024);
    let abort: ((e?: Error) => void) | undefined;
    const errors: string[] = [];
    c.dispatch({ path: '/', method: 'POST', body: '' }, {
      onConnect: (a) => (abort = a),
      onHeaders: () => true,
      onData: () => true,
      onComplete: () => errors.push('complete'),
      onError: (e) => errors.push(e.message),
    });
    sock.emit('data', Buffer.from('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nab'));
    abort?.(new Error('deadline'));
    abort?.(new Error('again'));
    sock.emit('data', Buffer.from('c\r\n0\r\n\r\n'));
    expect(errors).toEqual(['deadline']);
    expect([sock.destroyed, own.gones]).toEqual([true, 1]);
  });

  test('a header value with a line break is refused before anything is written', () => {
    const sock = new FakeSocket();
    const c = new H1Connection(owner(), (cb) => cb(null, sock as unknown as Socket), 'h', 1024);
    const { h, got } = handler();
    c.dispatch({ path: '/', method: 'POST', headers: { 'x-a': 'b\r\nx-evil: 1' }, body: '' }, h);
    expect(got.error?.code).toBe(H1_CODES.badHeader);
    expect(sock.written).toBe('');
  });
});

describe('ClientPool over real sockets', () => {
  const servers: net.Server[] = [];
  afterEach(async () => {
    for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
  });

  test('a server that closes idle keep-alive sockets: the next request opens a new one and succeeds', async () => {
    let connections = 0;
    const srv = net.createServer((s) => {
      connections++;
      s.once('data', () => {
        s.end('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok');
      });
    });
    servers.push(srv);
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const pool = new ClientPool(`http://127.0.0.1:${(srv.address() as AddressInfo).port}`, { connections: 4 });
    for (let i = 0; i < 3; i++) {
      const { h, got } = handler();
      await new Promise<void>((resolve) => {
        h.onComplete = () => {
          got.completes++;
          resolve();
        };
        h.onError = (e) => {
          got.error = { message: e.message };
          resolve();
        };
        pool.dispatch({ path: '/', method: 'POST', body: 'x' }, h);
      });
      expect([got.status, got.body, got.error]).toEqual([200, 'ok', undefined]);
      // Let the server's close reach the client before the next request.
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(connections).toBe(3);
    await pool.destroy();
  });
});

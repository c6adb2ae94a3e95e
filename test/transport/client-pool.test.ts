/**
 * The prober's connection pool (client-pool.ts) against a loopback server: at most `connections` sockets, requests
 * over the limit wait and go out in order as clients finish, idle sockets are reused, destroy fails what waits.
 */
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterEach, describe, expect, test } from 'vitest';
import { ClientPool } from '../../src/transport/client-pool.js';

interface Result {
  status?: number;
  body: string;
  error?: string;
}

/** A raw undici dispatch handler collecting one answer. */
function collect(): { handler: Parameters<ClientPool['dispatch']>[1]; done: Promise<Result> } {
  const r: Result = { body: '' };
  let finish!: (r: Result) => void;
  const done = new Promise<Result>((res) => (finish = res));
  const handler = {
    onConnect() {},
    onHeaders(status: number) {
      r.status = status;
      return true;
    },
    onData(buf: Buffer, start: number, end: number) {
      r.body += buf.toString('utf8', start, end);
      return true;
    },
    onComplete() {
      finish(r);
    },
    onError(err: Error) {
      r.error = err.message;
      finish(r);
    },
  };
  return { handler: handler as unknown as Parameters<ClientPool['dispatch']>[1], done };
}

const tick = () => new Promise((r) => setImmediate(r));
const servers: http.Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
});

/** A server answering each request with its arrival order and the id of the socket it came on, after `delayMs`. */
async function server(delayMs: number): Promise<{ url: string; sockets: Set<Socket>; order: string[] }> {
  const sockets = new Set<Socket>();
  const ids = new Map<Socket, number>();
  const order: string[] = [];
  const srv = http.createServer((req, res) => {
    const s = req.socket;
    if (!ids.has(s)) ids.set(s, ids.size);
    sockets.add(s);
    order.push(req.url ?? '');
    setTimeout(() => res.end(`${req.url} on ${ids.get(s)}`), delayMs);
  });
  servers.push(srv);
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  srv.on('connection', (s) => s.unref());
  return { url: `http://127.0.0.1:${(srv.address() as AddressInfo).port}`, sockets, order };
}

describe('ClientPool', () => {
  test('never opens more than `connections` sockets; requests over it wait and go out in order', async () => {
    const srv = await server(30);
    const pool = new ClientPool(srv.url, { connections: 2, pipelining: 1 });
    const all = Array.from({ length: 6 }, (_, i) => {
      const c = collect();
      pool.dispatch({ path: `/${i}`, method: 'GET' }, c.handler);
      return c.done;
    });
    const results = await Promise.all(all);
    await tick(); // a client is back on the free list when undici says it drained (after the answer's end)
    expect(results.every((r) => r.status === 200)).toBe(true);
    expect(srv.sockets.size).toBe(2);
    // The first two went out at once; the rest in the order they were dispatched.
    expect(srv.order).toEqual(['/0', '/1', '/2', '/3', '/4', '/5']);
    expect(pool.stats.connected).toBe(2);
    expect(pool.stats.free).toBe(2);
    await pool.destroy();
  });

  test('an idle socket is reused for the next request', async () => {
    const srv = await server(0);
    const pool = new ClientPool(srv.url, { connections: 100, pipelining: 1 });
    for (let i = 0; i < 5; i++) {
      const c = collect();
      pool.dispatch({ path: `/${i}`, method: 'GET' }, c.handler);
      expect((await c.done).body).toBe(`/${i} on 0`);
      await tick(); // as the driver refills: after the I/O phase that ended the previous request
    }
    expect(srv.sockets.size).toBe(1);
    await pool.destroy();
  });

  test('destroy ends requests still waiting for a client with an error', async () => {
    const srv = await server(200);
    const pool = new ClientPool(srv.url, { connections: 1, pipelining: 1 });
    const first = collect();
    const waiting = collect();
    pool.dispatch({ path: '/a', method: 'GET' }, first.handler);
    pool.dispatch({ path: '/b', method: 'GET' }, waiting.handler);
    await new Promise((r) => setTimeout(r, 20));
    await pool.destroy();
    expect((await waiting.done).error).toMatch(/closed/);
    expect((await first.done).error).toBeTruthy();
    expect(srv.order).toEqual(['/a']);
    // Nothing more is sent after destroy.
    const late = collect();
    pool.dispatch({ path: '/c', method: 'GET' }, late.handler);
    expect((await late.done).error).toMatch(/closed/);
  });
});

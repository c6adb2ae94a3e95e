/**
 * Warm connections and the worker engine, judged by an independent server (node:http, not the mock): every
 * connection a level needs is open before its requests are sent, connect time is recorded on its own, and the
 * worker prober hands its caller the same headers events and Samples as the in-process one.
 */
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { afterEach, describe, expect, test } from 'vitest';
import { monotonicClock } from '../../src/time/clock.js';
import { WARM_PARALLEL, WARM_STARTS_PER_TURN } from '../../src/transport/connector.js';
import type { ProbeRequest, Prober } from '../../src/transport/prober.js';
import { createEngineProber } from '../../src/transport/workers/index.js';
import { ModelDriver } from '../../src/run/driver.js';
import type { Sample } from '../../src/types.js';

const clock = monotonicClock();
const open: { close(): Promise<void> | void }[] = [];
afterEach(async () => {
  for (const o of open.splice(0).reverse()) await o.close();
});

/** Streams 3 SSE chunks; logs every connection and, per request, how many connections existed when it arrived. */
async function server(gapMs = 5): Promise<{ url: string; connections: () => number; seenAt: number[] }> {
  let connections = 0;
  const seenAt: number[] = [];
  const srv = http.createServer((req, res) => {
    seenAt.push(connections);
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      let i = 0;
      const t = setInterval(() => {
        if (i++ < 3) res.write(`data: {"choices":[{"index":0,"delta":{"content":"x"}}]}\n\n`);
        else {
          clearInterval(t);
          res.end('data: {"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\ndata: [DONE]\n\n');
        }
      }, gapMs);
    });
  });
  srv.on('connection', () => connections++);
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  open.push({ close: () => new Promise<void>((r) => { srv.closeAllConnections(); srv.close(() => r()); }) });
  return { url: `http://127.0.0.1:${(srv.address() as AddressInfo).port}`, connections: () => connections, seenAt };
}

function req(id: number): ProbeRequest {
  const now = clock.nowUs();
  return {
    id, model: 'deepseek-v4-flash', step: 0, target_inflight: 20, inflight_at_send: 1, key_index: 0, apiKey: 'sk-test-warm-0000',
    system: 's', prompt: 'p', max_tokens: 8, stream: true, thinking: false, intended_us: now, deadline_us: now + 10_000_000,
  };
}

describe.each([1, 2])('warm connections (%i worker thread(s))', (workers) => {
  test('warm(20) opens 20 connections before any request; 20 requests then open none; connect times recorded', async () => {
    const srv = await server();
    const prober: Prober = createEngineProber({ baseUrl: srv.url, protocol: 'openai', clock, workers });
    open.push(prober);
    const opened = await prober.warm!(20);
    expect(opened).toBe(20);
    // The server may accept a moment after the client saw the connect.
    for (let i = 0; i < 200 && srv.connections() < 20; i++) await new Promise((r) => setTimeout(r, 10));
    expect(srv.connections()).toBe(20);
    const heads: number[] = [];
    const samples = await Promise.all(Array.from({ length: 20 }, (_, i) => prober.send(req(i), undefined, { onHeaders: (_r, st) => heads.push(st) })));
    expect(samples.map((s) => s.outcome)).toEqual(Array(20).fill('ok'));
    expect(samples.every((s) => s.token_events === 3)).toBe(true);
    expect(heads).toEqual(Array(20).fill(200));
    // No request waited behind a handshake: the server had all 20 connections before the first request.
    expect(srv.connections()).toBe(20);
    expect(srv.seenAt.every((c) => c === 20)).toBe(true);
    const h = await prober.health!();
    expect(h.connect_us.length).toBe(20);
    expect(h.connect_us.every((us) => us > 0)).toBe(true);
    expect(h.threads.length).toBe(workers > 1 ? workers : 0);
    // One loop-delay p99 per worker over a span the caller chose (the bench's held window); none in-process.
    if (workers > 1) {
      await prober.loopSpan!(true);
      await new Promise((r) => setTimeout(r, 60));
      const span = await prober.loopSpan!(false);
      expect(span).toHaveLength(workers);
      expect(span.every((ms) => Number.isFinite(ms) && ms >= 0 && ms < 1000)).toBe(true);
    } else expect(prober.loopSpan).toBeUndefined();
    // Warming again for requests already covered by idle connections opens nothing (once the pool has seen its
    // connections free again).
    await new Promise((r) => setTimeout(r, 100));
    expect(await prober.warm!(10)).toBe(0);
  });

  test('a level held through many waves replaces each request on a connection freed for it: no connection opened', async () => {
    const srv = await server(2);
    const prober: Prober = createEngineProber({ baseUrl: srv.url, protocol: 'openai', clock, workers });
    open.push(prober);
    expect(await prober.warm!(20)).toBe(20);
    for (let i = 0; i < 200 && srv.connections() < 20; i++) await new Promise((r) => setTimeout(r, 10));
    let id = 0;
    const samples: Sample[] = [];
    const d = new ModelDriver({
      model: 'deepseek-v4-flash', clock, prober, timeoutUs: 10_000_000, nextId: () => id++, onSample: (s) => samples.push(s),
      makeRequest: (i, step, target, inflight) => ({ ...req(i), step, target_inflight: target, inflight_at_send: inflight }),
    });
    d.startStep(20);
    // Requests of about 8 ms: dozens of waves of 20 ends, each replaced as its request ends.
    await new Promise((r) => setTimeout(r, 400));
    await d.stop(1_000_000, 'done');
    const ok = samples.filter((s) => s.outcome === 'ok');
    expect(ok.length).toBeGreaterThan(100);
    // Every replacement went out on a connection its predecessor had freed (a new one would be a handshake in its
    // time to first token).
    expect(srv.connections()).toBe(20);
    expect(srv.seenAt.every((c) => c === 20)).toBe(true);
  });

  test('an abort from the caller reaches the request wherever it runs', async () => {
    const srv = await server(300);
    const prober = createEngineProber({ baseUrl: srv.url, protocol: 'openai', clock, workers });
    open.push(prober);
    await prober.warm!(1);
    const ctl = new AbortController();
    const s = await prober.send(req(1), ctl.signal, { onHeaders: () => ctl.abort() });
    // Cut after the status arrived and before the stream's end (about a second away): aborted, status kept.
    expect(s.status).toBe(200);
    expect(s.outcome).toBe('aborted');
    expect(s.end_us - s.sent_us).toBeLessThan(900_000);
  });
});

test('warming thousands starts at most WARM_STARTS_PER_TURN handshakes a loop turn, WARM_PARALLEL at once', async () => {
  const srv = await server();
  const prober: Prober = createEngineProber({ baseUrl: srv.url, protocol: 'openai', clock, workers: 1 });
  open.push(prober);
  // Count the handshakes started between two check phases (undici's connector calls net.connect), and how many
  // were open-ended at once.
  const real = net.connect;
  let turn = 0;
  let worstTurn = 0;
  let pending = 0;
  let worstPending = 0;
  let ticking = true;
  const tick = () => {
    turn = 0;
    if (ticking) setImmediate(tick);
  };
  setImmediate(tick);
  (net as { connect: unknown }).connect = (...args: Parameters<typeof net.connect>) => {
    worstTurn = Math.max(worstTurn, ++turn);
    worstPending = Math.max(worstPending, ++pending);
    const sock = real(...args);
    sock.once('connect', () => pending--);
    sock.once('error', () => pending--);
    return sock;
  };
  try {
    expect(await prober.warm!(300)).toBe(300);
  } finally {
    (net as { connect: unknown }).connect = real;
    ticking = false;
  }
  for (let i = 0; i < 200 && srv.connections() < 300; i++) await new Promise((r) => setTimeout(r, 10));
  expect(srv.connections()).toBe(300);
  // The turn's cap binds before the parallel one: a poll phase that completes a batch starts no more than it.
  expect(WARM_STARTS_PER_TURN).toBeLessThan(WARM_PARALLEL);
  expect(worstTurn).toBeGreaterThan(1);
  expect(worstTurn).toBeLessThanOrEqual(WARM_STARTS_PER_TURN);
  expect(worstPending).toBeLessThanOrEqual(WARM_PARALLEL);
});

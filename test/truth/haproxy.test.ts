/**
 * A real, unrelated queue in front of an upstream: Debian's haproxy with `maxconn 17` on its server and
 * `timeout queue 700ms`. Beyond 17 a request waits in haproxy's queue with no answer, then gets 503: no 429 ever.
 * dsprobe must record every 503 as such, name a queue without 429 as the cause, and never suggest raising
 * max_tokens (the level was held; the requests were refused after a steady wait).
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { HAPROXY, startHaproxyQueue } from '../helpers/haproxy.js';
import type { Limiter } from '../helpers/nginx.js';
import { startTruthServer, type TruthServer } from '../servers/deepseek-like.js';
import { runAgainst } from '../servers/run.js';

const MAXCONN = 17;
const QUEUE_MS = 700;

describe.skipIf(!HAPROXY)('a real queue without 429 (haproxy maxconn + timeout queue)', () => {
  let upstream: TruthServer;
  let proxy: Limiter;
  beforeAll(async () => {
    // The upstream has no cap of its own; answers last ~2.1 s, longer than the queue timeout.
    upstream = await startTruthServer({ tokens: 30, gapMs: 70 });
    proxy = await startHaproxyQueue(upstream.url, MAXCONN, QUEUE_MS);
  });
  afterAll(async () => {
    await proxy?.stop();
    await upstream?.close();
  });

  test('503s after the queue timeout are recorded and explained as a queue, never as "raise max_tokens"', async () => {
    const t = await runAgainst(
      { ...upstream, url: proxy.url },
      `
name: haproxy-queue
target: { url: "URL", protocol: openai, api_key_env: TRUTH_KEY }
models: { deepseek-v4-flash: {} }
request: { prompt_tokens: 20, max_tokens: 60, stream: true }
load: { mode: search, start: 6, max: 50, hold: 2s }
`,
    );
    expect(t.stderr).not.toMatch(/internal error/);
    const run = upstream.log.filter((e) => !e.preflight);
    // The upstream never held more than maxconn at once (haproxy's queue is real).
    const evs = run.flatMap((e) => [{ t: e.arrival_ms, d: 1 }, { t: e.end_ms ?? Infinity, d: -1 }]).sort((a, b) => a.t - b.t || a.d - b.d);
    let open = 0;
    let peak = 0;
    for (const e of evs) peak = Math.max(peak, (open += e.d));
    expect(peak).toBeLessThanOrEqual(MAXCONN);
    // Every request the upstream answered is a 200 in dsprobe's samples.
    for (const p of t.pairs) expect(p.sample?.status).toBe(p.entry.status);
    const s503 = t.samples.filter((s) => s.status === 503);
    expect(s503.length).toBeGreaterThan(0);
    // haproxy expires its queue timeout on its own timer ticks: a 503 may come a few ms before QUEUE_MS.
    for (const s of s503) expect((s.end_us - s.sent_us) / 1000).toBeGreaterThanOrEqual(QUEUE_MS - 25);
    expect(t.samples.some((s) => s.status === 429)).toBe(false);
    const cap = t.report.models[0]!.cap;
    expect(cap.cause, cap.evidence.join(' ')).toBe('queue_without_429');
    expect(cap.evidence.join(' ')).not.toMatch(/max_tokens/);
    expect(cap.evidence.join(' ')).toMatch(/queue/);
    // Steps add up, aborted included.
    for (const s of t.report.models[0]!.steps) expect(Object.values(s.outcomes).reduce((a, b) => a + b, 0)).toBe(s.requests);
  }, 90_000);
});

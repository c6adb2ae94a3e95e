/** A fixed in-memory Report for threshold and renderer tests: real HDR histograms, known values. */
import { OUTCOMES, type CapEstimate, type Outcome, type Report, type StepReport } from '../../src/types.js';
import { encodeHistogram, newHistogram, percentilesMs, recordUs } from '../../src/measure/hist.js';

const zeroTokens = () => ({ prompt: 0, completion: 0, cache_hit: 0, cache_miss: 0, reasoning: 0 });

/** One step; `ttftMs` are the TTFTs recorded (ms). */
export function step(model: string, index: number, target: number, o: { requests: number; ok: number; limited: number; errors?: Partial<Record<Outcome, number>>; ttftMs?: number[]; kaMs?: number[] }): StepReport {
  const ttft = newHistogram();
  for (const v of o.ttftMs ?? []) recordUs(ttft, v * 1000);
  const ka = newHistogram();
  for (const v of o.kaMs ?? []) recordUs(ka, v * 1000);
  const empty = newHistogram();
  const outcomes = Object.fromEntries(OUTCOMES.map((x) => [x, 0])) as Record<Outcome, number>;
  outcomes.ok = o.ok;
  outcomes.rate_limited = o.limited;
  for (const [k, v] of Object.entries(o.errors ?? {})) outcomes[k as Outcome] = v!;
  return {
    index,
    model,
    target_inflight: target,
    achieved_inflight: target,
    peak_inflight: target,
    start_ms: index * 1000,
    duration_ms: 1000,
    ended_by: 'hold',
    requests: o.requests,
    ok: o.ok,
    rate_limited: o.limited,
    rate_429: o.requests ? o.limited / o.requests : 0,
    error_rate: 0,
    outcomes,
    statuses: { '200': o.ok, '429': o.limited },
    throughput_rps: 0,
    output_tokens_per_s: 0,
    tokens: zeroTokens(),
    queued: (o.kaMs ?? []).length,
    ttft_ms: percentilesMs(ttft),
    latency_ms: percentilesMs(empty),
    keepalive_wait_ms: percentilesMs(ka),
    tpot_ms: percentilesMs(empty),
    send_lag_ms: percentilesMs(empty),
    histograms: { ttft: encodeHistogram(ttft), latency: '', keepalive_wait: encodeHistogram(ka), tpot: '' },
    server_reported: null,
    errors: [],
  };
}

function cap(c: Partial<CapEstimate>): CapEstimate {
  return { status: 'found', low: null, high: null, estimate: null, server_reported: null, documented: null, headroom: null, edge: null, moved: false, queueing_began_at: null, evidence: [], ...c };
}

const range = (n: number, f: (i: number) => number) => Array.from({ length: n }, (_, i) => f(i));

/**
 * flash: steps at 100, 200, 400 in flight. TTFT ms: 100 values 1..100 at 100; 100 values 1001..1100 at 200;
 * 100 values 3000 at 400 (with 40 429s out of 440 and 4 server errors). Cap found: 399.
 * pro: one step at 50, no 429, cap not reached (low 50).
 */
export function fixtureReport(): Report {
  const flash = [
    step('deepseek-v4-flash', 0, 100, { requests: 100, ok: 100, limited: 0, ttftMs: range(100, (i) => i + 1) }),
    step('deepseek-v4-flash', 1, 200, { requests: 100, ok: 100, limited: 0, ttftMs: range(100, (i) => 1001 + i), kaMs: [500, 1500] }),
    step('deepseek-v4-flash', 2, 400, { requests: 440, ok: 396, limited: 40, errors: { server_error: 4 }, ttftMs: range(100, () => 3000) }),
  ];
  const pro = [step('deepseek-v4-pro', 0, 50, { requests: 60, ok: 60, limited: 0, ttftMs: range(60, () => 20) })];
  const spend = { requests: 0, admitted: 0, rate_limited: 0, tokens: zeroTokens(), usd: 0, seconds: 3 };
  return {
    schema: 'dsprobe.report/v1',
    name: 'fixture',
    status: 'completed',
    status_reason: null,
    started_at: '2026-01-02T03:04:05.678Z',
    duration_ms: 12_345,
    seed: 1,
    mode: 'search',
    target: { url: 'mock', protocol: 'openai', mock: true, keys: 1 },
    scenario: {},
    models: [
      { model: 'deepseek-v4-flash', weight: 1, steps: flash, spend, cap: cap({ status: 'found', low: 398, high: 400, estimate: 399, documented: 2500, headroom: -2101, evidence: ['429 from 400 in flight'] }) },
      { model: 'deepseek-v4-pro', weight: 1, steps: pro, spend, cap: cap({ status: 'not_reached', low: 50, estimate: null, evidence: ['no 429 up to 50'] }) },
    ],
    timeline: [],
    thresholds: [],
    cost: { usd: 0.0123, tokens: { prompt: 1000, completion: 500, cache_hit: 0, cache_miss: 1000, reasoning: 0 }, requests: 600, admitted: 556, estimated: false },
    loop: { delay_p50_ms: 1, delay_p99_ms: 2, delay_max_ms: 3, warning: null },
    environment: { dsprobe: '0.1.0', node: 'v20', os: 'linux', arch: 'x64', cpus: 2 },
    warnings: [],
  };
}

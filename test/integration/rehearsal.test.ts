/**
 * Rate mode end to end: the real CLI against the real mock over loopback, cap 20 and a fixed 200 ms per request
 * (so the account serves 100 requests/s), offered 150 arrivals/s: in-flight demand 1.5× the cap.
 */
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { dsprobe, readReport, tmpDir, writeScenario } from '../helpers/cli.js';

const SCENARIO = `
name: rehearsal-test
target: { url: mock }
models: { deepseek-v4-flash: {} }
request: { prompt_tokens: 50, max_tokens: 8, stream: true }
load: { mode: rate, arrival: poisson, rate: 150/s, duration: 3s, drain: 2s }
policies:
  none: {}
  pool: { pool: 19, queue_timeout: 1s }
  backoff: { retry: { max_attempts: 4, backoff: { base: 100ms, max: 1s, jitter: full } } }
expect:
  - rate_429(deepseek-v4-flash, policy == pool) == 0
  - amplification(policy == backoff) > 1
mock:
  caps: { deepseek-v4-flash: 20 }
  latency: { prefill_overhead: 40ms, prefill_per_token: 0, inter_token: 20ms, jitter: 0, answer_tokens: { min: 8, max: 8 }, load_slowdown: 0, flush_interval: 0 }
seed: 3
`;

describe('rate mode against the mock at 1.5x the cap', () => {
  test('none draws 429s for about a third; a pool at 95 % draws none at the cap\'s throughput; backoff amplifies', async () => {
    const dir = tmpDir();
    const file = writeScenario(dir, 'rehearsal.yaml', SCENARIO);
    const out = path.join(dir, 'out');
    const r = await dsprobe(['run', file, '--out', out, '--quiet', '--no-html']);
    expect(r.stderr).not.toMatch(/internal error/);
    const rep = readReport(out);
    const [none, pool, backoff] = rep.rehearsal!.policies.map((p) => p.total);
    // Every arrival of the same seeded schedule, under each policy.
    expect(none!.arrivals).toBe(pool!.arrivals);
    expect(none!.arrivals).toBeGreaterThan(350);
    // none: demand is 1.5x the cap, so about a third of the arrivals draw a 429 (and fail: no retry).
    expect(none!.rate_429).toBeGreaterThan(0.2);
    expect(none!.rate_429).toBeLessThan(0.45);
    expect(none!.failed_by_outcome.rate_limited).toBe(none!.failed);
    // pool of 19 (95 % of 20): never a 429, and it serves what 19 slots serve: 19 / latency.
    expect(pool!.rate_429).toBe(0);
    const slots = 19 / (pool!.attempt_latency_ms.mean / 1000);
    expect(pool!.goodput_rps).toBeGreaterThan(0.85 * slots);
    expect(pool!.goodput_rps).toBeLessThan(1.05 * slots);
    // backoff without a pool: retries add attempts.
    expect(backoff!.amplification!).toBeGreaterThan(1);
    expect(backoff!.retries).toBeGreaterThan(0);
    for (const t of [none!, pool!, backoff!]) expect(t.ok + t.shed + t.failed).toBe(t.arrivals);
    expect(rep.thresholds.every((t) => t.passed)).toBe(true);
    expect(r.code).toBe(0);
    // The terminal summary names the policies and the recommendation.
    expect(r.stderr + r.stdout).toMatch(/recommend/i);
  }, 120_000);
});

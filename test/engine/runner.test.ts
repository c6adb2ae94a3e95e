import { describe, expect, test } from 'vitest';
import { runScenario } from '../../src/run/runner.js';
import { buildReport, type BuildContext } from '../../src/report/build.js';
import { monotonicClock } from '../../src/time/clock.js';
import { seededRandom } from '../../src/time/random.js';
import type { Scenario } from '../../src/scenario/types.js';
import type { Sample } from '../../src/types.js';
import { fakeServer } from './fake-server.js';

/** The fake server runs on dsprobe's own thread: its work is not dsprobe's lag, so no level is judged client-bound. */
const INPROC = Infinity;

function scenario(over: Partial<Scenario> = {}): Scenario {
  return {
    name: 'engine-test',
    target: { url: 'mock', protocol: 'openai', api_key_env: ['K1', 'K2'], headers: {} },
    models: [
      { name: 'flash', weight: 4 },
      { name: 'pro', weight: 1 },
    ],
    request: { prompt_tokens: 50, max_tokens: 10, stream: true, system_prefix_tokens: 0, thinking: false, user_id: { strategy: 'none' }, timeout_ms: 60_000 },
    load: { mode: 'search', start: 4, max: 400, hold_ms: 2000, precision: 1, growth: 2, recheck: true },
    stop: {},
    expect: [],
    budget: {},
    pricing: { flash: { input_cache_hit: 0.028, input_cache_miss: 0.14, output: 0.28 } },
    seed: 1,
    ...over,
  };
}

const ctx = (s: Scenario): BuildContext => ({
  name: s.name, startedAt: new Date(0).toISOString(), seed: s.seed, mode: s.load.mode,
  target: { url: 'mock', protocol: 'openai', mock: true, keys: 2 }, scenario: {}, pricing: s.pricing,
  loop: { delay_p50_ms: 0, delay_p99_ms: 0, delay_max_ms: 0, warning: null }, warnings: [],
});

describe('runner against an in-process capped server', () => {
  test('search finds each model\'s exact cap in one run, and never exceeds it by more than the probe', async () => {
    const clock = monotonicClock();
    const server = fakeServer({ caps: { flash: 37, pro: 11 }, durationMs: 400, clock });
    const samples: Sample[] = [];
    const s = scenario();
    const r = await runScenario(s, { clock, random: seededRandom(1), prober: server, keys: ['a', 'b'], mock: true, clientLagLimitMs: INPROC, onSample: (x) => samples.push(x) });
    const report = buildReport(ctx(s), r);
    const caps = Object.fromEntries(report.models.map((m) => [m.model, m.cap]));
    expect(caps['flash']).toMatchObject({ status: 'found', low: 37, high: 38, estimate: 37 });
    expect(caps['pro']).toMatchObject({ status: 'found', low: 11, high: 12, estimate: 11 });
    expect(report.status).toBe('completed');
    // Every request is one sample; keys rotate by index, never stored.
    expect(samples.length).toBe(report.cost.requests);
    expect(new Set(samples.map((x) => x.key_index))).toEqual(new Set([0, 1]));
    expect(JSON.stringify(samples)).not.toMatch(/"apiKey"/);
    // Nothing left running.
    expect(server.inflight['flash'] ?? 0).toBe(0);
  });

  test('ramp holds each level and stops on the 429 stop rule', async () => {
    const clock = monotonicClock();
    const server = fakeServer({ caps: { flash: 25 }, durationMs: 100, clock });
    const s = scenario({
      models: [{ name: 'flash', weight: 1 }],
      load: { mode: 'ramp', start: 10, step: 10, max: 60, hold_ms: 300, precision: 1, growth: 2, recheck: false },
      stop: { max_429_rate: 0.05 },
    });
    const r = await runScenario(s, { clock, random: seededRandom(1), prober: server, keys: ['a'], mock: true, clientLagLimitMs: INPROC });
    const rep = buildReport(ctx(s), r);
    const steps = rep.models[0]!.steps;
    expect(steps.map((x) => x.target_inflight)).toEqual([10, 20, 30]);
    expect(steps[2]!.ended_by).toBe('stop_rule');
    expect(steps[0]!.rate_limited).toBe(0);
    expect(steps[2]!.rate_429).toBeGreaterThan(0.05);
    // Closed loop with instant refill: the achieved in-flight is the target on clean levels.
    expect(steps[1]!.achieved_inflight).toBeGreaterThan(19);
    expect(rep.models[0]!.cap).toMatchObject({ status: 'found', low: 20, high: 30, estimate: 25 });
  });

  test('an abort signal stops the run, marks it interrupted and cuts what is open', async () => {
    const clock = monotonicClock();
    const server = fakeServer({ caps: { flash: 1000 }, durationMs: 60_000, clock });
    const ctl = new AbortController();
    const s = scenario({ models: [{ name: 'flash', weight: 1 }], load: { mode: 'ramp', stages: [{ inflight: 20, hold_ms: 60_000 }], start: 20, max: 20, hold_ms: 60_000, precision: 1, growth: 2, recheck: false } });
    const samples: Sample[] = [];
    setTimeout(() => ctl.abort(), 200);
    const r = await runScenario(s, { clock, random: seededRandom(1), prober: server, keys: ['a'], mock: true, clientLagLimitMs: INPROC, signal: ctl.signal, onSample: (x) => samples.push(x) });
    expect(r.status).toBe('interrupted');
    expect(samples.length).toBe(20);
    expect(samples.every((x) => x.outcome === 'aborted' && x.detail === 'interrupted')).toBe(true);
    expect(server.inflight['flash']).toBe(0);
  });

  test('safety_margin keeps a search against a real target below the documented cap', async () => {
    const clock = monotonicClock();
    const server = fakeServer({ caps: { 'deepseek-v4-pro': 10_000 }, durationMs: 300, clock });
    const s = scenario({ models: [{ name: 'deepseek-v4-pro', weight: 1 }], safety_margin: 0.2, load: { mode: 'search', start: 50, max: 4000, hold_ms: 2000, precision: 1, growth: 2, recheck: true } });
    const r = await runScenario(s, { clock, random: seededRandom(1), prober: server, keys: ['a'], mock: false, clientLagLimitMs: INPROC });
    const levels = r.models[0]!.levels.map((l) => l.level);
    expect(Math.max(...levels)).toBe(400);
    expect(server.maxSeen['deepseek-v4-pro']).toBeLessThanOrEqual(400);
    expect(buildReport(ctx(s), r).models[0]!.cap.status).toBe('not_reached');
  });

  test('a token budget stops the run', async () => {
    const clock = monotonicClock();
    const server = fakeServer({ caps: { flash: 1000 }, durationMs: 20, clock });
    const s = scenario({ models: [{ name: 'flash', weight: 1 }], budget: { max_tokens: 300 }, load: { mode: 'ramp', stages: [{ inflight: 5, hold_ms: 30_000 }], start: 5, max: 5, hold_ms: 30_000, precision: 1, growth: 2, recheck: false } });
    const r = await runScenario(s, { clock, random: seededRandom(1), prober: server, keys: ['a'], mock: true, clientLagLimitMs: INPROC });
    expect(r.status).toBe('budget_exceeded');
    expect(r.status_reason).toMatch(/does not fit in what remains of max_tokens 300/);
    // Reserved before sending: what was used never passes the budget.
    expect(r.tokens.prompt + r.tokens.completion).toBeLessThanOrEqual(300);
    expect(r.budget?.spent_tokens).toBe(r.tokens.prompt + r.tokens.completion);
  });
});

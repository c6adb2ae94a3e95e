import { describe, expect, test } from 'vitest';
import { parseScenario } from '../../src/scenario/index.js';
import { parseThreshold } from '../../src/measure/thresholds.js';

const BASE = 'target: { url: mock }\nmodels: { deepseek-v4-flash: {} }\n';

describe('rate mode keys', () => {
  test('rate and duration, policies with every default filled in', () => {
    const r = parseScenario(
      BASE + 'load: { mode: rate, rate: 7200/m, duration: 1m, max_inflight: 5000 }\npolicies:\n  none:\n  pool: { pool: 2000, queue_timeout: 30s }\n  full:\n    retry: { on: [429], max_attempts: 6, backoff: { base: 1s, factor: 2, max: 60s, jitter: equal }, honor_retry_after: false }\n    breaker: { window: 60s, open_when: 25%, cool_off: 2m, canaries: 1 }\n',
      'a.yaml',
    );
    expect(r.problems).toEqual([]);
    const s = r.scenario!;
    expect(s.load.rate).toEqual({ arrival: 'poisson', stages: [{ rate: 120, hold_ms: 60_000 }], duration_ms: 60_000, max_inflight: 5000, drain_ms: 30_000 });
    expect(s.policies).toEqual([
      { name: 'none' },
      { name: 'pool', pool: 2000, queue_timeout_ms: 30_000 },
      {
        name: 'full',
        retry: { on: [429], max_attempts: 6, base_ms: 1000, factor: 2, max_ms: 60_000, jitter: 'equal', honor_retry_after: false },
        breaker: { window_ms: 60_000, open_when: 0.25, min_attempts: 20, cool_off_ms: 120_000, canaries: 1 },
      },
    ]);
  });

  test('stages, and `rate:` alone implies mode rate with the policy none', () => {
    const r = parseScenario(BASE + 'load: { mode: rate, arrival: constant, stages: [{ rate: 50/s, hold: 30s }, { rate: 150, hold: 1m }] }\n', 'a.yaml');
    expect(r.scenario!.load.rate!.stages).toEqual([{ rate: 50, hold_ms: 30_000 }, { rate: 150, hold_ms: 60_000 }]);
    expect(r.scenario!.load.rate!.duration_ms).toBe(90_000);
    const r2 = parseScenario(BASE + 'load: { rate: 10/s, duration: 5s }\npolicy: { pool: 3 }\n', 'a.yaml');
    expect(r2.scenario!.load.mode).toBe('rate');
    expect(r2.scenario!.policies).toEqual([{ name: 'policy', pool: 3 }]);
  });

  test.each([
    ['no rate', 'load: { mode: rate, duration: 5s }\n', 'load.rate', /is required in mode: rate/],
    ['no duration', 'load: { mode: rate, rate: 5/s }\n', 'load.duration', /is required in mode: rate/],
    ['a bad rate', 'load: { mode: rate, rate: 5/day, duration: 5s }\n', 'load.rate', /120\/s/],
    ['a policy outside rate mode', 'load: { mode: search }\npolicy: { pool: 3 }\n', 'policy', /only applies to load.mode: rate/],
    ['queue_timeout without a pool', 'load: { rate: 5/s, duration: 5s }\npolicy: { queue_timeout: 1s }\n', 'policy.queue_timeout', /only applies with a pool/],
    ['both policy and policies', 'load: { rate: 5/s, duration: 5s }\npolicy: {}\npolicies: { a: {} }\n', 'policies', /either policy or policies/],
    ['search keys in rate mode', 'load: { mode: rate, rate: 5/s, duration: 5s, start: 3 }\n', 'load.start', /does not apply to mode: rate/],
    ['rate keys in ramp mode', 'load: { mode: ramp, rate: 5/s }\n', 'load.rate', /only applies to mode: rate/],
    ['an unknown policy key', 'load: { rate: 5/s, duration: 5s }\npolicy: { pol: 3 }\n', 'policy.pol', /unknown key/],
  ])('%s is refused with its path', (_n, yaml, path, message) => {
    const r = parseScenario(BASE + yaml, 'bad.yaml');
    expect(r.scenario).toBeUndefined();
    expect(r.problems.some((p) => p.path === path && message.test(p.message + ' ' + (p.hint ?? '')) && /^bad\.yaml:\d+:\d+$/.test(p.where ?? '')), JSON.stringify(r.problems)).toBe(true);
  });
});

describe('rate mode thresholds', () => {
  test.each([
    ['goodput(deepseek-v4-flash) >= 100/s', { metric: 'goodput', model: 'deepseek-v4-flash', op: '>=', value: 100, unit: 'per_s' }],
    ['goodput(policy == pool) >= 100', { metric: 'goodput', policy: 'pool', value: 100 }],
    ['success_rate(deepseek-v4-flash) >= 99%', { metric: 'success_rate', value: 0.99, unit: 'fraction' }],
    ['amplification(deepseek-v4-flash, policy == backoff) <= 1.5', { metric: 'amplification', policy: 'backoff', value: 1.5, unit: 'ratio' }],
    ['p99(app_latency, deepseek-v4-flash) < 30s', { metric: 'p99', field: 'app_latency', value: 30_000 }],
    ['p99(queue_wait, policy == pool) < 2s', { metric: 'p99', field: 'queue_wait', policy: 'pool', value: 2000 }],
  ])('%s', (expr, want) => {
    const { ast, error } = parseThreshold(expr);
    expect(error).toBeUndefined();
    expect(ast).toMatchObject(want);
  });

  test.each([
    ['goodput >= 100/m', /not a unit of goodput/],
    ['amplification <= 1.5s', /takes no unit/],
    ['goodput(policy = pool) > 1', /`=` is not a comparison/],
    ['goodput(policy < pool) > 1', /policy == NAME/],
    ['cap(m, policy == a) > 1', /takes no policy/],
  ])('%s is refused', (expr, msg) => {
    expect(parseThreshold(expr).error?.message).toMatch(msg);
  });
});

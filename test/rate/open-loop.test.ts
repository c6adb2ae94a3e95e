import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import { arrivalSchedule } from '../../src/plan/arrivals.js';
import { clockServer, rehearse, scenario } from './fake.js';

describe('arrival schedules are pure functions of (seed, spec)', () => {
  test('constant: exactly one arrival every 1/rate from each stage start', () => {
    const sch = arrivalSchedule(7, { arrival: 'constant', stages: [{ rate: 10, hold_ms: 1000 }, { rate: 20, hold_ms: 500 }], weights: [1] });
    expect([...sch.t_us]).toEqual([
      0, 100_000, 200_000, 300_000, 400_000, 500_000, 600_000, 700_000, 800_000, 900_000,
      1_000_000, 1_050_000, 1_100_000, 1_150_000, 1_200_000, 1_250_000, 1_300_000, 1_350_000, 1_400_000, 1_450_000,
    ]);
    expect(sch.duration_us).toBe(1_500_000);
  });

  test('poisson: the same seed gives the same schedule; its count and gaps fit the rate', () => {
    const spec = { arrival: 'poisson' as const, stages: [{ rate: 2000, hold_ms: 10_000 }], weights: [4, 1] };
    const a = arrivalSchedule(1, spec);
    const b = arrivalSchedule(1, spec);
    expect([...a.t_us]).toEqual([...b.t_us]);
    expect([...arrivalSchedule(2, spec).t_us.slice(0, 10)]).not.toEqual([...a.t_us.slice(0, 10)]);
    // 20,000 expected; a Poisson count has sd ~141: 5 sd either way.
    expect(Math.abs(a.t_us.length - 20_000)).toBeLessThan(710);
    for (let i = 1; i < a.t_us.length; i++) expect(a.t_us[i]).toBeGreaterThanOrEqual(a.t_us[i - 1]!);
    // Weights 4:1 split the arrivals about 80/20.
    const share = [...a.model].filter((m) => m === 0).length / a.t_us.length;
    expect(share).toBeGreaterThan(0.78);
    expect(share).toBeLessThan(0.82);
    // Times do not depend on the mix.
    expect([...arrivalSchedule(1, { ...spec, weights: [1] }).t_us]).toEqual([...a.t_us]);
  });
});

describe('the open-loop executor on a manual clock', () => {
  test('every first attempt is sent exactly at its scheduled arrival; app latency is measured from it', async () => {
    const s = scenario('load: { mode: rate, arrival: constant, rate: 10/s, duration: 1s, drain: 1s }\n');
    const { report, samples } = await rehearse(s, (clock) => clockServer({ cap: 100, durationUs: 50_000, clock }), 10_000);
    const sch = arrivalSchedule(s.seed, { arrival: 'constant', stages: s.load.rate!.stages, weights: [1] });
    expect(samples).toHaveLength(10);
    const start = samples[0]!.arrival_us!;
    samples.forEach((x, k) => {
      expect(x.arrival_us).toBe(start + sch.t_us[k]!);
      expect(x.intended_us).toBe(x.arrival_us);
      expect(x.sent_us).toBe(x.arrival_us);
      expect(x.end_us - x.sent_us).toBe(50_000);
      expect(x).toMatchObject({ policy: 'none', attempt: 1 });
    });
    const p = report.rehearsal!.policies[0]!;
    expect(p.total).toMatchObject({ arrivals: 10, ok: 10, shed: 0, failed: 0, attempts: 10, success_rate: 1, amplification: 1 });
    expect(p.total.app_latency_ms.p99).toBeCloseTo(50, 0);
    // HDR's lowest bucket is 1 µs: no lag at all.
    expect(p.total.arrival_lag_ms.max).toBeLessThanOrEqual(0.001);
    expect(report.mode).toBe('rate');
  });

  test('a pool queues what it cannot send and sheds after queue_timeout; latency includes the wait', async () => {
    const s = scenario('load: { mode: rate, arrival: constant, rate: 100/s, duration: 100ms, drain: 1s }\npolicy: { pool: 2, queue_timeout: 25ms }\n');
    const { report, prober } = await rehearse(s, (clock) => clockServer({ cap: 100, durationUs: 20_000, clock }));
    const t = report.rehearsal!.policies[0]!.total;
    expect(prober.maxSeen).toBe(2);
    expect(t.arrivals).toBe(10);
    expect(t.ok + t.shed + t.failed).toBe(10);
    // Two slots of 20 ms against one arrival every 10 ms: nothing waits long enough to be shed.
    expect(t.shed_by_reason.queue_timeout).toBe(0);
    expect(t.ok).toBe(10);
    const s2 = scenario('load: { mode: rate, arrival: constant, rate: 100/s, duration: 100ms, drain: 1s }\npolicy: { pool: 1, queue_timeout: 25ms }\n');
    const t2 = (await rehearse(s2, (clock) => clockServer({ cap: 100, durationUs: 20_000, clock }))).report.rehearsal!.policies[0]!.total;
    // One slot of 20 ms against one arrival every 10 ms: the queue grows and the oldest waiters time out.
    expect(t2.shed_by_reason.queue_timeout).toBeGreaterThan(0);
    expect(t2.ok + t2.shed + t2.failed).toBe(10);
    expect(t2.app_latency_ms.max).toBeGreaterThan(20);
    expect(t2.queue_wait_ms.max).toBeGreaterThan(0);
  });

  test('the breaker opens during a 503 burst, sheds while open, and closes again through its canaries', async () => {
    const s = scenario(
      'load: { mode: rate, arrival: constant, rate: 100/s, duration: 3s, drain: 1s }\n' +
        'policy: { breaker: { window: 500ms, open_when: 30%, min_attempts: 10, cool_off: 300ms, canaries: 2 } }\n',
    );
    // 503 for everything sent between 1.0 s and 1.5 s of the run.
    const { report } = await rehearse(s, (clock) => clockServer({ cap: 1000, durationUs: 5_000, clock, forced: (t) => (t >= 1_000_000 && t < 1_500_000 ? 503 : undefined) }));
    const p = report.rehearsal!.policies[0]!;
    const b = p.breaker!;
    expect(b.opens).toBeGreaterThanOrEqual(1);
    expect(b.changes[0]).toMatchObject({ state: 'open' });
    // 30 % of a 500 ms window of 50 attempts: the 15th 503 (at 1.14 s) opens it.
    expect(b.changes[0]!.t_ms).toBeGreaterThanOrEqual(1140);
    expect(b.changes[0]!.t_ms).toBeLessThanOrEqual(1150);
    expect(b.changes.at(-1)!.state).toBe('closed');
    expect(b.changes.at(-1)!.t_ms).toBeGreaterThanOrEqual(1500);
    expect(b.canaries_sent).toBeGreaterThanOrEqual(2);
    expect(p.total.shed_by_reason.breaker_open).toBeGreaterThan(0);
    // Once closed, everything succeeds again: the last second of arrivals all succeeded.
    const last = p.total.timeline.filter((x) => x.t_ms >= 2000);
    expect(last.reduce((a, x) => a + x.failed + x.shed, 0)).toBe(0);
    expect(p.total.ok + p.total.shed + p.total.failed).toBe(p.total.arrivals);
  });

  test('property: for any policy and any answers, ok + shed + failed = arrivals, and every attempt is one sample', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          seed: fc.integer({ min: 0, max: 1000 }),
          arrival: fc.constantFrom('poisson', 'constant'),
          rate: fc.integer({ min: 50, max: 400 }),
          cap: fc.integer({ min: 1, max: 8 }),
          pool: fc.option(fc.integer({ min: 1, max: 10 }), { nil: undefined }),
          queueTimeout: fc.option(fc.integer({ min: 1, max: 50 }), { nil: undefined }),
          retry: fc.option(fc.integer({ min: 1, max: 4 }), { nil: undefined }),
          breaker: fc.boolean(),
          burst: fc.integer({ min: 0, max: 3 }),
          maxInflight: fc.integer({ min: 1, max: 20 }),
        }),
        async (c) => {
          const policy = [
            c.pool !== undefined ? `pool: ${c.pool}` : '',
            c.pool !== undefined && c.queueTimeout !== undefined ? `queue_timeout: ${c.queueTimeout}ms` : '',
            c.retry !== undefined ? `retry: { max_attempts: ${c.retry}, backoff: { base: 2ms, max: 20ms } }` : '',
            c.breaker ? 'breaker: { window: 50ms, min_attempts: 3, cool_off: 20ms, canaries: 1 }' : '',
          ].filter(Boolean).join(', ');
          const s = scenario(`seed: ${c.seed}\nload: { mode: rate, arrival: ${c.arrival}, rate: ${c.rate}/s, duration: 200ms, max_inflight: ${c.maxInflight}, drain: 30ms }\npolicies: { p: { ${policy} }, none: {} }\n`);
          const { report, samples } = await rehearse(s, (clock) =>
            clockServer({ cap: c.cap, durationUs: 15_000, clock, forced: (t) => (Math.floor(t / 40_000) % 4 < c.burst ? 503 : undefined) }),
          );
          const arrivals = arrivalSchedule(c.seed, { arrival: c.arrival, stages: s.load.rate!.stages, weights: [1] }).t_us.length;
          for (const p of report.rehearsal!.policies) {
            const t = p.total;
            expect(t.arrivals).toBe(arrivals);
            expect(t.ok + t.shed + t.failed).toBe(arrivals);
            expect(Object.values(t.shed_by_reason).reduce((a, b) => a + b, 0)).toBe(t.shed);
            expect(samples.filter((x) => x.policy === p.name)).toHaveLength(t.attempts);
          }
        },
      ),
      { numRuns: 12 },
    );
  }, 120_000);
});

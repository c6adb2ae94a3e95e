import { describe, expect, test } from 'vitest';
import { Backoff, retryAfterMs } from '../../src/run/backoff.js';
import { backoffCeilingMs, expectedRefusalsPerSlot } from '../../src/plan/backoff.js';
import { ModelDriver } from '../../src/run/driver.js';
import { manualClock } from '../../src/time/clock.js';
import { seededRandom, type Random } from '../../src/time/random.js';
import type { Prober, ProbeRequest, ProbeHooks } from '../../src/transport/prober.js';
import type { Sample } from '../../src/types.js';

const SPEC = { enabled: true, base_ms: 1000, factor: 2, cap_ms: 30_000 };
const fixed = (v: number): Random => ({ next: () => v, int: (a) => a, fork: () => fixed(v) });
const flush = async (n = 5) => {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
};

describe('backoff policy', () => {
  test('full jitter: uniform below min(cap, base x factor^(n-1)), mean about half of it', () => {
    const b = new Backoff(SPEC, seededRandom(7));
    for (const [attempt, ceiling] of [[1, 1000], [2, 2000], [3, 4000], [6, 30_000], [20, 30_000]] as const) {
      expect(backoffCeilingMs(SPEC, attempt)).toBe(ceiling);
      const xs = Array.from({ length: 2000 }, () => b.delayUs(attempt) / 1000);
      expect(Math.max(...xs)).toBeLessThanOrEqual(ceiling);
      expect(Math.min(...xs)).toBeGreaterThanOrEqual(0);
      const mean = xs.reduce((a, x) => a + x, 0) / xs.length;
      expect(mean / ceiling).toBeGreaterThan(0.45);
      expect(mean / ceiling).toBeLessThan(0.55);
    }
  });

  test('Retry-After is a floor (seconds or retry-after-ms), bounded by the cap; off means 0', () => {
    const b = new Backoff(SPEC, fixed(0));
    expect(b.delayUs(1, '5')).toBe(5_000_000);
    expect(b.delayUs(1, '700ms')).toBe(700_000);
    expect(b.delayUs(1, '120')).toBe(30_000_000);
    expect(b.delayUs(1, 'soon')).toBe(0);
    expect(retryAfterMs('1.5')).toBe(1500);
    expect(new Backoff({ ...SPEC, enabled: false }, seededRandom(1)).delayUs(3, '5')).toBe(0);
  });

  test('expected refusals per slot (plan): grows slowly with the hold; without backoff one per round trip', () => {
    expect(expectedRefusalsPerSlot(SPEC, 2000, 10)).toBe(3);
    expect(expectedRefusalsPerSlot(SPEC, 10_000, 10)).toBe(5);
    expect(expectedRefusalsPerSlot({ ...SPEC, enabled: false }, 2000, 10)).toBe(200);
  });
});

/** A prober whose answers are scripted per call: 429 at once, or admitted and open until `endAdmitted()`. */
function scripted(answers: (n: number) => 429 | 200) {
  let n = 0;
  const open: (() => void)[] = [];
  const prober: Prober = {
    send(req: ProbeRequest, signal?: AbortSignal, hooks?: ProbeHooks): Promise<Sample> {
      const status = answers(n++);
      const base: Sample = { id: req.id, model: req.model, step: req.step, target_inflight: req.target_inflight, key_index: 0, intended_us: req.intended_us, sent_us: 0, keepalives: 0, end_us: 0, outcome: 'ok', inflight_at_send: 1 };
      return new Promise((resolve) => {
        queueMicrotask(() => {
          hooks?.onHeaders?.(req, status, 0);
          if (status === 429) return resolve({ ...base, status, outcome: 'rate_limited' });
          const end = () => resolve({ ...base, status, outcome: signal?.aborted ? 'aborted' : 'ok' });
          signal?.addEventListener('abort', end, { once: true });
          open.push(end);
        });
      });
    },
    async close() {},
  };
  return { prober, sent: () => n, endAdmitted: () => open.splice(0).forEach((f) => f()) };
}

function driverWith(prober: Prober, random: Random) {
  const clock = manualClock();
  let id = 0;
  const d = new ModelDriver({
    model: 'm', clock, prober, timeoutUs: 600_000_000, nextId: () => id++, onSample: () => {},
    makeRequest: (i, step, target, inflight) => ({ id: i, model: 'm', step, target_inflight: target, inflight_at_send: inflight, key_index: 0, apiKey: 'k', system: '', prompt: 'p', max_tokens: 5, stream: true, thinking: false }),
    backoff: new Backoff(SPEC, random),
  });
  return { d, clock };
}

describe('the driver refills a refused slot only after its backoff', () => {
  test('5 slots all refused: 5 sends, then nothing until the delays pass; the waiting slots are reported', async () => {
    const s = scripted(() => 429);
    const { d, clock } = driverWith(s.prober, fixed(0.999));
    d.startStep(5);
    await flush();
    expect(s.sent()).toBe(5);
    expect(d.backingOff).toBe(5);
    clock.advance(900_000); // below the first ceiling (1 s x 0.999)
    await flush();
    expect(s.sent()).toBe(5);
    clock.advance(100_000);
    await flush();
    expect(s.sent()).toBe(10); // refilled once each, refused again: now ~2 s each
    clock.advance(1_900_000);
    await flush();
    expect(s.sent()).toBe(10);
    clock.advance(100_000);
    await flush();
    expect(s.sent()).toBe(15);
    await d.stop(0, 'stopped');
    expect(d.backingOff).toBe(0);
  });

  test('an admitted request resets its slot: the next 429 waits the first ceiling again', async () => {
    // Call 0: 429; call 1: admitted (then ends); call 2: 429 again; later: admitted.
    const s = scripted((n) => (n === 0 || n === 2 ? 429 : 200));
    const { d, clock } = driverWith(s.prober, fixed(0.999));
    d.startStep(1);
    await flush();
    clock.advance(1_000_000);
    await flush();
    expect(s.sent()).toBe(2); // the slot came back after ~1 s and was admitted
    s.endAdmitted(); // it completes: refilled at once (no backoff after a success), refused
    await flush();
    expect(s.sent()).toBe(3);
    clock.advance(1_000_000); // ~1 s again, not ~2 s: the admission reset the count
    await flush();
    expect(s.sent()).toBe(4);
    await d.stop(0, 'stopped');
  });
});

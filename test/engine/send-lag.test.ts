import { describe, expect, test } from 'vitest';
import { Backoff } from '../../src/run/backoff.js';
import { ChangeWaiter } from '../../src/run/change-waiter.js';
import { DueSlots } from '../../src/run/due-slots.js';
import { LAUNCH_BATCH, ModelDriver, REFRESH_SETTLE_US } from '../../src/run/driver.js';
import { manualClock, type ManualClock } from '../../src/time/clock.js';
import type { Random } from '../../src/time/random.js';
import type { Prober, ProbeRequest, ProbeHooks } from '../../src/transport/prober.js';
import type { Sample } from '../../src/types.js';

const fixed = (v: number): Random => ({ next: () => v, int: (a) => a, fork: () => fixed(v) });
const flush = async (n = 5) => {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
};

/**
 * A prober that records every send (its intended time and the clock at the send) and answers 429 at once where
 * `refuse(n)` says so; every other request stays open until the test ends it (at the clock's time then).
 */
function recording(clock: ManualClock, refuse: (n: number) => boolean = () => false, holdRefused = false) {
  const sends: { id: number; intended: number; at: number }[] = [];
  const open = new Map<number, () => void>();
  const prober: Prober = {
    send(req: ProbeRequest, signal?: AbortSignal, hooks?: ProbeHooks): Promise<Sample> {
      const n = sends.length;
      sends.push({ id: req.id, intended: req.intended_us, at: clock.nowUs() });
      const sent = clock.nowUs();
      const base = (): Sample => ({ id: req.id, model: req.model, step: req.step, target_inflight: req.target_inflight, key_index: 0, intended_us: req.intended_us, sent_us: sent, keepalives: 0, end_us: clock.nowUs(), outcome: 'ok', inflight_at_send: 1 });
      return new Promise((resolve) => {
        queueMicrotask(() => {
          const status = refuse(n) ? 429 : 200;
          hooks?.onHeaders?.(req, status, clock.nowUs());
          if (status === 429 && !holdRefused) return resolve({ ...base(), status, outcome: 'rate_limited' });
          const end = () => {
            open.delete(req.id);
            resolve({ ...base(), status, outcome: status === 429 ? 'rate_limited' : signal?.aborted ? 'aborted' : 'ok' });
          };
          signal?.addEventListener('abort', end, { once: true });
          open.set(req.id, end);
        });
      });
    },
    async close() {},
  };
  return { prober, sends, end: (id: number) => open.get(id)?.(), openIds: () => [...open.keys()] };
}

function driverWith(prober: Prober, clock: ManualClock, backoff = false) {
  let id = 0;
  return new ModelDriver({
    model: 'm', clock, prober, timeoutUs: 600_000_000, nextId: () => id++, onSample: () => {},
    makeRequest: (i, step, target, inflight) => ({ id: i, model: 'm', step, target_inflight: target, inflight_at_send: inflight, key_index: 0, apiKey: 'k', system: '', prompt: 'p', max_tokens: 5, stream: true, thinking: false }),
    ...(backoff ? { backoff: new Backoff({ enabled: true, base_ms: 1000, factor: 2, cap_ms: 30_000 }, fixed(0.5)) } : {}),
    retireGraceUs: 0,
  });
}

describe('send lag: each launch is measured from its own slot', () => {
  test('a wave of ends: every replacement is due when its own request ended, not when the first of the wave did', async () => {
    const clock = manualClock();
    const p = recording(clock);
    const d = driverWith(p.prober, clock);
    const level = LAUNCH_BATCH * 2 + 44;
    d.startStep(level);
    await flush(10);
    expect(p.sends).toHaveLength(level);
    clock.advance(1_000_000);
    // The wave: every request ends, 100 µs apart, before the driver gets a turn to refill.
    const endedAt: number[] = [];
    for (const id of p.openIds()) {
      clock.advance(100);
      endedAt.push(clock.nowUs());
      p.end(id);
    }
    await flush(1);
    // Replacements go out in slices; the clock moves 5 ms between them.
    for (let i = 0; i < 6; i++) {
      clock.advance(5_000);
      await flush(1);
    }
    const refills = p.sends.slice(level);
    expect(refills).toHaveLength(level);
    // Oldest slot first: the i-th replacement is due at the i-th end.
    expect(refills.map((r) => r.intended)).toEqual(endedAt);
    // The later slices waited; the wave's first end is not what they are charged.
    const last = refills[refills.length - 1]!;
    expect(last.at - last.intended).toBeLessThan(last.at - endedAt[0]!);
    await d.stop(0, 'stopped');
  });

  test("a level over the cap: its burst is a ramp-up, its refills after backoff are what the verdict reads", async () => {
    const clock = manualClock();
    // The server admits 200; every later send is refused at once.
    const p = recording(clock, (n) => n >= 200);
    const d = driverWith(p.prober, clock, true);
    const rec = d.startStep(LAUNCH_BATCH * 3);
    // The burst takes three slices, 60 ms apart: its last launches are 120 ms past the level's start.
    for (let i = 0; i < 4; i++) {
      clock.advance(60_000);
      await flush(1);
    }
    // The refused slots come back after their backoff (0.5 s with this jitter), and are refused again.
    for (let i = 0; i < 80; i++) {
      clock.advance(10_000);
      await flush(2);
    }
    expect(p.sends.length).toBeGreaterThan(LAUNCH_BATCH * 3 + 100);
    await d.stop(0, 'stopped');
    const rep = rec.report(clock.nowUs());
    // Never held: the 429s ended at once and their slots waited out a backoff.
    expect(rep.held_inflight).toBeUndefined();
    expect(rep.send_lag_ms.p99).toBeGreaterThan(100);
    // Filled once the burst was out: the verdict reads the refills only (sent on time after their backoff).
    expect(rep.held_send_lag_ms).toBeDefined();
    expect(rep.held_send_lag_ms!.p99).toBeLessThan(20);
    expect(rep.client_bound).toBe(false);
  });

  test('a level never sent in full is judged on every launch', async () => {
    const clock = manualClock();
    const p = recording(clock);
    // The budget allows 100 sends: a level of 300 is never filled.
    let n = 0;
    const d = new ModelDriver({
      model: 'm', clock, prober: p.prober, timeoutUs: 600_000_000, nextId: () => n, onSample: () => {},
      makeRequest: (i, step, target, inflight) => ({ id: i, model: 'm', step, target_inflight: target, inflight_at_send: inflight, key_index: 0, apiKey: 'k', system: '', prompt: 'p', max_tokens: 5, stream: true, thinking: false }),
      mayLaunch: () => (clock.advance(1_000), n++ < 100),
    });
    const rec = d.startStep(300);
    await flush(5);
    await d.stop(0, 'stopped');
    const rep = rec.report(clock.nowUs());
    expect(rep.held_send_lag_ms).toBeUndefined();
    expect(rep.send_lag_ms.p99).toBeGreaterThan(90);
    expect(rep.client_bound).toBe(true);
  });

  test("a refresh's replacements are due when the settle ends: the wait is dsprobe's choice, not its lag", async () => {
    const clock = manualClock();
    const p = recording(clock);
    const d = driverWith(p.prober, clock);
    d.startStep(100);
    await flush(5);
    clock.advance(1_000_000);
    const t0 = clock.nowUs();
    d.startStep(100, true);
    await flush(5);
    const before = p.sends.length;
    expect(before).toBe(100);
    clock.advance(REFRESH_SETTLE_US + 3_000);
    await flush(5);
    const fresh = p.sends.slice(before);
    expect(fresh.length).toBeGreaterThan(0);
    for (const f of fresh) {
      expect(f.intended).toBeGreaterThanOrEqual(t0 + REFRESH_SETTLE_US);
      expect(f.at - f.intended).toBeLessThanOrEqual(3_000);
    }
    await d.stop(0, 'stopped');
  });
});

describe('retiring', () => {
  test("a refresh cuts admitted requests: a refused one still open is not counted in its share (it frees nothing)", async () => {
    const clock = manualClock();
    // 48 admitted, then the two newest refused, their 429 bodies still arriving.
    const p = recording(clock, (n) => n >= 48 && n < 50, true);
    const d = driverWith(p.prober, clock);
    d.startStep(50);
    await flush(5);
    expect(p.sends).toHaveLength(50);
    clock.advance(1_000_000);
    const cutAt = p.sends.length;
    // A refresh of a level of 50 retires one request: the newest admitted (id 47), cut at once.
    d.startStep(50, true);
    await flush(5);
    expect(p.openIds()).not.toContain(47);
    expect(p.openIds()).toContain(48);
    expect(p.openIds()).toContain(49);
    // Its replacement, sent once the settle is over, is the fresh request the refresh is for.
    clock.advance(REFRESH_SETTLE_US + 1_000);
    await flush(5);
    expect(p.sends.length).toBe(cutAt + 1);
    // A stop retires everything: the refused ones still arriving are cut too, or it would wait on them.
    await d.stop(0, 'stopped');
    expect(p.openIds()).toEqual([]);
  });
});

describe('DueSlots', () => {
  test('oldest first through growth and wrap-around; a step down keeps the oldest; a ramp pads at its start', () => {
    const q = new DueSlots();
    let t = 0;
    const want: number[] = [];
    // Interleaved pushes and takes that wrap the ring and make it grow.
    for (let round = 0; round < 50; round++) {
      for (let i = 0; i < 40; i++) {
        q.push(++t);
        want.push(t);
      }
      for (let i = 0; i < 30; i++) expect(q.take(-1)).toBe(want.shift());
    }
    expect(q.length).toBe(want.length);
    q.trimTo(3);
    expect(q.length).toBe(3);
    q.reconcile(5, 9_999);
    expect([q.take(-1), q.take(-1), q.take(-1), q.take(-1), q.take(-1), q.take(-1)]).toEqual([...want.slice(0, 3), 9_999, 9_999, -1]);
    q.push(7, 3);
    q.reconcile(-2, 0);
    expect(q.length).toBe(0);
  });
});

describe('ChangeWaiter', () => {
  test('a wait ends at the next change, at its deadline, or on abort; one timer per deadline however many waits', async () => {
    const clock = manualClock();
    let timers = 0;
    const counted = { ...clock, sleepUntil: (at: number, sig?: AbortSignal) => (timers++, clock.sleepUntil(at, sig)) };
    const w = new ChangeWaiter(counted);
    let woke = 0;
    for (let i = 0; i < 100; i++) {
      const p = w.wait(1_000_000).then(() => woke++);
      w.changed();
      await p;
    }
    expect(woke).toBe(100);
    expect(timers).toBe(1);
    // A change with nobody waiting is not kept for the next wait.
    w.changed();
    let ended = false;
    const p = w.wait(1_000_000).then(() => (ended = true));
    await flush(2);
    expect(ended).toBe(false);
    clock.advance(1_000_000);
    await p;
    // Past the deadline, a wait returns at once; a new deadline arms one new timer.
    await w.wait(1_000_000);
    const ctl = new AbortController();
    const q = w.wait(5_000_000, ctl.signal);
    expect(timers).toBe(2);
    ctl.abort();
    await q;
    expect(await Promise.race([w.wait(9_000_000, ctl.signal).then(() => 'at once'), flush(2).then(() => 'waited')])).toBe('at once');
    w.close();
  });
});

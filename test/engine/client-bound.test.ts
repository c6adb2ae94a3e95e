/**
 * Client-bound verdicts: a step where dsprobe's own lag could have set the pace is marked and the summary says
 * what to do.
 */
import { describe, expect, test } from 'vitest';
import { ClientRecorder, clientBoundWhy, CLIENT_LAG_LIMIT_MS } from '../../src/measure/client.js';
import { clientBoundWarning } from '../../src/report/build.js';
import { StepRecorder } from '../../src/measure/recorder.js';
import { threadMeter } from '../../src/transport/thread-meter.js';
import type { ModelReport, Sample } from '../../src/types.js';

const quiet = { count: 10, p50: 1, p90: 1, p95: 1, p99: 1, max: 1, mean: 1 };

describe('client-bound steps', () => {
  test('a thread over the loop-delay limit, or a send backlog, makes a step client-bound, and says which', () => {
    expect(clientBoundWhy(CLIENT_LAG_LIMIT_MS, 0)).toBeNull();
    expect(clientBoundWhy(35, 0)).toMatch(/event-loop delay p99 35\.0 ms/);
    expect(clientBoundWhy(0, 80)).toMatch(/send lag p99 80\.0 ms/);
    const c = new ClientRecorder();
    c.loop(0, 3);
    c.loop(2, 45); // worker 2 lagged; worker 1 never reported
    c.loop(2, 40);
    c.loop(2, 10); // the worst interval is reported; the sustained delay (the median, 40 ms) judges
    c.connected([1500, 2500]);
    const r = c.report(quiet);
    expect(r.client_bound).toBe(true);
    expect(r.client.loop_p99_ms).toEqual([3, 0, 45]);
    expect(r.client.connects).toBe(2);
    expect(r.client.connect_ms.count).toBe(2);
    expect(r.client.why).toMatch(/40\.0 ms/);
  });

  test("each thread's busy share, the longest GC pause and the CPU in cores are kept per step, and do not judge it", () => {
    const c = new ClientRecorder();
    c.busy(0, 0.5, 2);
    c.busy(0, 0.7, 12.34);
    c.busy(1, 0.98, 0);
    c.busy(1, Number.NaN, Number.NaN); // a worker that sent no figure is not read as idle or as paused
    c.cpu(900_000, 1_000_000);
    c.cpu(300_000, 500_000);
    const r = c.report(quiet);
    expect(r.client.busy).toEqual([0.6, 0.98]);
    expect(r.client.gc_max_ms).toBe(12.3);
    expect(r.client.cpu_cores).toBe(0.8);
    // A busy thread is told, not judged: the loop delay stays the verdict.
    expect(r.client_bound).toBe(false);
    // Frozen at the decision, as the loop figures are.
    c.freeze(quiet);
    c.busy(0, 1, 99);
    c.cpu(5_000_000, 1_000_000);
    expect(c.report(quiet).client).toMatchObject({ busy: [0.6, 0.98], gc_max_ms: 12.3, cpu_cores: 0.8 });
    expect(new ClientRecorder().report(quiet).client.busy).toBeUndefined();
  });

  test('the thread meter reads this thread: busy while it spins, idle while it waits', async () => {
    const m = threadMeter();
    try {
      m.read(true);
      const until = performance.now() + 60;
      while (performance.now() < until);
      const spun = m.read(true);
      expect(spun.busy).toBeGreaterThan(0.8);
      await new Promise((r) => setTimeout(r, 60));
      expect(m.read(true).busy).toBeLessThan(0.5);
      // Garbage enough for young-generation collections: their pauses are seen (delivered a turn later).
      let keep: unknown[] = [];
      for (let i = 0; i < 2_000_000; i++) keep = [i, i % 1024 ? keep : []];
      await new Promise((r) => setTimeout(r, 20));
      expect(m.read(true).gc_max_ms).toBeGreaterThan(0);
    } finally {
      m.stop();
    }
  });

  test('the step report carries the verdict', () => {
    const rec = new StepRecorder('m', 0, 10, 0, 0);
    rec.client.loop(0, 60);
    const rep = rec.report(1_000_000);
    expect(rep.client_bound).toBe(true);
    expect(rep.client?.why).toMatch(/60\.0 ms/);
  });

  test('the summary names the client-bound levels and what to do', () => {
    const step = (target: number, bound: boolean) => ({ target_inflight: target, client_bound: bound, client: { loop_p99_ms: [70], connects: 0, connect_ms: quiet, why: 'x (> 20 ms)' } });
    const models = [{ model: 'flash', steps: [step(100, false), step(200, true)] }] as unknown as ModelReport[];
    const w = clientBoundWarning(models) as string;
    expect(w).toMatch(/1 level\(s\) were client-bound \(flash@200/);
    expect(w).toMatch(/--workers N`, up to the cores minus one\)/);
    expect(clientBoundWarning([{ model: 'flash', steps: [step(100, false)] }] as unknown as ModelReport[])).toBeNull();
  });

  test('more worker threads are advised only while the machine has cores for them', () => {
    const step = (threads: number) => ({ target_inflight: 3200, client_bound: true, client: { loop_p99_ms: Array(threads).fill(70), connects: 0, connect_ms: quiet, why: 'x (> 20 ms)' } });
    const run = (threads: number) => [{ model: 'flash', steps: [step(threads)] }] as unknown as ModelReport[];
    // Two cores, the I/O on the main thread (one worker's worth): no core left for another.
    const full = clientBoundWarning(run(1), 2) as string;
    expect(full).toMatch(/already used 1 worker thread\(s\), as many as this 2-core machine allows: lower the in-flight target, or shard/);
    expect(full).not.toMatch(/--workers N/);
    // Eight cores and two workers (main thread + 2): up to seven.
    expect(clientBoundWarning(run(3), 8)).toMatch(/--workers N`, up to 7 on this machine\)/);
    // Four cores, three workers: full again.
    expect(clientBoundWarning(run(4), 4)).toMatch(/already used 3 worker thread\(s\), as many as this 4-core machine allows/);
  });

  test("the verdict reads the send lag of the launches due once the level was held, not the ramp-up's", () => {
    const lagged = (intended: number, lagUs: number, id: number): Sample => ({ id, model: 'm', step: 0, target_inflight: 10, key_index: 0, intended_us: intended, sent_us: intended + lagUs, keepalives: 0, end_us: intended + lagUs + 1_000_000, outcome: 'ok', status: 200, inflight_at_send: 10 });
    /** A level of 10 filled from t = 0, the last of its launches sent 60 ms late, then 20 refills `refillLagUs` late. */
    const level = (refillLagUs: number) => {
      const rec = new StepRecorder('m', 0, 10, 0, 0);
      for (let i = 1; i <= 10; i++) rec.inflight(i * 6_000, i);
      for (let i = 0; i < 10; i++) rec.add(lagged(0, (i + 1) * 6_000, i));
      for (let i = 0; i < 20; i++) rec.add(lagged(1_000_000 + i * 10_000, refillLagUs, 10 + i));
      return rec;
    };
    const ramped = level(2_000).report(2_000_000);
    expect(ramped.send_lag_ms.p99).toBeGreaterThan(50);
    expect(ramped.held_send_lag_ms?.p99).toBeLessThan(3);
    expect(ramped.client_bound).toBe(false);
    const behind = level(40_000);
    expect(behind.decideClient().sendLagP99Ms).toBeGreaterThan(35);
    const rep = behind.report(2_000_000);
    expect(rep.client_bound).toBe(true);
    expect(rep.client?.why).toMatch(/send lag p99 4\d\.\d ms/);
    // A level dsprobe never filled: every launch's lag is its own.
    const unfilled = new StepRecorder('m', 1, 10, 0, 0);
    unfilled.inflight(6_000, 5);
    for (let i = 0; i < 5; i++) unfilled.add(lagged(0, 60_000, i));
    const u = unfilled.report(1_000_000);
    expect(u.held_send_lag_ms).toBeUndefined();
    expect(u.client_bound).toBe(true);
  });

  test('held in-flight is measured over the held part only; the ramp-up is reported on its own', () => {
    const rec = new StepRecorder('m', 0, 10, 0, 0);
    // Ramp: 5 in flight for 1 s, then 10 (the target) from t = 1 s; one request short for 1 s of the 4 s held.
    rec.inflight(0, 5);
    rec.inflight(1_000_000, 10);
    rec.inflight(2_000_000, 9);
    rec.inflight(3_000_000, 10);
    const rep = rec.report(5_000_000);
    expect(rep.ramp_up_ms).toBe(1000);
    expect(rep.held_inflight).toBe(9.75);
    expect(rep.achieved_inflight).toBe(8.8);
    // Never reached: no held figure at all.
    const low = new StepRecorder('m', 1, 10, 0, 0);
    low.inflight(0, 4);
    expect(low.report(1_000_000).held_inflight).toBeUndefined();
  });
});

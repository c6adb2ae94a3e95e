/**
 * A level where dsprobe itself was the bottleneck never decides a cap: the live search retries it once and then ends
 * `unclear`; the report's estimator treats it as no evidence (never `found` from client-bound levels alone).
 */
import { describe, expect, test } from 'vitest';
import { nextSearchStep, type LevelResult, type SearchConfig } from '../../src/plan/search.js';
import { nextWarmStep } from '../../src/plan/warm.js';
import { estimateCap } from '../../src/measure/cap.js';
import { StepRecorder } from '../../src/measure/recorder.js';
import { runScenario } from '../../src/run/runner.js';
import { buildReport, type BuildContext } from '../../src/report/build.js';
import { monotonicClock } from '../../src/time/clock.js';
import { seededRandom } from '../../src/time/random.js';
import type { Scenario } from '../../src/scenario/types.js';
import type { Sample, StepReport } from '../../src/types.js';
import { fakeServer } from './fake-server.js';

const cfg: SearchConfig = { start: 4, max: 400, growth: 2, precision: 1, recheck: true };
const clean = (level: number): LevelResult => ({ level, drew429: false, confirmed: true, peakAdmitted: level });
const over = (level: number, held: number): LevelResult => ({ level, drew429: true, confirmed: false, peakAdmitted: held });
const bound = (r: LevelResult, loop = 45): LevelResult => ({ ...r, clientBound: true, clientLoopP99Ms: loop, clientSendLagP99Ms: 3 });

describe('live search: client-bound levels are no evidence', () => {
  test('a client-bound level is tried once more, and the search ends unclear if the client stays the bottleneck', () => {
    const h = [clean(4), bound(clean(8))];
    expect(nextSearchStep(h, cfg)).toMatchObject({ done: false, level: 8 });
    const d = nextSearchStep([...h, bound(clean(8), 61.26)], cfg);
    expect(d).toMatchObject({ done: true, status: 'unclear', low: 4, high: null });
    expect(d.done && d.why).toBe('dsprobe was the bottleneck at level 8 (loop p99 61.3 ms): use --workers, shard, or lower the level');
  });

  test('a client-bound 429 does not set the bracket; a clean retry resumes the climb', () => {
    const h = [clean(4), bound(over(8, 5))];
    expect(nextSearchStep(h, cfg)).toMatchObject({ done: false, level: 8 });
    // The retry held 8 clean: the search climbs as if the client-bound try never happened.
    expect(nextSearchStep([...h, clean(8)], cfg)).toMatchObject({ done: false, level: 16 });
  });

  test('a client-bound level is never `found`: not even at the lowest level', () => {
    const d = nextSearchStep([bound(clean(1)), bound(over(2, 1)), bound(clean(1))], { ...cfg, start: 1 });
    expect(d).toMatchObject({ done: false, level: 1 });
    const e = nextSearchStep([bound(clean(1)), bound(clean(1))], { ...cfg, start: 1 });
    expect(e).toMatchObject({ done: true, status: 'unclear', low: null, high: null });
  });

  test('the warm start retries a client-bound estimate instead of trusting it', () => {
    const warm = { estimate: 10 };
    expect(nextWarmStep([bound(clean(10))], cfg, warm as never)).toMatchObject({ done: false, level: 10 });
    expect(nextWarmStep([bound(clean(10)), clean(10)], cfg, warm as never)).toMatchObject({ done: false, level: 11 });
    expect(nextWarmStep([bound(clean(10)), bound(clean(10))], cfg, warm as never)).toMatchObject({ done: true, status: 'unclear' });
  });
});

/** A step at `level` where `limited` requests got 429 and the server was seen holding `held`; `loopMs`: a worker's loop p99. */
function step(index: number, level: number, limited: number, held: number, loopMs = 2): StepReport {
  const rec = new StepRecorder('deepseek-v4-flash', index, level, index * 1000, 0);
  rec.admitted(held);
  if (held > 0) rec.freshAdmission(held, index * 1000 + 100);
  rec.client.loop(0, 1);
  rec.client.loop(1, loopMs);
  const base: Sample = { id: 0, model: 'm', step: index, target_inflight: level, key_index: 0, intended_us: 0, sent_us: 0, keepalives: 0, end_us: 1000, outcome: 'ok', inflight_at_send: 1 };
  for (let i = 0; i < held; i++) rec.add({ ...base, status: 200, first_token_us: 500 });
  for (let i = 0; i < limited; i++) rec.add({ ...base, status: 429, outcome: 'rate_limited', error: 'Too many requests' });
  rec.endUs = index * 1000 + 900;
  return rec.report(index * 1000 + 900);
}

describe('the verdict a level was decided on is the one its report gives', () => {
  test('samples after the decision (drain, the next warm-up) do not change it', () => {
    const rec = new StepRecorder('m', 0, 10, 0, 0);
    rec.client.loop(0, 5);
    expect(rec.decideClient()).toMatchObject({ clientBound: false, loopP99Ms: 5 });
    rec.client.loop(0, 90); // the drain lagged: not what the level was judged on
    const rep = rec.report(1_000_000);
    expect(rep.client_bound).toBe(false);
    expect(rep.client?.loop_p99_ms).toEqual([5]);
  });
});

describe('estimateCap: client-bound steps are no evidence', () => {
  test('a fully client-bound run is unclear, never a false "found 1"', () => {
    // The same steps without the client's lag read as a cap of 1: proof the fixture would otherwise decide.
    expect(estimateCap([step(0, 1, 0, 1), step(1, 2, 1, 1), step(2, 1, 0, 1)])).toMatchObject({ status: 'found', estimate: 1 });
    const c = estimateCap([step(0, 1, 0, 1, 170), step(1, 2, 1, 1, 180), step(2, 1, 0, 1, 175)]);
    expect(c).toMatchObject({ status: 'unclear', estimate: null, low: null, high: null, unclear_reason: 'client_bound' });
    expect(c.evidence.join(' ')).toMatch(/dsprobe was the bottleneck at level 2 \(loop p99 180\.0 ms\): use --workers, shard, or lower the level/);
    expect(c.history?.map((h) => h.verdict)).toEqual(['undecided', 'undecided', 'undecided']);
  });

  test('levels above the evidence that were client-bound make the run unclear, not "not reached"', () => {
    const c = estimateCap([step(0, 100, 0, 100), step(1, 200, 0, 200, 140)]);
    expect(c).toMatchObject({ status: 'unclear', low: 100, high: null, unclear_reason: 'client_bound' });
    expect(c.evidence.join(' ')).toMatch(/bottleneck at level 200 \(loop p99 140\.0 ms\)/);
  });

  test('a client-bound 429 does not move a bracket the clean evidence decides', () => {
    // 30 clean, 31 over; a client-bound 429 at 20 (below the clean level) is not read as a drop of the cap.
    const c = estimateCap([step(0, 30, 0, 30), step(1, 20, 5, 15, 190), step(2, 31, 1, 30)]);
    expect(c).toMatchObject({ status: 'found', low: 30, high: 31, estimate: 30, moved: false });
  });
});

const ctx = (s: Scenario): BuildContext => ({
  name: s.name, startedAt: new Date(0).toISOString(), seed: s.seed, mode: s.load.mode,
  target: { url: 'mock', protocol: 'openai', mock: true, keys: 1 }, scenario: {}, pricing: s.pricing,
  loop: { delay_p50_ms: 0, delay_p99_ms: 0, delay_max_ms: 0, warning: null }, warnings: [],
});

describe('a run where dsprobe is the bottleneck', () => {
  test('the search stops unclear with what to do, and the report never claims a cap', async () => {
    const clock = monotonicClock();
    const server = fakeServer({ caps: { flash: 37 }, durationMs: 400, clock });
    // The prober's worker reports a saturated loop on every sample: dsprobe is the bottleneck throughout. A high
    // limit keeps the verdict (and its figure) the worker's alone, whatever this machine's own loop does.
    server.health = async () => ({ connect_us: [], threads: [{ thread: 1, p50_ms: 4000, p99_ms: 5000, max_ms: 6000, busy: 1, gc_max_ms: 0 }] });
    const s: Scenario = {
      name: 'client-bound',
      target: { url: 'mock', protocol: 'openai', api_key_env: ['K1'], headers: {} },
      models: [{ name: 'flash', weight: 1 }],
      request: { prompt_tokens: 50, max_tokens: 10, stream: true, system_prefix_tokens: 0, thinking: false, user_id: { strategy: 'none' }, timeout_ms: 60_000 },
      load: { mode: 'search', start: 4, max: 400, hold_ms: 2000, precision: 1, growth: 2, recheck: true },
      stop: {}, expect: [], budget: {}, pricing: {}, seed: 1,
    };
    const r = await runScenario(s, { clock, random: seededRandom(1), prober: server, keys: ['a'], mock: true, clientLagLimitMs: 500 });
    const m = r.models[0]!;
    // The first level, then its one retry: both client-bound, so the search stops without climbing.
    expect(m.levels.map((l) => [l.level, l.clientBound])).toEqual([[4, true], [4, true]]);
    expect(m.ended).toBe('dsprobe was the bottleneck at level 4 (loop p99 5000.0 ms): use --workers, shard, or lower the level');
    const cap = buildReport(ctx(s), r).models[0]!.cap;
    expect(cap).toMatchObject({ status: 'unclear', estimate: null, unclear_reason: 'client_bound' });
  });
});

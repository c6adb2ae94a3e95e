/**
 * An independent stand-in for a capped server behind the Prober seam, on an injected clock (manual in the exact
 * tests): admission with a hard cap (429 at once over it), a fixed service time, and an optional status forced
 * by time (a 503 burst). Test code only: it judges the policies without sharing the mock's code.
 */
import type { Sample } from '../../src/types.js';
import type { Clock } from '../../src/time/clock.js';
import type { Prober, ProbeRequest, ProbeHooks } from '../../src/transport/prober.js';
import { parseScenario } from '../../src/scenario/index.js';
import type { Scenario } from '../../src/scenario/types.js';
import { runScenario } from '../../src/run/runner.js';
import { buildReport, type BuildContext } from '../../src/report/build.js';
import { manualClock } from '../../src/time/clock.js';
import { seededRandom } from '../../src/time/random.js';

export interface ClockServerOptions {
  cap: number;
  durationUs: number;
  clock: Clock;
  /** A status to answer at once at time t (µs on the clock), e.g. 503 during a burst; undefined = serve. */
  forced?: (tUs: number) => number | undefined;
}

export function clockServer(opts: ClockServerOptions): Prober & { inflight: number; maxSeen: number; sent: ProbeRequest[] } {
  const { clock } = opts;
  const state = { inflight: 0, maxSeen: 0, sent: [] as ProbeRequest[] };
  return Object.assign(state, {
    send(req: ProbeRequest, signal?: AbortSignal, hooks?: ProbeHooks): Promise<Sample> {
      state.sent.push(req);
      const sent = clock.nowUs();
      const base: Sample = {
        id: req.id, model: req.model, step: req.step, target_inflight: req.target_inflight, key_index: req.key_index,
        intended_us: req.intended_us, sent_us: sent, keepalives: 0, end_us: sent, outcome: 'ok', inflight_at_send: req.inflight_at_send,
      };
      const forced = opts.forced?.(sent);
      if (forced !== undefined) {
        hooks?.onHeaders?.(req, forced, sent);
        const outcome = forced === 429 ? 'rate_limited' : forced >= 500 ? 'server_error' : 'client_error';
        return Promise.resolve({ ...base, status: forced, headers_us: sent, outcome, detail: `http_${forced}` });
      }
      if (state.inflight >= opts.cap) {
        hooks?.onHeaders?.(req, 429, sent);
        return Promise.resolve({ ...base, status: 429, headers_us: sent, outcome: 'rate_limited', detail: 'http_429', server_concurrency: state.inflight });
      }
      state.inflight++;
      state.maxSeen = Math.max(state.maxSeen, state.inflight);
      hooks?.onHeaders?.(req, 200, sent);
      return new Promise((resolve) => {
        let done = false;
        const finish = (outcome: Sample['outcome']) => {
          if (done) return;
          done = true;
          state.inflight--;
          resolve({
            ...base, status: 200, headers_us: sent, first_byte_us: sent, first_data_us: sent, first_token_us: sent,
            end_us: clock.nowUs(), outcome, usage: { prompt_tokens: 10, completion_tokens: 5, cache_hit_tokens: 0, cache_miss_tokens: 10, reasoning_tokens: 0 },
          });
        };
        if (signal?.aborted) return finish('aborted');
        signal?.addEventListener('abort', () => finish('aborted'), { once: true });
        void clock.sleepUntil(sent + opts.durationUs).then(() => finish('ok'));
      });
    },
    async close() {},
  });
}

/** Runs `p` to completion on a manual clock: lets every pending callback run, then moves time by `stepUs`. */
export async function drive<T>(clock: { advance(us: number): void }, p: Promise<T>, stepUs: number, maxSteps = 1_000_000): Promise<T> {
  let settled = false;
  let value!: T;
  void p.then((v) => {
    settled = true;
    value = v;
  });
  for (let i = 0; i < maxSteps && !settled; i++) {
    for (let j = 0; j < 3; j++) await new Promise<void>((r) => setImmediate(r));
    if (!settled) clock.advance(stepUs);
  }
  if (!settled) throw new Error('did not finish');
  return value;
}

/** A rate-mode scenario (one model `m`) from a YAML tail, through the real reader. */
export function scenario(yaml: string): Scenario {
  const r = parseScenario(`target: { url: mock }\nmodels: { m: {} }\nrequest: { timeout: 1m }\n${yaml}`, 'rate.yaml');
  if (!r.scenario) throw new Error(JSON.stringify(r.problems));
  return r.scenario;
}

const ctx = (s: Scenario): BuildContext => ({
  name: s.name, startedAt: new Date(0).toISOString(), seed: s.seed, mode: s.load.mode,
  target: { url: 'mock', protocol: 'openai', mock: true, keys: 1 }, scenario: {}, pricing: s.pricing,
  loop: { delay_p50_ms: 0, delay_p99_ms: 0, delay_max_ms: 0, warning: null }, warnings: [], expect: s.expect,
});

/** Runs a scenario through the real runner on a manual clock against a clockServer; returns the report. */
export async function rehearse(s: Scenario, server: (clock: ReturnType<typeof manualClock>) => ReturnType<typeof clockServer>, stepUs = 1000) {
  const clock = manualClock();
  const prober = server(clock);
  const samples: Sample[] = [];
  const run = runScenario(s, { clock, random: seededRandom(s.seed), prober, keys: ['k'], mock: true, clientLagLimitMs: Infinity, onSample: (x) => samples.push(x), wait: (t, sig) => clock.sleepUntil(t, sig) });
  const r = await drive(clock, run, stepUs);
  return { report: buildReport(ctx(s), r), samples, prober };
}


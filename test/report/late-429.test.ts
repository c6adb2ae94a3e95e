/**
 * A 429 is evidence against the level the server was counting when it refused, not only the level the request was
 * sent at. A ramp request sent at the very end of level 20 and refused once level 30 has filled the cap belongs to
 * 30's evidence: counted in 20's figures (it was sent there), but it must not make 20 read as over the cap.
 * Rebuilt reports and live runs share the attribution (measure/recorder.ts attributeLate429).
 */
import { describe, expect, test } from 'vitest';
import { buildReportFromSamples, type SamplesHeader, type StepMarker } from '../../src/report/build.js';
import type { Sample } from '../../src/types.js';

const header: SamplesHeader = {
  kind: 'dsprobe.samples/v1',
  name: 'late',
  started_at: '2026-12-02T00:00:00.000Z',
  seed: 1,
  mode: 'ramp',
  target: { url: 'http://127.0.0.1:1', protocol: 'openai', mock: false, keys: 1 },
  scenario: {},
  models: [{ name: 'deepseek-v4-flash', weight: 1 }],
  pricing: {},
};

let nextId = 0;
function sample(step: number, target: number, sent: number, headers: number, end: number, status: number): Sample {
  return {
    id: nextId++,
    model: 'deepseek-v4-flash',
    step,
    target_inflight: target,
    key_index: 0,
    intended_us: sent,
    sent_us: sent,
    headers_us: headers,
    status,
    keepalives: 0,
    end_us: end,
    outcome: status === 429 ? 'rate_limited' : 'ok',
    inflight_at_send: 1,
  };
}

function marker(step: number, target: number, t: number): StepMarker {
  return { kind: 'step', model: 'deepseek-v4-flash', step, target, t_us: t };
}

describe('a 429 answered once a higher level was current', () => {
  test('is evidence against the higher level; the level it was sent at still counts it in its figures', () => {
    const samples: Sample[] = [];
    // Level 20 (0 to 1 s): 20 requests admitted at once and open past the step's end: the level was held.
    for (let i = 0; i < 20; i++) samples.push(sample(0, 20, 1_000 + i, 10_000 + i, 2_000_000, 200));
    // Sent at the very end of 20 (a refill), refused once 30 had filled the cap.
    samples.push(sample(0, 20, 999_000, 1_020_000, 1_021_000, 429));
    // Level 30 (from 1 s): ten more, five admitted and five refused.
    for (let i = 0; i < 10; i++) samples.push(sample(1, 30, 1_000_100 + i, 1_010_000 + i, i < 5 ? 2_000_000 : 1_011_000 + i, i < 5 ? 200 : 429));
    const r = buildReportFromSamples(header, samples, undefined, [marker(0, 20, 0), marker(1, 30, 1_000_000)]);
    const [s20, s30] = r.models[0]!.steps;
    expect(s20!.rate_limited).toBe(1);
    expect(s20!.rate_limited_late).toBe(1);
    expect(s30!.rate_limited).toBe(5);
    expect(s30!.rate_limited_from_below).toBe(1);
    const cap = r.models[0]!.cap;
    expect(cap.low).toBe(20);
    expect(cap.high).toBe(30);
    expect(cap.history?.map((h) => h.verdict)).toEqual(['clean', 'over']);
  });

  test('a 429 answered after a step down stays with the (higher) level it was sent at', () => {
    const samples: Sample[] = [];
    for (let i = 0; i < 30; i++) samples.push(sample(0, 30, 1_000 + i, 10_000 + i, 2_000_000, i < 25 ? 200 : 429));
    // Sent at 30, answered while the lower level 20 was current.
    samples.push(sample(0, 30, 990_000, 1_050_000, 1_051_000, 429));
    for (let i = 0; i < 20; i++) samples.push(sample(1, 20, 1_100_000 + i, 1_110_000 + i, 3_000_000, 200));
    const r = buildReportFromSamples(header, samples, undefined, [marker(0, 30, 0), marker(1, 20, 1_000_000)]);
    const [s30, s20] = r.models[0]!.steps;
    expect(s30!.rate_limited).toBe(6);
    expect(s30!.rate_limited_late).toBe(0);
    expect(s20!.rate_limited_from_below).toBe(0);
    expect(r.models[0]!.cap.high).toBe(30);
  });
});

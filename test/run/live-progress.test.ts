/**
 * Issue 14: the live TTFT comes from first tokens as they arrive (not from finished requests), and a model whose
 * search is done says "done: cap N (draining M)" on the progress display.
 */
import { afterEach, describe, expect, test } from 'vitest';
import path from 'node:path';
import { startMock } from '../../src/mock/index.js';
import { monotonicClock } from '../../src/time/clock.js';
import { createProber, type ProbeRequest } from '../../src/transport/prober.js';
import { StepRecorder } from '../../src/measure/recorder.js';
import { stateOf } from '../../src/cli/progress.js';
import { dsprobe, tmpDir, writeScenario } from '../helpers/cli.js';

const clock = monotonicClock();
const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const o of open.splice(0).reverse()) await o.close();
});

describe('live TTFT', () => {
  test.each(['openai', 'anthropic'] as const)('%s: onFirstToken fires when the first token arrives, long before the stream ends', async (protocol) => {
    // 40 answer tokens 25 ms apart: the stream runs ~1 s after its first token.
    const mock = await startMock({ host: '127.0.0.1', port: 0, latency: { prefill_overhead: '5ms', prefill_per_token: 0, inter_token: '25ms', jitter: 0, answer_tokens: { min: 40, max: 40 } } });
    open.push(mock);
    const prober = createProber({ baseUrl: protocol === 'anthropic' ? `${mock.url}/anthropic` : mock.url, protocol, clock });
    open.push(prober);
    const now = clock.nowUs();
    const req: ProbeRequest = {
      id: 0, model: 'deepseek-v4-flash', step: 0, target_inflight: 1, inflight_at_send: 1, key_index: 0, apiKey: 'sk-x',
      system: '', prompt: 'hi', max_tokens: 64, stream: true, thinking: false, intended_us: now, deadline_us: now + 20_000_000,
    };
    const seen: { at: number; sent: number; clockAt: number }[] = [];
    const s = await prober.send(req, undefined, { onFirstToken: (_r, at, sent) => seen.push({ at, sent, clockAt: clock.nowUs() }) });
    expect(s.outcome).toBe('ok');
    expect(seen).toHaveLength(1);
    expect(seen[0]!.at).toBe(s.first_token_us);
    expect(seen[0]!.sent).toBe(s.sent_us);
    // Called while the stream was still running: well before its end.
    expect(s.end_us - seen[0]!.clockAt).toBeGreaterThan(500_000);
  });

  test('the recorder shows a first token live, and does not count it twice when the request ends', () => {
    const rec = new StepRecorder('m', 0, 10, 0, 0);
    rec.firstToken(120_000);
    expect(rec.live().ttft_p50_ms).toBe(120);
    rec.add({ outcome: 'ok', sent_us: 0, first_token_us: 120_000, end_us: 900_000, status: 200, keepalives: 0, token_events: 3 } as never, true);
    rec.firstToken(300_000);
    expect(rec.live().ttft_p99_ms).toBe(300);
    expect(rec.live().ttft_p50_ms).toBe(300); // two live values (120, 300): p50 index 1 → 300; a double count would give 120
  });

  test('the live TTFT keeps the most recent first tokens only, however long the run (bounded memory)', () => {
    const rec = new StepRecorder('m', 0, 10, 0, 0);
    // 5,000 first tokens of 1..5000 ms, live and from finished requests alike: only the last LIVE_TTFT_KEPT count.
    for (let ms = 1; ms <= 5000; ms++) {
      if (ms % 2) rec.firstToken(ms * 1000);
      else rec.add({ outcome: 'ok', sent_us: 0, first_token_us: ms * 1000, end_us: ms * 1000 + 1, status: 200, keepalives: 0, token_events: 1 } as never, false);
    }
    // Kept: 3977..5000 ms; p50 index 512 -> 4489 ms (every value kept would give 2500).
    expect(rec.live().ttft_p50_ms).toBe(4489);
    expect(rec.live().ttft_p99_ms).toBe(4990);
  });
});

describe('progress: a model whose search is done', () => {
  test('the state line', () => {
    expect(stateOf({ ended: 'running' }, 40)).toBe('running');
    expect(stateOf({ ended: 'bracket', decided: { status: 'found', cap: 2500 } }, 451)).toBe('done: cap 2500 (draining 451)');
    expect(stateOf({ ended: 'bracket', decided: { status: 'found', cap: 2500 } }, 0)).toBe('done: cap 2500');
    expect(stateOf({ ended: 'x', decided: { status: 'not_reached', cap: 100 } }, 3)).toBe('done: no cap up to the max (draining 3)');
  });

  test('plain lines (no terminal) say "done: cap N (draining M)" as soon as the search decided', async () => {
    const dir = tmpDir();
    const file = writeScenario(dir, 's.yaml', `
target: { url: mock }
models: { deepseek-v4-flash: {}, deepseek-v4-pro: {} }
request: { prompt_tokens: 50, max_tokens: 200, stream: true }
load: { mode: search, start: 4, max: 100, hold: 5s }
mock:
  caps: { deepseek-v4-flash: 20, deepseek-v4-pro: 8 }
  latency: { answer_tokens: 200, inter_token: 10ms, chunk_tokens: 8 }
`);
    const r = await dsprobe(['run', file, '--out', path.join(dir, 'out')]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/\] deepseek-v4-flash done: cap 20 \(draining \d+\)\n/);
    expect(r.stderr).toMatch(/\] deepseek-v4-pro done: cap 8 \(draining \d+\)\n/);
  });
});

/**
 * The prober against dsprobe's own mock (src/mock): real HTTP on loopback, every fault the mock can inject
 * becomes its documented outcome (docs/outcomes.md), and keep-alive queueing is measured.
 */
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { startMock, type MockConfigInput, type MockHandle } from '../../src/mock/index.js';
import { monotonicClock } from '../../src/time/clock.js';
import { type ProbeRequest, type Prober } from '../../src/transport/prober.js';
import { createEngineProber } from '../../src/transport/workers/index.js';
import type { Sample } from '../../src/types.js';

const clock = monotonicClock();
const KEY = 'sk-mock-test-0123456789';
const FAST: MockConfigInput['latency'] = {
  prefill_overhead: '2ms',
  prefill_per_token: 0,
  inter_token: '1ms',
  jitter: 0,
  answer_tokens: { min: 5, max: 5 },
  reasoning_tokens: { min: 3, max: 3 },
};

const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const o of open.splice(0).reverse()) await o.close();
});

/** Every test runs with requests on the main thread (1) and on two worker threads (2). */
let workers = 1;

async function setup(config: MockConfigInput, protocol: 'openai' | 'anthropic' = 'openai'): Promise<{ mock: MockHandle; prober: Prober }> {
  const mock = await startMock({ host: '127.0.0.1', port: 0, latency: FAST, keepalive_interval: '2ms', ...config });
  open.push(mock);
  const prober = createEngineProber({ baseUrl: protocol === 'anthropic' ? `${mock.url}/anthropic` : mock.url, protocol, clock, workers });
  open.push(prober);
  // As the runner does before a level's clock starts: threads up, a connection open (the deadlines are tight).
  await prober.warm?.(1);
  return { mock, prober };
}

function req(over: Partial<ProbeRequest> = {}): ProbeRequest {
  const now = clock.nowUs();
  return {
    id: 0, model: 'deepseek-v4-flash', step: 0, target_inflight: 1, inflight_at_send: 1, key_index: 0, apiKey: KEY,
    system: 'You are terse.', prompt: 'Say hi.', max_tokens: 64, stream: true, thinking: false,
    intended_us: now, deadline_us: now + 20_000_000, ...over,
  };
}

describe.each([1, 2])('prober against the mock (%i worker thread(s))', (n) => {
  beforeEach(() => {
    workers = n;
  });

  test.each([
    ['openai', true],
    ['openai', false],
    ['anthropic', true],
    ['anthropic', false],
  ] as const)('%s stream=%s with thinking: ok, tokens, usage, trace id', async (protocol, stream) => {
    const { prober } = await setup({}, protocol);
    const s = await prober.send(req({ stream, thinking: true }));
    expect(s).toMatchObject({ outcome: 'ok', status: 200, keepalives: 0 });
    expect(s.usage?.completion_tokens).toBeGreaterThan(0);
    expect(s.usage?.prompt_tokens).toBeGreaterThan(0);
    expect(s.trace_id).toBeTruthy();
    if (stream) {
      expect(s.token_events).toBe(8); // 3 reasoning + 5 answer tokens, one per chunk
      expect(s.first_token_us as number).toBeGreaterThanOrEqual(s.first_data_us as number);
    }
  });

  test('the prompt reaches the server whole; the request the caller holds lets go of its text', async () => {
    const { prober } = await setup({});
    const short = await prober.send(req({ id: 1, prompt: 'Say hi.' }));
    const r = req({ id: 2, prompt: 'word '.repeat(2000) });
    const s = await prober.send(r);
    expect(s.outcome).toBe('ok');
    // The mock counts the prompt it received: 10,000 characters more is about 2,500 tokens more.
    expect((s.usage?.prompt_tokens ?? 0) - (short.usage?.prompt_tokens ?? 0)).toBeGreaterThan(2000);
    expect([r.prompt, r.system]).toEqual(['', '']);
  });

  test('cap 3: three held streams are admitted, the fourth gets 429 quoting the concurrency', async () => {
    const { prober } = await setup({ caps: { 'deepseek-v4-flash': 3 }, latency: { ...FAST, inter_token: '200ms' } });
    // Send the fourth once the three are admitted (their headers arrived).
    let admitted!: () => void;
    const all = new Promise<void>((r) => (admitted = r));
    let n = 0;
    const hooks = { onHeaders: () => ++n === 3 && admitted() };
    const held = [1, 2, 3].map((id) => prober.send(req({ id }), undefined, hooks));
    await all;
    const s = await prober.send(req({ id: 4 }));
    expect(s).toMatchObject({ outcome: 'rate_limited', status: 429, detail: 'http_429', server_concurrency: 3 });
    const rest = await Promise.all(held);
    expect(rest.map((x) => x.outcome)).toEqual(['ok', 'ok', 'ok']);
  });

  test('queued behind one slot: keep-alives first, then data; wait measured against the mock', async () => {
    const { prober } = await setup({ slots: { 'deepseek-v4-flash': 1 }, latency: { ...FAST, inter_token: '10ms' } });
    const [a, b] = await Promise.all([prober.send(req({ id: 1 })), prober.send(req({ id: 2 }))]);
    const queued = [a, b].find((s) => s.keepalives > 0) as Sample;
    expect(queued).toBeDefined();
    expect(queued.outcome).toBe('ok');
    expect(queued.first_data_us as number).toBeGreaterThan(queued.first_keepalive_us as number);
  });

  test('queue timeout (error_body mode) and (cut mode)', async () => {
    const base = { slots: { 'deepseek-v4-flash': 1 }, latency: { ...FAST, prefill_overhead: '1h' }, queue_timeout: '60ms' };
    // One slot whose holder never starts (an hour of prefill): the other request waits in the queue until the
    // mock's queue timeout; the holder runs into dsprobe's own deadline.
    const kinds = (xs: Sample[]) => xs.map((x) => `${x.outcome}:${x.detail}`).sort();
    const e = await setup({ ...base, queue_timeout_mode: 'error_body' });
    const dl = () => clock.nowUs() + 400_000;
    const xs = await Promise.all([e.prober.send(req({ id: 1, deadline_us: dl() })), e.prober.send(req({ id: 2, deadline_us: dl() }))]);
    expect(kinds(xs)).toEqual(['server_error:queue_timeout', 'timeout:deadline']);
    expect(xs.find((x) => x.detail === 'queue_timeout')?.keepalives).toBeGreaterThan(0);
    const b = await setup({ ...base, queue_timeout_mode: 'error_body' });
    const bs = await Promise.all([b.prober.send(req({ id: 1, stream: false, deadline_us: dl() })), b.prober.send(req({ id: 2, stream: false, deadline_us: dl() }))]);
    expect(kinds(bs)).toEqual(['server_error:queue_timeout', 'timeout:deadline']);
    const c = await setup({ ...base, queue_timeout_mode: 'cut' });
    const ys = await Promise.all([c.prober.send(req({ id: 1, deadline_us: dl() })), c.prober.send(req({ id: 2, deadline_us: dl() }))]);
    expect(kinds(ys)).toEqual(['network:cut_while_queued', 'timeout:deadline']);
  });

  const faults: [string, MockConfigInput['faults'], Partial<ProbeRequest>, Partial<Sample>][] = [
    ['http_error 503', [{ kind: 'http_error', status: 503 }], {}, { outcome: 'server_error', detail: 'http_503', status: 503 }],
    ['http_error 400', [{ kind: 'http_error', status: 400, message: 'Model Not Exist' }], {}, { outcome: 'client_error', detail: 'http_400', error: 'Model Not Exist' }],
    ['html_gateway', [{ kind: 'html_gateway' }], {}, { outcome: 'server_error', detail: 'http_502', error: '502 Bad Gateway' }],
    ['error_after_headers (stream)', [{ kind: 'error_after_headers' }], {}, { outcome: 'server_error', detail: 'mid_stream_error', status: 200 }],
    ['error_after_headers (body)', [{ kind: 'error_after_headers' }], { stream: false }, { outcome: 'server_error', detail: 'error_body', status: 200 }],
    ['blank_only (stream)', [{ kind: 'blank_only', duration: '20ms' }], {}, { outcome: 'protocol', detail: 'empty_body' }],
    ['blank_only (body)', [{ kind: 'blank_only', duration: '20ms' }], { stream: false }, { outcome: 'protocol', detail: 'empty_body' }],
    ['disconnect mid-stream', [{ kind: 'disconnect', after_tokens: 2 }], {}, { outcome: 'network', detail: 'cut_mid_stream', token_events: 2 }],
    ['disconnect (body)', [{ kind: 'disconnect' }], { stream: false }, { outcome: 'network', detail: 'reset' }],
    ['malformed_chunk (stream)', [{ kind: 'malformed_chunk', after_tokens: 1 }], {}, { outcome: 'protocol', detail: 'bad_json' }],
    ['malformed_chunk (body)', [{ kind: 'malformed_chunk' }], { stream: false }, { outcome: 'protocol', detail: 'bad_json' }],
    ['mid_stream_error', [{ kind: 'mid_stream_error', after_tokens: 2 }], {}, { outcome: 'server_error', detail: 'mid_stream_error', token_events: 2 }],
    ['finish_reason', [{ kind: 'finish_reason', reason: 'insufficient_system_resource', after_tokens: 1 }], {}, { outcome: 'ok', finish_reason: 'insufficient_system_resource' }],
    ['forced_queue', [{ kind: 'forced_queue', duration: '30ms' }], {}, { outcome: 'ok' }],
    ['slow_headers', [{ kind: 'slow_headers', duration: '20ms' }], {}, { outcome: 'ok' }],
    ['stall past the deadline', [{ kind: 'stall', duration: '1h', after_tokens: 1 }], { deadline_us: 300_000 }, { outcome: 'timeout', detail: 'deadline', token_events: 1 }],
  ];
  test.each(faults)('fault %s', async (_name, f, over, want) => {
    const { prober } = await setup({ faults: f });
    // `deadline_us` in the table is relative to the send; the default leaves ample time.
    const r = req({ ...over, deadline_us: clock.nowUs() + (over.deadline_us ?? 1_500_000) });
    const s = await prober.send(r);
    expect(s).toMatchObject(want);
    if (want.outcome === 'timeout') expect(s.end_us).toBeGreaterThanOrEqual(r.deadline_us);
    if (_name === 'forced_queue') expect(s.keepalives).toBeGreaterThan(0);
    expect(JSON.stringify(s)).not.toContain(KEY);
  });

  test('anthropic surface: 429 and a mid-stream error event', async () => {
    const { prober } = await setup({ caps: { 'deepseek-v4-flash': 1 }, latency: { ...FAST, inter_token: '200ms' } }, 'anthropic');
    let admitted!: () => void;
    const headers = new Promise<void>((r) => (admitted = r));
    const held = prober.send(req({ id: 1 }), undefined, { onHeaders: () => admitted() });
    await headers;
    expect(await prober.send(req({ id: 2 }))).toMatchObject({ outcome: 'rate_limited', server_concurrency: 1 });
    await held;
    const e = await setup({ faults: [{ kind: 'mid_stream_error', after_tokens: 1 }] }, 'anthropic');
    expect(await e.prober.send(req())).toMatchObject({ outcome: 'server_error', detail: 'mid_stream_error' });
  });
});

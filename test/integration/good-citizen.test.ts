/**
 * A good citizen on a paid account (issue 10), through the real CLI: 429 backoff bounds the refusals a level over
 * the cap draws, stop rules stop a search, fatal answers stop a run after a handful of requests, every key is
 * checked, and the budget is never passed. The refusal counts are judged by an independent server (test code, not
 * the mock) and by the mock.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { dsprobe, readReport, tmpDir, writeScenario } from '../helpers/cli.js';
import { startCapServer, type CapServer } from '../helpers/cap-server.js';
import { expectedRefusalsPerSlot } from '../../src/plan/backoff.js';
import type { Sample } from '../../src/types.js';
import { priceOf } from '../../src/run/budget.js';

const readSamples = (dir: string): Sample[] =>
  fs
    .readFileSync(path.join(dir, 'samples.ndjson'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l))
    .filter((x) => x.kind === undefined && x.id !== undefined);

const DEFAULT_BACKOFF = { enabled: true, base_ms: 1000, factor: 2, cap_ms: 30_000 };

describe('429 backoff: a level over the cap draws about (slots over) / backoff refusals per second', () => {
  let server: CapServer;
  beforeAll(async () => {
    // Requests stay open 8 s, longer than the hold: the 10 admitted slots never free up.
    server = await startCapServer({ caps: { 'deepseek-v4-flash': 10 }, tokens: 80, tokenMs: 100 });
  });
  afterAll(async () => server?.close());

  const ramp = (dir: string, extra = '') =>
    writeScenario(
      dir,
      'over.yaml',
      `
name: over-cap
target: { url: "${server.url}", api_key_env: K }
models:
  deepseek-v4-flash: {}
request: { prompt_tokens: 20, max_tokens: 80, stream: true }
load: { mode: ramp, stages: [{ inflight: 30, hold: 4s }], drain: 1s${extra} }
stop: { max_429_rate: 100% }
`,
    );

  test('independent server: 20 slots over the cap for 4 s draw tens of 429s, not thousands', async () => {
    const dir = tmpDir();
    const before = server.answers.length;
    const r = await dsprobe(['run', ramp(dir), '--yes', '--quiet', '--out', path.join(dir, 'out')], { env: { K: 'sk-test-key-000001' } });
    expect(r.code, r.stderr).toBe(0);
    // The pre-flight's small requests (max_tokens 1) are not part of the run.
    const run = server.answers.slice(before).filter((a) => a.max_tokens !== 1);
    const refused = run.filter((a) => a.status === 429);
    const first = Math.min(...refused.map((a) => a.t_ms));
    const last = Math.max(...refused.map((a) => a.t_ms));
    const perSecond = refused.length / Math.max(1, (last - first) / 1000);
    // Expected: each of the 20 slots over the cap is refused at once, then after each mean backoff delay.
    const expected = 20 * expectedRefusalsPerSlot(DEFAULT_BACKOFF, 4000, 10);
    expect(refused.length).toBeGreaterThanOrEqual(20);
    expect(refused.length).toBeLessThanOrEqual(expected * 2);
    expect(perSecond).toBeLessThan(40); // instant refill drew ~6,000/s
    // The report shows the slots waiting on backoff over time.
    const rep = readReport(path.join(dir, 'out'));
    expect(Math.max(...rep.timeline.map((p) => p.backoff_waiting ?? 0))).toBeGreaterThan(0);
    expect(Math.max(...rep.timeline.map((p) => p.backoff_waiting ?? 0))).toBeLessThanOrEqual(20);
  });

  test('`on_429: { backoff: false }` is the deliberate storm: many times more refusals', async () => {
    const dir = tmpDir();
    const before = server.answers.length;
    const r = await dsprobe(['run', ramp(dir, ', on_429: { backoff: false }').replace('hold: 4s', 'hold: 1s'), '--yes', '--quiet', '--out', path.join(dir, 'out')], {
      env: { K: 'sk-test-key-000001' },
    });
    expect(r.code, r.stderr).toBe(0);
    const refused = server.answers.slice(before).filter((a) => a.max_tokens !== 1 && a.status === 429).length;
    // With the backoff, 1 s over the cap is ~20 refusals; without it, a tight loop.
    expect(refused).toBeGreaterThan(200);
  });
});

describe('429 backoff against the mock', () => {
  test('a ramp step over the mock cap: refusals bounded by the backoff; plan within 1.5x of the run', async () => {
    const dir = tmpDir();
    const file = writeScenario(
      dir,
      'mock-over.yaml',
      `
name: mock-over
target: { url: mock }
models:
  deepseek-v4-flash: {}
request: { prompt_tokens: 20, max_tokens: 200, stream: true }
load: { mode: ramp, stages: [{ inflight: 8, hold: 1s }, { inflight: 20, hold: 3s }], drain: 1s }
stop: { max_429_rate: 100% }
mock:
  caps: { deepseek-v4-flash: 8 }
  latency: { answer_tokens: 200 }
`,
    );
    const out = path.join(dir, 'out');
    const r = await dsprobe(['run', file, '--quiet', '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    const samples = readSamples(out);
    const refused = samples.filter((s) => s.outcome === 'rate_limited').length;
    expect(refused).toBeGreaterThanOrEqual(12);
    expect(refused).toBeLessThanOrEqual(12 * expectedRefusalsPerSlot(DEFAULT_BACKOFF, 3000, 10) * 2);
    const plan = JSON.parse((await dsprobe(['plan', file, '--json'])).stdout);
    expect(samples.length).toBeLessThanOrEqual(plan.worst_case.requests * 1.5);
  });
});

describe('stop rules and fatal answers', () => {
  test('search with a 503 rate over stop.max_error_rate ends unclear, with the reason', async () => {
    const dir = tmpDir();
    const file = writeScenario(
      dir,
      'e503.yaml',
      `
name: e503
target: { url: mock }
models:
  deepseek-v4-flash: {}
request: { prompt_tokens: 20, max_tokens: 50 }
load: { mode: search, start: 20, max: 400, hold: 2s }
stop: { max_error_rate: 10% }
mock:
  time_scale: 0.1
  faults:
    - { kind: http_error, status: 503, rate: 55% }
`,
    );
    const out = path.join(dir, 'out');
    const r = await dsprobe(['run', file, '--quiet', '--out', out]);
    const rep = readReport(out);
    expect(rep.models[0]!.cap.status).toBe('unclear');
    expect(rep.models[0]!.cap.evidence[0]).toMatch(/error rate \d+\.\d% \(\d+ of \d+\) > stop\.max_error_rate 10\.0%/);
    // It stopped at the first level: no climb on errors.
    expect(Math.max(...rep.models[0]!.steps.map((s) => s.target_inflight))).toBe(20);
    expect(r.stdout).toMatch(/search stopped at 20 in flight/);
  });

  test('a wrong model id: a handful of requests, exit 3, the server\'s message printed (mock)', async () => {
    const dir = tmpDir();
    const file = writeScenario(
      dir,
      'typo.yaml',
      `
name: typo
target: { url: mock }
models:
  deepseek-v4-flsh: {}
request: { prompt_tokens: 20, max_tokens: 50 }
load: { mode: search, start: 50, max: 3000, hold: 2s }
`,
    );
    const out = path.join(dir, 'out');
    const r = await dsprobe(['run', file, '--quiet', '--out', out]);
    expect(r.code).toBe(3);
    expect(r.stdout + r.stderr).toMatch(/model deepseek-v4-flsh was refused: HTTP 400 on its first 3 requests, the server said: Model Not Exist/);
    const n = readSamples(out).length;
    expect(n).toBeGreaterThanOrEqual(3);
    expect(n).toBeLessThanOrEqual(6);
    // validate warns before anything is sent.
    const v = await dsprobe(['validate', file]);
    expect(v.stderr).toMatch(/model deepseek-v4-flsh is not served by the mock/);
  });

  test('a refused second key at run time (mock target, no pre-flight): exit 3 naming its env var, never the key', async () => {
    const dir = tmpDir();
    const file = writeScenario(
      dir,
      'keys.yaml',
      `
name: keys
target: { url: mock, api_key_env: [GOOD_KEY, BAD_KEY] }
models:
  deepseek-v4-flash: {}
request: { prompt_tokens: 20, max_tokens: 50 }
load: { mode: search, start: 20, max: 400, hold: 2s }
mock:
  strict_auth: true
  time_scale: 0.1
  accounts: [{ name: team, keys: [sk-good-key-123456] }]
`,
    );
    const out = path.join(dir, 'out');
    const r = await dsprobe(['run', file, '--quiet', '--out', out], { env: { GOOD_KEY: 'sk-good-key-123456', BAD_KEY: 'sk-bad-key-654321' } });
    expect(r.code).toBe(3);
    expect(r.stdout).toMatch(/the key in BAD_KEY was refused/);
    expect(r.stdout).toMatch(/HTTP 401/);
    expect(r.stdout + r.stderr + fs.readFileSync(path.join(out, 'report.json'), 'utf8')).not.toContain('sk-bad-key-654321');
    expect(readSamples(out).filter((s) => s.status === 401).length).toBeLessThanOrEqual(40);
  });
});

describe('against a real (independent) target', () => {
  let server: CapServer;
  beforeAll(async () => {
    server = await startCapServer({ caps: { 'deepseek-v4-flash': 50 }, keys: ['sk-first-good-key-1'], tokens: 5, tokenMs: 20 });
  });
  afterAll(async () => server?.close());

  const scenario = (dir: string, model = 'deepseek-v4-flash', keys = '[FIRST_KEY, SECOND_KEY]') =>
    writeScenario(
      dir,
      'real.yaml',
      `
name: real
target: { url: "${server.url}", api_key_env: ${keys} }
models:
  ${model}: {}
request: { prompt_tokens: 20, max_tokens: 5 }
load: { mode: search, start: 10, max: 40, hold: 1s }
`,
    );

  test('pre-flight checks every key: a refused second key exits 3 naming its env var', async () => {
    const dir = tmpDir();
    const before = server.answers.length;
    const r = await dsprobe(['run', scenario(dir), '--yes', '--quiet', '--out', path.join(dir, 'out')], {
      env: { FIRST_KEY: 'sk-first-good-key-1', SECOND_KEY: 'sk-second-wrong-key-2' },
    });
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/authentication failed .* for the key in SECOND_KEY/);
    expect(r.stdout + r.stderr).not.toContain('sk-second-wrong-key-2');
    // Nothing was sent to the chat endpoint.
    expect(server.answers.length).toBe(before);
  });

  test('a wrong model id: at most a handful of requests reach the server, exit 3 with its message', async () => {
    const dir = tmpDir();
    const before = server.answers.length;
    const r = await dsprobe(['run', scenario(dir, 'deepseek-v4-flsh', 'FIRST_KEY'), '--yes', '--quiet', '--out', path.join(dir, 'out')], {
      env: { FIRST_KEY: 'sk-first-good-key-1' },
    });
    expect(r.code).toBe(3);
    expect(r.stdout + r.stderr).toMatch(/Model Not Exist/);
    const run = server.answers.slice(before).filter((a) => a.max_tokens !== 1);
    expect(run.every((a) => a.status === 400)).toBe(true);
    expect(run.length).toBeLessThanOrEqual(6);
  });
});

describe('hard budget', () => {
  test('a ramp far over budget stops without spending past max_usd; the report shows set, spent, reserved', async () => {
    const dir = tmpDir();
    const file = writeScenario(
      dir,
      'budget.yaml',
      `
name: budget
target: { url: mock }
models:
  deepseek-v4-pro: {}
request: { prompt_tokens: 1000, max_tokens: 300 }
load: { mode: ramp, start: 50, step: 50, max: 200, hold: 2s }
budget: { max_usd: 0.03 }
mock:
  time_scale: 0.2
  caps: { deepseek-v4-pro: 10000 }
`,
    );
    const out = path.join(dir, 'out');
    const r = await dsprobe(['run', file, '--quiet', '--out', out]);
    expect(r.code).toBe(3);
    const rep = readReport(out);
    expect(rep.status).toBe('budget_exceeded');
    expect(rep.budget).toMatchObject({ max_usd: 0.03, reserved_usd: 0 });
    expect(rep.budget!.spent_usd).toBeLessThanOrEqual(0.03);
    expect(rep.budget!.spent_usd).toBeGreaterThan(0.02);
    // Spent is the usage the samples carry, priced; the report's cost agrees.
    const pricing = { 'deepseek-v4-pro': { input_cache_hit: 0.145, input_cache_miss: 1.74, output: 3.48 } };
    const fromSamples = readSamples(out).reduce((a, s) => a + priceOf(s, pricing), 0);
    expect(rep.budget!.spent_usd).toBeCloseTo(fromSamples, 5);
    expect(rep.cost.usd).toBeCloseTo(fromSamples, 5);
  });
});

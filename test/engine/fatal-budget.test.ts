import { describe, expect, test } from 'vitest';
import { FatalWatch, FATAL_AFTER, redactSecrets } from '../../src/run/fatal.js';
import { BudgetGuard, worstPromptTokens } from '../../src/run/budget.js';
import type { Sample } from '../../src/types.js';

const sample = (id: number, over: Partial<Sample>): Sample => ({
  id, model: 'm', step: 0, target_inflight: 5, key_index: 0, intended_us: 0, sent_us: 0, keepalives: 0, end_us: 1, outcome: 'client_error', inflight_at_send: 1, ...over,
});

describe('fatal answers', () => {
  test('the same 400 to a model\'s first requests ends that model, with the server\'s words', () => {
    const w = new FatalWatch(['K1'], ['sk-secret-key-1']);
    const verdicts = [1, 2, 3].map((i) => w.observe(sample(i, { status: 400, error: 'Model Not Exist' })));
    expect(verdicts.slice(0, FATAL_AFTER - 1)).toEqual([null, null]);
    expect(verdicts[2]).toMatchObject({ scope: 'model', model: 'm', status: 400 });
    expect(verdicts[2]!.message).toMatch(/model m was refused: HTTP 400 on its first 3 requests, the server said: Model Not Exist/);
  });

  test('a model that answered well first is not ended by later 400s (they are data)', () => {
    const w = new FatalWatch(['K1'], []);
    expect(w.observe(sample(1, { status: 200, outcome: 'ok' }))).toBeNull();
    for (let i = 2; i < 10; i++) expect(w.observe(sample(i, { status: 400, error: 'bad' }))).toBeNull();
  });

  test('401 on the second key ends the run naming its env var; the key is redacted from the message', () => {
    const w = new FatalWatch(['GOOD', 'BAD'], ['sk-good-1234567', 'sk-bad-7654321']);
    let v = null;
    for (let i = 0; i < 8 && !v; i++) {
      const k = i % 2;
      v = w.observe(sample(i, k === 0 ? { key_index: 0, status: 200, outcome: 'ok' } : { key_index: 1, status: 401, error: 'Authentication Fails, Your api key: sk-bad-7654321 is invalid' }));
    }
    expect(v).toMatchObject({ scope: 'run', status: 401 });
    expect(v!.message).toMatch(/the key in BAD was refused/);
    expect(v!.message).not.toContain('sk-bad-7654321');
    expect(v!.message).toContain('[redacted]');
  });

  test('redactSecrets: known keys and secret-looking words', () => {
    expect(redactSecrets('key abcd1234 and Bearer x', ['abcd1234'])).toBe('key [redacted] and Bearer x');
    expect(redactSecrets('token sk-live0123456789abcdef.', [])).toBe('token [redacted]');
  });
});

describe('hard budget', () => {
  const pricing = { m: { input_cache_hit: 0, input_cache_miss: 1, output: 2 } }; // USD per million tokens
  test('reserves the worst case, refuses what does not fit, releases on settle, never spends past the limit', () => {
    const g = new BudgetGuard({ max_usd: 0.001 }, pricing);
    const chars = 400; // 100 tokens, reserved as 141
    const worst = (worstPromptTokens(chars) * 1 + 100 * 2) / 1e6;
    let n = 0;
    while (g.reserve(n, 'm', chars, 100)) n++;
    expect(n).toBe(Math.floor(0.001 / worst));
    expect(g.exhausted).toBe(false); // nothing is spent yet: it waits for releases
    // Every open request ends having used less than its worst case.
    for (let i = 0; i < n; i++) g.settle(sample(i, { outcome: 'ok', usage: { prompt_tokens: 100, completion_tokens: 50, cache_hit_tokens: 0, cache_miss_tokens: 100, reasoning_tokens: 0 } }));
    expect(g.state().reserved_usd).toBe(0);
    expect(g.state().spent_usd).toBeCloseTo(n * 200e-6, 9);
    let more = 0;
    while (g.reserve(100 + more, 'm', chars, 100)) {
      g.settle(sample(100 + more, { outcome: 'ok', usage: { prompt_tokens: 100, completion_tokens: 100, cache_hit_tokens: 0, cache_miss_tokens: 100, reasoning_tokens: 0 } }));
      more++;
    }
    expect(g.exhausted).toBe(true);
    expect(g.state().spent_usd).toBeLessThanOrEqual(0.001);
    expect(g.refused).toMatch(/does not fit in what remains of max_usd \$0\.001/);
  });
});

import { describe, expect, test } from 'vitest';
import { makePromptFactory } from '../../src/protocol/prompt.js';
import { seededRandom } from '../../src/time/random.js';

describe('makePromptFactory', () => {
  test('shared system prefix, unique user prompts, sizes ~4 chars/token', () => {
    const f = makePromptFactory({ prompt_tokens: 1200, system_prefix_tokens: 400, random: seededRandom(1) });
    const a = f(1);
    const b = f(2);
    expect(a.system).toBe(b.system);
    expect(a.system.length).toBe(1600);
    expect(a.prompt).not.toBe(b.prompt);
    expect(a.prompt.length).toBe(800 * 4);
    // The unique part comes first, so no cache hit can extend past the shared system prefix.
    expect(a.prompt.slice(0, 30)).not.toBe(b.prompt.slice(0, 30));
  });

  test('seeded: same seed and id give the same prompt whatever the call order; another seed differs', () => {
    const f1 = makePromptFactory({ prompt_tokens: 300, system_prefix_tokens: 100, random: seededRandom(7) });
    const f2 = makePromptFactory({ prompt_tokens: 300, system_prefix_tokens: 100, random: seededRandom(7) });
    const x = f1(5);
    f2(9);
    f2(1);
    expect(f2(5)).toEqual(x);
    const f3 = makePromptFactory({ prompt_tokens: 300, system_prefix_tokens: 100, random: seededRandom(8) });
    expect(f3(5).prompt).not.toBe(x.prompt);
    expect(f3(5).system).not.toBe(x.system);
  });

  test('no system prefix gives an empty system; tiny budgets still give a unique prompt; large ones wrap', () => {
    const f = makePromptFactory({ prompt_tokens: 2, system_prefix_tokens: 0, random: seededRandom(1) });
    expect(f(1).system).toBe('');
    expect(f(1).prompt).toContain('request 1 ');
    const big = makePromptFactory({ prompt_tokens: 50_000, system_prefix_tokens: 0, random: seededRandom(1) })(3);
    expect(big.prompt.length).toBe(200_000);
  });
});

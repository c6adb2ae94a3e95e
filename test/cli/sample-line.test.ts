// A Sample's samples.ndjson line written field by field (sample-line.ts): the same JSON as JSON.stringify, for any
// Sample, and the fast way for every field the Sample type has.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import { sampleLine } from '../../src/cli/sample-line.js';
import type { Sample } from '../../src/types.js';

const here = path.dirname(fileURLToPath(import.meta.url));

/** The Sample interface's keys, in their declared order, read from src/types.ts. */
function declaredKeys(): string[] {
  const src = fs.readFileSync(path.join(here, '../../src/types.ts'), 'utf8');
  const body = src.slice(src.indexOf('export interface Sample {'));
  const block = body.slice(0, body.indexOf('\n}'));
  return [...block.matchAll(/^ {2}([a-z_]+)\??:/gm)].map((m) => m[1] as string);
}

const usage = { prompt_tokens: 1200, completion_tokens: 98, cache_hit_tokens: 1024, cache_miss_tokens: 176, reasoning_tokens: 0 };
const VALUES: Record<string, unknown> = {
  model: 'deepseek-v4-flash',
  user_id: 'u-"quoted"\n',
  outcome: 'ok',
  detail: 'http_429',
  error: 'Rate limit \u2028 reached: "x" \\ \u0001 中文',
  finish_reason: 'stop',
  usage,
  usage_estimated: true,
  retry_after: '2',
  ratelimit: { 'x-ratelimit-remaining': '0' },
  trace_id: 'abc',
  policy: 'retry',
};

describe('sampleLine', () => {
  test('every key of the Sample type is written the fast way, in the declared order (a new field must be added here)', () => {
    const keys = declaredKeys();
    expect(keys.length).toBeGreaterThan(30);
    // Inserted in reverse: JSON.stringify would keep that order; the fast path writes the declared one.
    const s: Record<string, unknown> = {};
    for (const k of [...keys].reverse()) s[k] = k in VALUES ? VALUES[k] : 1_000_000_000 + k.length;
    const line = sampleLine(s as unknown as Sample);
    expect(Object.keys(JSON.parse(line) as object)).toEqual(keys);
    expect(JSON.parse(line)).toEqual(JSON.parse(JSON.stringify(s)));
  });

  test('a Sample it does not fully know is JSON.stringify exactly', () => {
    const base = (): Record<string, unknown> => ({ id: 1, model: 'm', step: 0, target_inflight: 5, key_index: 0, intended_us: 1, sent_us: 2, keepalives: 0, end_us: 9, outcome: 'ok', inflight_at_send: 3 });
    const odd: Record<string, unknown>[] = [
      { ...base(), extra: 'x' },
      { ...base(), detail: undefined },
      { ...base(), keepalives: undefined, detail: 'd' },
    ];
    for (const s of odd) expect(sampleLine(s as unknown as Sample)).toBe(JSON.stringify(s));
    // A usage of another shape: written as JSON.stringify writes it.
    for (const u of [{ ...usage, extra: 1 }, { prompt_tokens: 1 }, null, { ...usage, reasoning_tokens: undefined }]) {
      const s = { ...base(), usage: u };
      expect(JSON.parse(sampleLine(s as unknown as Sample))).toEqual(JSON.parse(JSON.stringify(s)));
    }
    // A value of another type than its field's, a non-finite number: as JSON writes them.
    const typed = { ...base(), id: Number.NaN, status: '200', end_us: Infinity, usage_estimated: 'yes', model: 7 };
    expect(JSON.parse(sampleLine(typed as unknown as Sample))).toEqual(JSON.parse(JSON.stringify(typed)));
  });

  test('property: any Sample: the line parses to what JSON.stringify writes', () => {
    const keys = declaredKeys();
    const value = fc.oneof(fc.integer(), fc.double(), fc.string(), fc.string({ unit: 'grapheme' }), fc.boolean(), fc.constant(undefined), fc.constant(null), fc.constant(usage), fc.dictionary(fc.string(), fc.string()));
    fc.assert(
      fc.property(fc.dictionary(fc.constantFrom(...keys, 'other'), value), fc.boolean(), (fields, full) => {
        const s: Record<string, unknown> = full ? { id: 1, model: 'm', step: 0, target_inflight: 5, key_index: 0, intended_us: 1, sent_us: 2, keepalives: 0, end_us: 9, outcome: 'ok', inflight_at_send: 3 } : {};
        Object.assign(s, fields);
        expect(JSON.parse(sampleLine(s as unknown as Sample))).toEqual(JSON.parse(JSON.stringify(s)));
      }),
      { numRuns: 3000 },
    );
  });
});

/**
 * Token usage as each dialect reports it, mapped onto dsprobe's `Usage` (src/types.ts).
 */
import type { Usage } from '../types.js';

function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

function obj(v: unknown): Record<string, unknown> | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

/**
 * OpenAI-style usage. DeepSeek sends `prompt_cache_hit_tokens` / `prompt_cache_miss_tokens`; OpenAI and most
 * compatible servers send `prompt_tokens_details.cached_tokens`; reasoning tokens come in
 * `completion_tokens_details.reasoning_tokens` (already included in completion_tokens).
 * Returns undefined when `u` is not a usage object.
 */
export function openAiUsage(u: unknown): Usage | undefined {
  const o = obj(u);
  if (!o) return undefined;
  const prompt = num(o.prompt_tokens) ?? 0;
  const completion = num(o.completion_tokens) ?? 0;
  const hit = num(o.prompt_cache_hit_tokens) ?? num(obj(o.prompt_tokens_details)?.cached_tokens) ?? 0;
  const miss = num(o.prompt_cache_miss_tokens) ?? Math.max(0, prompt - hit);
  const reasoning = num(obj(o.completion_tokens_details)?.reasoning_tokens) ?? 0;
  return { prompt_tokens: prompt, completion_tokens: completion, cache_hit_tokens: hit, cache_miss_tokens: miss, reasoning_tokens: reasoning };
}

/** Raw Anthropic usage fields, accumulated over `message_start` and `message_delta`. */
export interface AnthropicUsageFields {
  input_tokens?: number;
  output_tokens?: number;
  cache_read_input_tokens?: number;
  cache_creation_input_tokens?: number;
}

/** Copies the numeric Anthropic usage fields of `u` over `into` (later events override earlier ones). */
export function mergeAnthropicUsage(into: AnthropicUsageFields, u: unknown): boolean {
  const o = obj(u);
  if (!o) return false;
  const i = num(o.input_tokens);
  const out = num(o.output_tokens);
  const cr = num(o.cache_read_input_tokens);
  const cc = num(o.cache_creation_input_tokens);
  if (i !== undefined) into.input_tokens = i;
  if (out !== undefined) into.output_tokens = out;
  if (cr !== undefined) into.cache_read_input_tokens = cr;
  if (cc !== undefined) into.cache_creation_input_tokens = cc;
  return true;
}

/**
 * Anthropic usage to dsprobe usage. Anthropic's `input_tokens` excludes cache reads and cache writes, so
 * prompt = input + cache_read + cache_creation; hits = cache_read; misses = the rest. No reasoning count exists.
 */
export function anthropicUsage(f: AnthropicUsageFields): Usage {
  const input = f.input_tokens ?? 0;
  const read = f.cache_read_input_tokens ?? 0;
  const created = f.cache_creation_input_tokens ?? 0;
  return {
    prompt_tokens: input + read + created,
    completion_tokens: f.output_tokens ?? 0,
    cache_hit_tokens: read,
    cache_miss_tokens: input + created,
    reasoning_tokens: 0,
  };
}

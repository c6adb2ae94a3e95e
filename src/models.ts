/**
 * What dsprobe knows about DeepSeek's model ids (see DEEPSEEK-API.md): documented per-account caps,
 * and the retired ids that draw a warning.
 */

/** DeepSeek's documented per-account concurrency caps, requests in flight. */
export const DOCUMENTED_CAPS: Readonly<Record<string, number>> = {
  'deepseek-v4-flash': 2500,
  'deepseek-v4-pro': 500,
};

/** Retired model ids (2026-07-24) and what to use instead. */
export const RETIRED_MODELS: Readonly<Record<string, string>> = {
  'deepseek-chat': 'deepseek-v4-flash',
  'deepseek-reasoner': 'deepseek-v4-flash with `request.thinking: true`',
};

/** The documented cap of a model, or null when DeepSeek documents none for it. */
export function documentedCap(model: string): number | null {
  return DOCUMENTED_CAPS[model] ?? null;
}

/** A warning for a retired model id, or null. */
export function retiredModelWarning(model: string): string | null {
  const instead = RETIRED_MODELS[model];
  if (!instead) return null;
  return `model \`${model}\` was retired on 2026-07-24 and is no longer served by DeepSeek; use ${instead}`;
}

/**
 * A model id from a short name: `flash` -> `deepseek-v4-flash`, `pro` -> `deepseek-v4-pro`. A name that is
 * already an id (of the scenario's models or a documented one), or that matches no id or several, is kept
 * as typed (validation then names it).
 */
export function resolveModelName(short: string, known: readonly string[] = []): string {
  const ids = [...new Set([...known, ...Object.keys(DOCUMENTED_CAPS)])];
  if (ids.includes(short)) return short;
  const hits = ids.filter((id) => id.endsWith(`-${short}`));
  return hits.length === 1 ? hits[0]! : short;
}

/**
 * The Anthropic messages API requires `thinking.budget_tokens` >= 1024 and below `max_tokens`. DeepSeek's
 * Anthropic surface ignores the budget, but dsprobe sends requests that are valid for the API it speaks.
 */
export const ANTHROPIC_MIN_THINKING_BUDGET = 1024;

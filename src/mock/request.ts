/**
 * Reads a chat request of either surface into the few facts the mock acts on: model, stream, thinking,
 * max_tokens, user_id, and the prompt's size and prefix hashes (for cache-hit figures). Bad requests come
 * back as a status and DeepSeek's message, never as an exception.
 */

/** Which wire format a request came in. */
export type Surface = 'openai' | 'anthropic';

/** The facts of one valid request. */
export interface ChatRequest {
  model: string;
  stream: boolean;
  thinking: boolean;
  /** Output limit, tokens (reasoning included); undefined = none. */
  maxTokens: number | undefined;
  /** user_id, '' when absent. */
  user: string;
  /** Estimated prompt tokens (about 4 characters per token, at least 1 per message). */
  promptTokens: number;
  /** Chained hash of the prompt up to and including message i, and the tokens up to there. */
  prefixHashes: number[];
  prefixTokens: number[];
}

/** A request the mock refuses before admission. */
export interface BadRequest {
  status: number;
  message: string;
}

const USER_ID = /^[a-zA-Z0-9_-]+$/;
/** DeepSeek's documented output ceiling, tokens. */
const MAX_OUTPUT = 384_000;

/** Parses a request body of `surface` against the served `models`. */
export function parseChatRequest(surface: Surface, body: string, models: readonly string[]): ChatRequest | BadRequest {
  let j: unknown;
  try {
    j = JSON.parse(body);
  } catch (err) {
    return { status: 400, message: `Failed to parse the request body as JSON: ${(err as Error).message}` };
  }
  if (j === null || typeof j !== 'object' || Array.isArray(j)) {
    return { status: 400, message: 'Failed to deserialize the JSON body into the target type: expected an object' };
  }
  const o = j as Record<string, unknown>;
  if (typeof o.model !== 'string') return missing('model');
  if (!models.includes(o.model)) return { status: 400, message: 'Model Not Exist' };
  if (!Array.isArray(o.messages) || o.messages.length === 0) return missing('messages');
  if (o.stream !== undefined && o.stream !== null && typeof o.stream !== 'boolean') {
    return invalid('stream: expected a boolean');
  }
  let maxTokens: number | undefined;
  if (o.max_tokens !== undefined && o.max_tokens !== null) {
    const m = o.max_tokens;
    if (typeof m !== 'number' || !Number.isInteger(m) || m < 1 || m > MAX_OUTPUT) {
      return invalid(`Invalid max_tokens value, the valid range of max_tokens is [1, ${MAX_OUTPUT}]`);
    }
    maxTokens = m;
  }
  const rawUser = surface === 'openai' ? o.user_id : (o.metadata as Record<string, unknown> | undefined)?.user_id;
  let user = '';
  if (rawUser !== undefined && rawUser !== null && rawUser !== '') {
    if (typeof rawUser !== 'string' || !USER_ID.test(rawUser) || Buffer.byteLength(rawUser) > 512) {
      return { status: 400, message: 'Invalid user_id: it must match ^[a-zA-Z0-9_-]+$ and be at most 512 bytes' };
    }
    user = rawUser;
  }
  const thinkingType = (o.thinking as Record<string, unknown> | undefined)?.type;
  const thinking =
    thinkingType === 'enabled' || (thinkingType === undefined && surface === 'openai' && typeof o.reasoning_effort === 'string');

  const texts: string[] = [];
  if (surface === 'anthropic' && o.system !== undefined) texts.push('system\0' + textOf(o.system));
  for (const m of o.messages as unknown[]) {
    const mm = (m ?? {}) as Record<string, unknown>;
    texts.push(String(mm.role ?? '') + '\0' + textOf(mm.content));
  }
  const prefixHashes: number[] = [];
  const prefixTokens: number[] = [];
  let h = 0x811c9dc5;
  let tokens = 0;
  for (const t of texts) {
    h = fnv(t, h);
    tokens += Math.max(1, Math.ceil(t.length / 4));
    prefixHashes.push(h);
    prefixTokens.push(tokens);
  }
  return { model: o.model, stream: o.stream === true, thinking, maxTokens, user, promptTokens: tokens, prefixHashes, prefixTokens };
}

/** True when parseChatRequest refused the request. */
export function isBad(r: ChatRequest | BadRequest): r is BadRequest {
  return (r as BadRequest).status !== undefined;
}

function missing(field: string): BadRequest {
  return { status: 422, message: `Failed to deserialize the JSON body into the target type: missing field \`${field}\`` };
}

function invalid(what: string): BadRequest {
  return { status: 422, message: `Invalid request: ${what}` };
}

/** The text of a message content: a string, or the `text` of each part of an array. */
function textOf(c: unknown): string {
  if (typeof c === 'string') return c;
  if (Array.isArray(c)) {
    let s = '';
    for (const p of c) {
      const part = p as Record<string, unknown> | null;
      if (part && typeof part.text === 'string') s += part.text;
    }
    return s;
  }
  return '';
}

/** FNV-1a 32-bit, continuing from `h`. */
function fnv(s: string, h: number): number {
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** Prefix-cache lookups are per account; past this many remembered prefixes the cache starts over. */
export const PREFIX_CACHE_MAX = 100_000;

/**
 * Cache-hit tokens for a request against an account's remembered prefixes (the longest remembered prefix
 * of whole messages before the last one, in 64-token units like DeepSeek's cache), then remembers this
 * request's prefixes.
 */
export function prefixCacheHit(cache: Set<number>, r: ChatRequest): number {
  let hit = 0;
  for (let i = r.prefixHashes.length - 2; i >= 0; i--) {
    if (cache.has(r.prefixHashes[i]!)) {
      hit = Math.floor(r.prefixTokens[i]! / 64) * 64;
      break;
    }
  }
  if (cache.size > PREFIX_CACHE_MAX) cache.clear();
  for (let i = 0; i < r.prefixHashes.length - 1; i++) cache.add(r.prefixHashes[i]!);
  return hit;
}

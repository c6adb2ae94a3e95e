/**
 * Live cost: what one request cost from the usage the server reported, priced per model; and the hard budget
 * that reserves a request's worst case before it is sent.
 */
import type { Sample } from '../types.js';
import type { Price } from '../types.js';
import type { Budget } from '../scenario/types.js';
import { usdOf } from '../cost/cost.js';
import { CHARS_PER_TOKEN } from '../protocol/prompt.js';

/** USD cost of one sample (0 when the server reported no usage or the model has no price). */
export function priceOf(s: Sample, pricing: Readonly<Record<string, Price>>): number {
  const u = s.usage;
  const p = pricing[s.model];
  if (!u || !p) return 0;
  return usdOf(
    { prompt: u.prompt_tokens, completion: u.completion_tokens, cache_hit: u.cache_hit_tokens, cache_miss: u.cache_miss_tokens, reasoning: u.reasoning_tokens },
    p,
  );
}

/**
 * Worst-case prompt tokens of a request from its text: 4 characters a token plus a quarter for tokenizers that
 * cut finer, plus message overhead. Reserving too much only stops a run a little early; too little could overspend.
 */
export function worstPromptTokens(chars: number): number {
  return Math.ceil((chars / CHARS_PER_TOKEN) * 1.25) + 16;
}

/** One request's hold on the budget until its usage arrives. */
interface Hold {
  usd: number;
  tokens: number;
}

/** What the report shows about the budget: set, spent, and what is reserved by requests still open. */
export interface BudgetState {
  max_usd: number | null;
  max_tokens: number | null;
  spent_usd: number;
  spent_tokens: number;
  reserved_usd: number;
  reserved_tokens: number;
}

/**
 * The hard budget. Before a request is sent its worst case (prompt + max_tokens at the model's prices) is
 * reserved, and it is sent only if the reservation fits in what remains; when it ends, the reservation is
 * released and what it really cost (reported usage, or dsprobe's estimate when it was cut) is spent. So requests
 * in flight can never take the run past `max_usd` / `max_tokens`. A request that does not fit waits for open
 * ones to release their reservations (fewer in flight than the target); once one would not fit even with nothing
 * reserved, the budget is spent (`exhausted`) and the run ends.
 */
export class BudgetGuard {
  private readonly holds = new Map<number, Hold>();
  spentUsd = 0;
  spentTokens = 0;
  reservedUsd = 0;
  reservedTokens = 0;
  /** Set when a request did not fit: why. */
  refused: string | null = null;
  /** True once a request would not fit even with nothing reserved: the budget is spent, the run must end. */
  exhausted = false;

  constructor(
    private readonly budget: Budget,
    private readonly pricing: Readonly<Record<string, Price>>,
  ) {}

  /** True when no limit is set (nothing to reserve). */
  get unlimited(): boolean {
    return this.budget.max_usd === undefined && this.budget.max_tokens === undefined;
  }

  /** Reserves request `id`'s worst case; false (and nothing reserved) when it does not fit. */
  reserve(id: number, model: string, promptChars: number, maxTokens: number): boolean {
    const prompt = worstPromptTokens(promptChars);
    const tokens = prompt + maxTokens;
    const p = this.pricing[model];
    const usd = p ? (prompt * p.input_cache_miss + maxTokens * p.output) / 1e6 : 0;
    const b = this.budget;
    if ((b.max_usd !== undefined && this.spentUsd + usd > b.max_usd) || (b.max_tokens !== undefined && this.spentTokens + tokens > b.max_tokens)) {
      this.exhausted = true;
    }
    if (b.max_usd !== undefined && this.spentUsd + this.reservedUsd + usd > b.max_usd) {
      this.refused = `budget: the next request's worst case ($${usd.toFixed(6)}) does not fit in what remains of max_usd $${b.max_usd} (spent $${this.spentUsd.toFixed(4)}, reserved by open requests $${this.reservedUsd.toFixed(4)})`;
      return false;
    }
    if (b.max_tokens !== undefined && this.spentTokens + this.reservedTokens + tokens > b.max_tokens) {
      this.refused = `budget: the next request's worst case (${tokens} tokens) does not fit in what remains of max_tokens ${b.max_tokens} (spent ${this.spentTokens}, reserved by open requests ${this.reservedTokens})`;
      return false;
    }
    this.holds.set(id, { usd, tokens });
    this.reservedUsd += usd;
    this.reservedTokens += tokens;
    return true;
  }

  /** Releases the reservation of a finished request and spends what it really cost. */
  settle(s: Sample, pricing: Readonly<Record<string, Price>> = this.pricing): void {
    const h = this.holds.get(s.id);
    if (h) {
      this.holds.delete(s.id);
      this.reservedUsd = Math.max(0, this.reservedUsd - h.usd);
      this.reservedTokens = Math.max(0, this.reservedTokens - h.tokens);
    }
    this.spentUsd += priceOf(s, pricing);
    if (s.usage) this.spentTokens += s.usage.prompt_tokens + s.usage.completion_tokens;
  }

  state(): BudgetState {
    return {
      max_usd: this.budget.max_usd ?? null,
      max_tokens: this.budget.max_tokens ?? null,
      spent_usd: round6(this.spentUsd),
      spent_tokens: this.spentTokens,
      reserved_usd: round6(this.reservedUsd),
      reserved_tokens: this.reservedTokens,
    };
  }
}

const round6 = (v: number) => Math.round(v * 1e6) / 1e6;

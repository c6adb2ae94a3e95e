/**
 * Accounts, keys and the concurrency contract: a request counts against its account's cap per model (and, on
 * raised accounts, its user_id's cap) from admission until its response ends or the client goes away, time
 * spent queued included. The decision is made at admission, before any body byte.
 */
import { DEFAULT_ACCOUNT, FALLBACK_CAP, type AccountConfig, type MockConfig, type ScheduleConfig } from './config.js';

/** Counters of one account for one model. */
export class ModelCounter {
  /** Admitted and not yet ended (queued included). */
  inFlight = 0;
  /** Admitted, waiting for a server slot. */
  queued = 0;
  /** In flight per user_id ('' = no user_id); kept only on raised accounts. */
  readonly users = new Map<string, number>();
}

/** Live state of one account. */
export class AccountState {
  /** USD, moved by balance_drain faults and /_mock/balance. */
  balance: number;
  readonly models = new Map<string, ModelCounter>();
  /** Hashes of prompt prefixes seen (the prefix cache); cleared when it grows past PREFIX_CACHE_MAX. */
  readonly prefixes = new Set<number>();
  /** Runtime cap overrides per model set through POST /_mock/caps (replace the configured cap). */
  readonly capOverrides = new Map<string, number>();
  constructor(readonly cfg: AccountConfig) {
    this.balance = cfg.balance;
  }
  /** The counter for `model`, created on first use. */
  counter(model: string): ModelCounter {
    let c = this.models.get(model);
    if (!c) this.models.set(model, (c = new ModelCounter()));
    return c;
  }
}

/** Where the effective cap came from (the balance source changes the 429 wording). */
export type CapSource = 'config' | 'schedule' | 'balance';

/** An admission refused for concurrency: the server's own count and the cap it was held to. */
export interface CapRejection {
  scope: 'account' | 'user';
  concurrency: number;
  cap: number;
  source: CapSource;
}

/** Accounts by name and by key, plus cap evaluation. */
export class Accounts {
  readonly list: AccountState[];
  private readonly byKeyMap = new Map<string, AccountState>();
  private readonly fallback: AccountState | undefined;

  constructor(
    private readonly cfg: MockConfig,
    /** Monotonic µs at which the mock started (schedules count from here). */
    private readonly startUs: number,
  ) {
    this.list = cfg.accounts.map((a) => new AccountState(a));
    for (const a of this.list) for (const k of a.cfg.keys) this.byKeyMap.set(k, a);
    this.fallback = cfg.strict_auth ? undefined : this.list.find((a) => a.cfg.name === DEFAULT_ACCOUNT);
  }

  /** The account owning `key`; unknown keys go to `default` unless auth is strict. Undefined = 401. */
  byKey(key: string | undefined): AccountState | undefined {
    if (!key) return undefined;
    return this.byKeyMap.get(key) ?? this.fallback;
  }

  /** The account called `name`. */
  byName(name: string): AccountState | undefined {
    return this.list.find((a) => a.cfg.name === name);
  }

  /** The account cap for `model` at monotonic time `nowUs`, and where it came from. */
  effectiveCap(acc: AccountState, model: string, nowUs: number): { cap: number; source: CapSource } {
    const override = acc.capOverrides.get(model);
    if (override !== undefined) return { cap: override, source: 'config' };
    let cap = acc.cfg.caps[model] ?? this.cfg.caps[model] ?? FALLBACK_CAP;
    let source: CapSource = 'config';
    let scheduled: number | undefined;
    let scheduledSource: CapSource = 'schedule';
    const tMs = (nowUs - this.startUs) / 1000 / this.cfg.time_scale;
    for (const s of this.cfg.schedules) {
      if (s.account !== undefined && s.account !== acc.cfg.name) continue;
      if (s.model !== undefined && s.model !== model) continue;
      const v = evaluate(s, tMs, acc.balance);
      if (v !== undefined && (scheduled === undefined || v < scheduled)) {
        scheduled = v;
        scheduledSource = s.kind === 'balance' ? 'balance' : 'schedule';
      }
    }
    if (scheduled !== undefined) [cap, source] = [scheduled, scheduledSource];
    return { cap, source };
  }

  /** The per-user_id cap for `model` on a raised account. */
  userCap(acc: AccountState, model: string): number {
    return acc.cfg.user_caps[model] ?? this.cfg.user_caps[model] ?? this.cfg.caps[model] ?? FALLBACK_CAP;
  }

  /** Counts the request in if both caps allow it; otherwise says which cap refused and the count it saw. */
  tryAdmit(acc: AccountState, model: string, user: string, nowUs: number): CapRejection | undefined {
    const c = acc.counter(model);
    const { cap, source } = this.effectiveCap(acc, model, nowUs);
    if (c.inFlight >= cap) return { scope: 'account', concurrency: c.inFlight, cap, source };
    if (acc.cfg.raised) {
      const used = c.users.get(user) ?? 0;
      const ucap = this.userCap(acc, model);
      if (used >= ucap) return { scope: 'user', concurrency: used, cap: ucap, source: 'config' };
      c.users.set(user, used + 1);
    }
    c.inFlight++;
    return undefined;
  }

  /** Counts a request out (its response ended or its client went away). */
  release(acc: AccountState, model: string, user: string): void {
    const c = acc.counter(model);
    c.inFlight--;
    if (acc.cfg.raised) {
      const used = (c.users.get(user) ?? 1) - 1;
      if (used <= 0) c.users.delete(user);
      else c.users.set(user, used);
    }
  }
}

/** The cap a schedule asks for at nominal time `tMs` with `balance`, or undefined when it sets none. */
export function evaluate(s: ScheduleConfig, tMs: number, balance: number): number | undefined {
  switch (s.kind) {
    case 'steps': {
      const t = s.repeat_ms ? tMs % s.repeat_ms : tMs;
      let cap: number | undefined;
      for (const st of s.steps) if (st.at_ms <= t) cap = st.cap;
      return cap;
    }
    case 'sine':
      return Math.round(s.min + (s.max - s.min) * (0.5 + 0.5 * Math.sin((2 * Math.PI * tMs) / s.period_ms)));
    case 'balance':
      return s.tiers.find((tier) => balance < tier.below)?.cap;
  }
}

/** DeepSeek's 429 text, quoting the server's own concurrency figure. */
export function tooManyMessage(r: CapRejection): string {
  if (r.source === 'balance') {
    return `Too many requests. Your current concurrency is ${r.concurrency}, which exceeds your concurrency limit of ${r.cap} based on your remaining balance. Please top up your account.`;
  }
  return `Too many requests. Please pace your requests reasonably. Your current concurrency: ${r.concurrency}.`;
}

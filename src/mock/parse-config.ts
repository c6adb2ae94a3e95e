/**
 * parseMockConfig: turns a YAML-shaped value into a MockConfig, reporting every problem at once with its
 * key path (`mock.caps.deepseek-v4-flash`), what was expected and a hint. Invalid parts keep their defaults.
 */
import type { Problem } from '../errors.js';
import { Checker, type Path } from './check.js';
import {
  DEFAULT_ACCOUNT,
  FAULT_KINDS,
  defaultAccount,
  defaultMockConfig,
  type AccountConfig,
  type FaultConfig,
  type LatencyConfig,
  type MockConfig,
  type ScheduleConfig,
} from './config.js';

const TOP_KEYS = [
  'host', 'port', 'time_scale', 'seed', 'strict_auth', 'models', 'caps', 'user_caps', 'accounts', 'schedules',
  'slots', 'keepalive_interval', 'queue_timeout', 'queue_timeout_mode', 'queue_timeout_message', 'latency',
  'faults', 'tick',
] as const;
const ACCOUNT_KEYS = ['name', 'keys', 'caps', 'raised', 'user_caps', 'balance'];
const LATENCY_KEYS = [
  'prefill_overhead', 'prefill_per_token', 'inter_token', 'jitter', 'reasoning_tokens', 'answer_tokens',
  'load_slowdown', 'chunk_tokens', 'flush_interval',
];
const FAULT_KEYS = ['kind', 'rate', 'match', 'status', 'message', 'after_tokens', 'duration', 'amount', 'reason'];
const SCHEDULE_KEYS: Record<string, string[]> = {
  steps: ['kind', 'account', 'model', 'steps', 'repeat'],
  sine: ['kind', 'account', 'model', 'min', 'max', 'period'],
  balance: ['kind', 'account', 'model', 'tiers'],
};

/** Default fault durations (nominal ms) and token counts when a fault leaves them out. */
const FAULT_DEFAULT_DURATION_MS: Partial<Record<string, number>> = {
  forced_queue: 30_000,
  stall: 600_000,
  slow_headers: 30_000,
  blank_only: 5_000,
};

/**
 * Validates and normalises a mock configuration. `raw` undefined or null means all defaults.
 * `basePath` prefixes every problem path (the scenario loader passes `mock`).
 */
export function parseMockConfig(raw: unknown, basePath?: string): { config: MockConfig; problems: Problem[] } {
  const c = new Checker(basePath);
  const cfg = defaultMockConfig();
  if (raw === undefined || raw === null) return { config: cfg, problems: [] };
  const o = c.object(raw, [], TOP_KEYS);
  if (!o) return { config: cfg, problems: c.problems };
  const set = <K extends keyof MockConfig>(key: K, v: MockConfig[K] | undefined) => {
    if (v !== undefined) cfg[key] = v;
  };

  if (o.host !== undefined) set('host', c.string(o.host, ['host']));
  if (o.port !== undefined) set('port', c.number(o.port, ['port'], { min: 0, max: 65535, integer: true }));
  if (o.time_scale !== undefined) set('time_scale', c.number(o.time_scale, ['time_scale'], { gt: 0 }));
  if (o.seed !== undefined) set('seed', c.number(o.seed, ['seed'], { min: 0, integer: true }));
  if (o.strict_auth !== undefined) set('strict_auth', c.boolean(o.strict_auth, ['strict_auth']));
  if (o.caps !== undefined) set('caps', { ...cfg.caps, ...c.caps(o.caps, ['caps']) });
  if (o.user_caps !== undefined) set('user_caps', { ...cfg.user_caps, ...c.caps(o.user_caps, ['user_caps']) });
  if (o.slots !== undefined) set('slots', c.caps(o.slots, ['slots']));
  if (o.models !== undefined) {
    const list = c.array(o.models, ['models']);
    if (list) set('models', list.map((m, i) => c.string(m, ['models', i])).filter((m): m is string => m !== undefined));
  }
  if (o.keepalive_interval !== undefined) {
    const ms = c.duration(o.keepalive_interval, ['keepalive_interval']);
    if (ms === 0) c.add(['keepalive_interval'], 'must be > 0', 'try 1s');
    else set('keepalive_interval_ms', ms);
  }
  if (o.queue_timeout !== undefined) set('queue_timeout_ms', c.duration(o.queue_timeout, ['queue_timeout']));
  if (o.queue_timeout_mode !== undefined) set('queue_timeout_mode', c.oneOf(o.queue_timeout_mode, ['queue_timeout_mode'], ['cut', 'error_body'] as const));
  if (o.queue_timeout_message !== undefined) set('queue_timeout_message', c.string(o.queue_timeout_message, ['queue_timeout_message']));
  if (o.tick !== undefined) {
    const ms = c.duration(o.tick, ['tick']);
    if (ms !== undefined && (ms < 1 || ms > 1000)) c.add(['tick'], `must be between 1ms and 1s (got ${ms}ms)`);
    else set('tick_ms', ms);
  }
  if (o.latency !== undefined) parseLatency(c, o.latency, cfg.latency);
  if (o.accounts !== undefined) set('accounts', parseAccounts(c, o.accounts, cfg.strict_auth));
  if (o.schedules !== undefined) {
    const list = c.array(o.schedules, ['schedules']);
    if (list) cfg.schedules = list.map((s, i) => parseSchedule(c, s, ['schedules', i])).filter((s): s is ScheduleConfig => !!s);
  }
  if (o.faults !== undefined) {
    const list = c.array(o.faults, ['faults']);
    if (list) cfg.faults = list.map((f, i) => parseFault(c, f, ['faults', i])).filter((f): f is FaultConfig => !!f);
  }
  // Every model named under caps or slots is served (so `--cap my-model=3` just works).
  for (const m of [...Object.keys(cfg.caps), ...Object.keys(cfg.slots)]) if (!cfg.models.includes(m)) cfg.models.push(m);
  return { config: cfg, problems: c.problems };
}

function parseLatency(c: Checker, raw: unknown, out: LatencyConfig): void {
  const o = c.object(raw, ['latency'], LATENCY_KEYS);
  if (!o) return;
  const dur = (k: string, f: 'prefill_overhead_ms' | 'prefill_per_token_ms' | 'inter_token_ms' | 'flush_interval_ms') => {
    if (o[k] === undefined) return;
    const ms = c.duration(o[k], ['latency', k]);
    if (ms !== undefined) out[f] = ms;
  };
  dur('prefill_overhead', 'prefill_overhead_ms');
  dur('prefill_per_token', 'prefill_per_token_ms');
  dur('inter_token', 'inter_token_ms');
  dur('flush_interval', 'flush_interval_ms');
  if (out.inter_token_ms <= 0 && o.inter_token !== undefined) {
    c.add(['latency', 'inter_token'], 'must be > 0', 'try 20ms');
    out.inter_token_ms = 20;
  }
  if (o.jitter !== undefined) out.jitter = c.number(o.jitter, ['latency', 'jitter'], { min: 0, max: 1 }) ?? out.jitter;
  if (o.load_slowdown !== undefined) out.load_slowdown = c.number(o.load_slowdown, ['latency', 'load_slowdown'], { min: 0 }) ?? out.load_slowdown;
  if (o.chunk_tokens !== undefined) out.chunk_tokens = c.number(o.chunk_tokens, ['latency', 'chunk_tokens'], { min: 1, integer: true }) ?? out.chunk_tokens;
  for (const k of ['reasoning_tokens', 'answer_tokens'] as const) {
    const v = o[k];
    if (v === undefined) continue;
    const path: Path = ['latency', k];
    if (typeof v === 'number') {
      const n = c.number(v, path, { min: 0, integer: true });
      if (n !== undefined) out[k] = { min: n, max: n };
      continue;
    }
    const r = c.object(v, path, ['min', 'max']);
    if (!r) continue;
    const min = r.min === undefined ? out[k].min : c.number(r.min, [...path, 'min'], { min: 0, integer: true });
    const max = r.max === undefined ? Math.max(out[k].max, min ?? 0) : c.number(r.max, [...path, 'max'], { min: 0, integer: true });
    if (min === undefined || max === undefined) continue;
    if (max < min) c.add([...path, 'max'], `must be >= min (got ${max} < ${min})`);
    else out[k] = { min, max };
  }
}

function parseAccounts(c: Checker, raw: unknown, strict: boolean): AccountConfig[] | undefined {
  const list = c.array(raw, ['accounts']);
  if (!list) return undefined;
  const out: AccountConfig[] = [];
  const keyOwner = new Map<string, string>();
  list.forEach((a, i) => {
    const path: Path = ['accounts', i];
    const o = c.object(a, path, ACCOUNT_KEYS);
    if (!o) return;
    const acc = defaultAccount();
    acc.name = c.string(o.name, [...path, 'name']) ?? `account-${i}`;
    if (out.some((x) => x.name === acc.name)) c.add([...path, 'name'], `duplicate account name "${acc.name}"`);
    if (o.keys !== undefined) {
      const keys = c.array(o.keys, [...path, 'keys']) ?? [];
      keys.forEach((k, j) => {
        const key = c.string(k, [...path, 'keys', j]);
        if (key === undefined) return;
        const owner = keyOwner.get(key);
        // Never echo a key: it may be real.
        if (owner !== undefined) c.add([...path, 'keys', j], `this key already belongs to account "${owner}"`);
        keyOwner.set(key, acc.name);
        acc.keys.push(key);
      });
    }
    if (o.caps !== undefined) acc.caps = c.caps(o.caps, [...path, 'caps']) ?? {};
    if (o.raised !== undefined) acc.raised = c.boolean(o.raised, [...path, 'raised']) ?? false;
    if (o.user_caps !== undefined) acc.user_caps = c.caps(o.user_caps, [...path, 'user_caps']) ?? {};
    if (o.balance !== undefined) {
      const b = typeof o.balance === 'string' && o.balance.trim() !== '' ? Number(o.balance) : o.balance;
      acc.balance = c.number(b, [...path, 'balance']) ?? acc.balance;
    }
    out.push(acc);
  });
  // Keys no account lists land in `default` unless auth is strict.
  if (!strict && !out.some((a) => a.name === DEFAULT_ACCOUNT)) out.push(defaultAccount());
  return out;
}

function parseSchedule(c: Checker, raw: unknown, path: Path): ScheduleConfig | undefined {
  const pre = c.object(raw, path);
  if (!pre) return undefined;
  const kind = c.oneOf(pre.kind, [...path, 'kind'], ['steps', 'sine', 'balance'] as const);
  if (!kind) return undefined;
  const o = c.object(raw, path, SCHEDULE_KEYS[kind])!;
  const scope: { account?: string; model?: string } = {};
  if (o.account !== undefined) scope.account = c.string(o.account, [...path, 'account']);
  if (o.model !== undefined) scope.model = c.string(o.model, [...path, 'model']);
  if (kind === 'steps') {
    const list = c.array(o.steps, [...path, 'steps']);
    if (!list) return undefined;
    const steps: { at_ms: number; cap: number }[] = [];
    list.forEach((s, i) => {
      const so = c.object(s, [...path, 'steps', i], ['at', 'cap']);
      if (!so) return;
      const at = c.duration(so.at ?? 0, [...path, 'steps', i, 'at']);
      const cap = c.cap(so.cap, [...path, 'steps', i, 'cap']);
      if (at !== undefined && cap !== undefined) steps.push({ at_ms: at, cap });
    });
    steps.sort((a, b) => a.at_ms - b.at_ms);
    const sched: ScheduleConfig = { ...scope, kind, steps };
    if (o.repeat !== undefined) {
      const r = c.duration(o.repeat, [...path, 'repeat']);
      if (r !== undefined && r > 0) sched.repeat_ms = r;
    }
    return sched;
  }
  if (kind === 'sine') {
    const min = c.cap(o.min, [...path, 'min']);
    const max = c.cap(o.max, [...path, 'max']);
    const period = c.duration(o.period, [...path, 'period']);
    if (min === undefined || max === undefined || period === undefined) return undefined;
    if (max < min) return c.add([...path, 'max'], `must be >= min (got ${max} < ${min})`);
    if (period <= 0) return c.add([...path, 'period'], 'must be > 0', 'try 60s');
    return { ...scope, kind, min, max, period_ms: period };
  }
  const list = c.array(o.tiers, [...path, 'tiers']);
  if (!list) return undefined;
  const tiers: { below: number; cap: number }[] = [];
  list.forEach((t, i) => {
    const to = c.object(t, [...path, 'tiers', i], ['below', 'cap']);
    if (!to) return;
    const below = c.number(to.below, [...path, 'tiers', i, 'below']);
    const cap = c.cap(to.cap, [...path, 'tiers', i, 'cap']);
    if (below !== undefined && cap !== undefined) tiers.push({ below, cap });
  });
  return { ...scope, kind, tiers };
}

function parseFault(c: Checker, raw: unknown, path: Path): FaultConfig | undefined {
  const o = c.object(raw, path, FAULT_KEYS);
  if (!o) return undefined;
  const kind = c.oneOf(o.kind, [...path, 'kind'], FAULT_KINDS);
  if (!kind) return undefined;
  const f: FaultConfig = {
    kind,
    rate: 1,
    match: {},
    after_tokens: 5,
    duration_ms: FAULT_DEFAULT_DURATION_MS[kind] ?? 0,
    reason: 'insufficient_system_resource',
  };
  if (o.rate !== undefined) f.rate = c.rate(o.rate, [...path, 'rate']) ?? 1;
  if (o.match !== undefined) {
    const m = c.object(o.match, [...path, 'match'], ['model', 'account', 'stream']);
    if (m?.model !== undefined) f.match.model = c.string(m.model, [...path, 'match', 'model']);
    if (m?.account !== undefined) f.match.account = c.string(m.account, [...path, 'match', 'account']);
    if (m?.stream !== undefined) f.match.stream = c.boolean(m.stream, [...path, 'match', 'stream']);
  }
  if (o.status !== undefined) f.status = c.number(o.status, [...path, 'status'], { min: 100, max: 599, integer: true });
  if (o.message !== undefined) f.message = c.string(o.message, [...path, 'message'], true);
  if (o.after_tokens !== undefined) f.after_tokens = c.number(o.after_tokens, [...path, 'after_tokens'], { min: 0, integer: true }) ?? 5;
  if (o.duration !== undefined) f.duration_ms = c.duration(o.duration, [...path, 'duration']) ?? f.duration_ms;
  if (o.amount !== undefined) f.amount = c.number(o.amount, [...path, 'amount'], { min: 0 });
  if (o.reason !== undefined) f.reason = c.string(o.reason, [...path, 'reason']) ?? f.reason;
  return f;
}

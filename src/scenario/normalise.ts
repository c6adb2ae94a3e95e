/**
 * From checked plain values (check.ts) to a Scenario: fills every default, applies the rules that span
 * several keys, and collects problems (with positions) and warnings.
 */
import { isScalar } from 'yaml';
import type { Problem } from '../errors.js';
import { checkThreshold } from '../measure/thresholds.js';
import { mergePricing } from '../cost/pricing.js';
import { parseMockConfig } from '../mock/index.js';
import { whereOf, pathText, type CheckCtx } from './check.js';
import { modeKeyWarnings } from './mode-keys.js';
import { protocolKeyChecks } from './protocol-keys.js';
import { retiredModelWarning } from '../models.js';
import { MAX_LEVEL, MAX_STEPS } from './limits.js';
import { needOf } from './need.js';
import type { LoadSpec, ModelSpec, Price, RequestSpec, Scenario, StopRules, TargetSpec, ThresholdSpec, UserIdStrategy } from './types.js';
import { normaliseRate, normalisePolicies } from './rate.js';

/** Defaults, in one place (docs/scenario.md lists them). */
export const DEFAULTS = {
  protocol: 'openai',
  api_key_env: 'DEEPSEEK_API_KEY',
  prompt_tokens: 256,
  max_tokens: 64,
  stream: true,
  timeout_ms: 600_000,
  mode: 'search',
  start: 10,
  max: 3000,
  hold_ms: 10_000,
  precision: 1,
  growth: 2,
  recheck: true,
  backoff: { enabled: true, base_ms: 1000, factor: 2, cap_ms: 30_000 },
  drain_ms: 30_000,
  ramp_max_429_rate: 0.05,
  seed: 1,
  user_id_prefix: 'dsprobe-',
} as const;

/** DeepSeek's context window, tokens (prompt + output). */
const CONTEXT_TOKENS = 1_000_000;

type Raw = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export interface NormaliseCtx extends CheckCtx {
  warnings: string[];
  env: Record<string, string | undefined>;
}

/** Records a problem at a path of the document (or its nearest existing parent). */
export function at(ctx: NormaliseCtx, path: (string | number)[], message: string, hint?: string, colOffset = 0): void {
  const node = ctx.doc.getIn(path, true);
  const p: Problem = { path: pathText(path), message };
  const where = whereOf(ctx, node, colOffset);
  if (where) p.where = where;
  else {
    // The key is missing: point at its parent.
    const parent = path.length > 1 ? ctx.doc.getIn(path.slice(0, -1), true) : ctx.doc.contents;
    const w = whereOf(ctx, parent);
    if (w) p.where = w;
  }
  if (hint) p.hint = hint;
  ctx.problems.push(p);
}

/** `${VAR}` and `${VAR:-default}` from the environment. Unset variables are reported. */
export function expandEnv(
  value: string,
  env: Record<string, string | undefined>,
): { value: string; missing: string[] } {
  const missing: string[] = [];
  const out = value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g, (_m, name: string, def?: string) => {
    const v = env[name];
    if (v !== undefined && v !== '') return v;
    if (def !== undefined) return def;
    missing.push(name);
    return '';
  });
  return { value: out, missing };
}

/**
 * Header values with `${VAR}` expanded from the environment, for the transport (the scenario keeps the
 * references so that reports never hold the values). Unset variables are listed in `missing`.
 */
export function expandHeaders(
  headers: Record<string, string>,
  env: Record<string, string | undefined>,
): { headers: Record<string, string>; missing: string[] } {
  const out: Record<string, string> = {};
  const missing: string[] = [];
  for (const [k, v] of Object.entries(headers)) {
    const ex = expandEnv(v, env);
    out[k] = ex.value;
    missing.push(...ex.missing);
  }
  return { headers: out, missing };
}

/**
 * The secrets of `target.headers`: every value as sent, and every environment value filled into one (a
 * server may echo either). They are scrubbed from everything dsprobe writes or prints.
 */
export function headerSecrets(headers: Record<string, string>, env: Record<string, string | undefined>): string[] {
  const out: string[] = [];
  for (const v of Object.values(headers)) {
    out.push(expandEnv(v, env).value);
    for (const m of v.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-[^}]*)?\}/g)) {
      const e = env[m[1] as string];
      if (e) out.push(e);
    }
  }
  return out;
}

function target(raw: Raw, ctx: NormaliseCtx): TargetSpec {
  const t: Raw = raw.target ?? {};
  let url: string = t.url ?? '';
  if (typeof t.url === 'string') {
    const ex = expandEnv(t.url, ctx.env);
    if (ex.missing.length) {
      at(ctx, ['target', 'url'], `environment variable ${ex.missing.join(', ')} is not set`, 'set it, or write `${VAR:-default}`');
    }
    url = ex.value.trim();
    if (url !== 'mock' && !ex.missing.length) {
      let ok = false;
      try {
        const u = new URL(url);
        ok = (u.protocol === 'http:' || u.protocol === 'https:') && !!u.hostname;
      } catch {
        ok = false;
      }
      if (!ok) {
        at(ctx, ['target', 'url'], `expected \`mock\` or an http(s) URL (got ${JSON.stringify(url.replace(/\/\/[^/@]*@/, '//…@').slice(0, 60))})`, 'e.g. https://api.deepseek.com or mock');
      } else if (/^[a-z]+:\/\/[^/]*@/i.test(url) || /[?&][^=&]*(key|token|secret|auth)[^=&]*=/i.test(url)) {
        // The URL lands in reports and logs: credentials must travel in headers (never printed) instead.
        at(ctx, ['target', 'url'], 'must not carry credentials (user:password@ or a key in the query string)', 'keys go in api_key_env; other secrets in target.headers with ${VAR} values');
      } else {
        url = url.replace(/\/+$/, '');
      }
    }
  }
  const keys = t.api_key_env === undefined ? [DEFAULTS.api_key_env] : typeof t.api_key_env === 'string' ? [t.api_key_env] : (t.api_key_env as string[]);
  return { url, protocol: t.protocol ?? DEFAULTS.protocol, api_key_env: keys, headers: t.headers ?? {} };
}

function models(raw: Raw, ctx: NormaliseCtx): ModelSpec[] {
  const out: ModelSpec[] = [];
  for (const [name, m] of Object.entries((raw.models ?? {}) as Record<string, Raw>)) {
    const spec: ModelSpec = { name, weight: m?.weight ?? 1 };
    if (m?.inflight !== undefined) spec.inflight = m.inflight;
    if (m?.max !== undefined) spec.max = m.max;
    const need = m?.need === undefined ? null : needOf(m.need);
    if (need) spec.need = need;
    if (spec.inflight !== undefined && spec.max !== undefined && spec.inflight > spec.max) {
      at(ctx, ['models', name, 'max'], `must be >= models.${name}.inflight (got ${spec.max} < ${spec.inflight})`, `raise max or lower inflight`);
    }
    const w = retiredModelWarning(name);
    if (w) ctx.warnings.push(`models.${name}: ${w}`);
    out.push(spec);
  }
  return out;
}

function userId(raw: Raw, ctx: NormaliseCtx): UserIdStrategy {
  const u = raw.request?.user_id;
  if (u === undefined || u === 'none' || u.strategy === undefined) return { strategy: 'none' };
  const path = ['request', 'user_id'];
  // Written at all (even if invalid, which check.ts already reported)?
  const written = (key: string) => ctx.doc.hasIn([...path, key]);
  const s: UserIdStrategy = { strategy: u.strategy };
  const only = (key: string, strategies: string[]) => {
    if (u[key] !== undefined && !strategies.includes(u.strategy)) {
      at(ctx, [...path, key], `only applies to strategy ${strategies.join(' or ')}`, `remove it, or set strategy: ${strategies[0]}`);
    }
  };
  only('value', ['fixed']);
  only('count', ['rotating']);
  only('prefix', ['rotating']);
  if (u.strategy === 'fixed') {
    if (!written('value')) at(ctx, [...path, 'value'], 'is required with strategy fixed', 'e.g. `value: team-a`');
    else if (u.value !== undefined && Buffer.byteLength(u.value) > 512) at(ctx, [...path, 'value'], 'must be at most 512 bytes (DeepSeek rejects longer ids with 400)');
    s.value = u.value;
  } else if (u.strategy === 'rotating') {
    if (!written('count')) at(ctx, [...path, 'count'], 'is required with strategy rotating', 'e.g. `count: 8`');
    s.count = u.count ?? 1;
    s.prefix = u.prefix ?? DEFAULTS.user_id_prefix;
    if (Buffer.byteLength(s.prefix!) + String(s.count).length > 512) at(ctx, [...path, 'prefix'], 'makes ids longer than 512 bytes');
    if (s.prefix === '' ) at(ctx, [...path, 'prefix'], 'must not be empty (ids would be bare numbers, fine for DeepSeek but easy to confuse)', 'e.g. `prefix: user-`');
  }
  return s;
}

function request(raw: Raw, ctx: NormaliseCtx): RequestSpec {
  const r: Raw = raw.request ?? {};
  const out: RequestSpec = {
    prompt_tokens: r.prompt_tokens ?? DEFAULTS.prompt_tokens,
    max_tokens: r.max_tokens ?? DEFAULTS.max_tokens,
    stream: r.stream ?? DEFAULTS.stream,
    system_prefix_tokens: r.system_prefix_tokens ?? 0,
    thinking: r.thinking ?? false,
    user_id: userId(raw, ctx),
    timeout_ms: r.timeout ?? DEFAULTS.timeout_ms,
  };
  if (r.reasoning_effort !== undefined) {
    out.reasoning_effort = r.reasoning_effort;
    if (!out.thinking) at(ctx, ['request', 'reasoning_effort'], 'only applies in thinking mode', 'add `thinking: true` under request');
  }
  if (r.temperature !== undefined) out.temperature = r.temperature;
  if (r.max_body !== undefined) out.max_body = r.max_body;
  if (out.system_prefix_tokens > out.prompt_tokens) {
    at(ctx, ['request', 'system_prefix_tokens'], `must be <= request.prompt_tokens (got ${out.system_prefix_tokens} > ${out.prompt_tokens})`, 'prompt_tokens counts the shared prefix too');
  }
  if (out.prompt_tokens + out.max_tokens > CONTEXT_TOKENS) {
    at(ctx, ['request', 'max_tokens'], `prompt_tokens + max_tokens must fit the ${CONTEXT_TOKENS.toLocaleString('en-US')}-token context (got ${out.prompt_tokens + out.max_tokens})`);
  }
  if (out.timeout_ms <= 0) at(ctx, ['request', 'timeout'], 'must be longer than 0', 'e.g. `timeout: 2m`');
  return out;
}

function load(raw: Raw, ctx: NormaliseCtx): LoadSpec {
  const l: Raw = raw.load ?? {};
  const mode: LoadSpec['mode'] = l.mode ?? (l.rate !== undefined ? 'rate' : l.stages || l.step !== undefined ? 'ramp' : DEFAULTS.mode);
  if (mode !== 'rate') {
    // (load.drain applies to every mode: the final drain.)
    for (const k of ['arrival', 'rate', 'duration', 'max_inflight'] as const) {
      if (l[k] !== undefined) at(ctx, ['load', k], 'only applies to mode: rate', 'set `mode: rate` for open-loop arrivals');
    }
  }
  const hold: number = l.hold ?? DEFAULTS.hold_ms;
  if (l.hold !== undefined && hold <= 0) at(ctx, ['load', 'hold'], 'must be longer than 0', 'e.g. `hold: 10s`');
  const out: LoadSpec = {
    mode,
    start: l.start ?? DEFAULTS.start,
    max: l.max ?? DEFAULTS.max,
    hold_ms: hold,
    precision: l.precision ?? DEFAULTS.precision,
    growth: l.growth ?? DEFAULTS.growth,
    recheck: l.recheck ?? DEFAULTS.recheck,
    on_429: {
      enabled: l.on_429?.backoff ?? DEFAULTS.backoff.enabled,
      base_ms: l.on_429?.base ?? DEFAULTS.backoff.base_ms,
      factor: l.on_429?.factor ?? DEFAULTS.backoff.factor,
      cap_ms: l.on_429?.cap ?? DEFAULTS.backoff.cap_ms,
    },
    drain_ms: l.drain ?? DEFAULTS.drain_ms,
  };
  if (out.on_429.cap_ms < out.on_429.base_ms) {
    at(ctx, ['load', 'on_429', 'cap'], `must be >= load.on_429.base (got ${out.on_429.cap_ms} ms < ${out.on_429.base_ms} ms)`, 'raise cap or lower base');
  }
  // Keys the mode ignores (precision/growth/recheck outside a search, step/stages in a search, on_429 in rate
  // mode) are warnings with the reason (mode-keys.ts), so one file can switch modes with `--set load.mode=...`.
  if (mode === 'rate') {
    out.rate = normaliseRate(l, ctx);
    return out;
  }
  if (mode === 'ramp' && Array.isArray(l.stages)) {
    (l.stages as Raw[]).forEach((s, i) => {
      if (s && typeof s.inflight !== 'number' && !ctx.doc.hasIn(['load', 'stages', i, 'inflight'])) {
        at(ctx, ['load', 'stages', i, 'inflight'], 'is required', s.rate !== undefined ? 'a stage with `rate` needs `mode: rate`' : 'add `inflight:` for example `{ inflight: 100, hold: 10s }`');
      }
    });
    const stages = (l.stages as Raw[]).filter((s) => s && typeof s.inflight === 'number');
    out.stages = stages.map((s) => ({ inflight: s.inflight, hold_ms: s.hold ?? hold }));
    (l.stages as Raw[]).forEach((s, i) => {
      if (s?.hold !== undefined && s.hold <= 0) at(ctx, ['load', 'stages', i, 'hold'], 'must be longer than 0');
    });
    if (out.stages.length) {
      out.start = out.stages[0]!.inflight;
      out.max = Math.max(...out.stages.map((s) => s.inflight));
    }
    for (const k of ['start', 'max', 'step'] as const) {
      if (l[k] !== undefined) ctx.warnings.push(`load.${k} is ignored when load.stages is given`);
    }
  } else {
    if (mode === 'ramp') out.step = l.step ?? out.start;
    if (out.max < out.start) at(ctx, ['load', 'max'], `must be >= load.start (got ${out.max} < ${out.start})`, 'raise load.max or lower load.start');
  }
  boundLoad(l, out, ctx);
  return out;
}

/** Documented maxima (limits.ts): no level above MAX_LEVEL, no ramp of more than MAX_STEPS steps. */
function boundLoad(l: Raw, out: LoadSpec, ctx: NormaliseCtx): void {
  for (const k of ['start', 'max', 'step'] as const) {
    if (typeof l[k] === 'number' && l[k] > MAX_LEVEL) at(ctx, ['load', k], `must be at most ${MAX_LEVEL.toLocaleString('en-US')} in flight (got ${l[k]})`);
  }
  (out.stages ?? []).forEach((st, i) => {
    if (st.inflight > MAX_LEVEL) at(ctx, ['load', 'stages', i, 'inflight'], `must be at most ${MAX_LEVEL.toLocaleString('en-US')} in flight (got ${st.inflight})`);
  });
  if (out.mode === 'ramp' && !out.stages?.length && out.max >= out.start) {
    const steps = Math.floor((out.max - out.start) / Math.max(1, out.step ?? out.start)) + 1;
    if (steps > MAX_STEPS) {
      at(ctx, ['load', 'step'], `makes ${steps.toLocaleString('en-US')} ramp steps; at most ${MAX_STEPS.toLocaleString('en-US')}`, 'raise load.step, or lower load.max');
    }
  }
}

function perModelChecks(s: { models: ModelSpec[]; load: LoadSpec }, ctx: NormaliseCtx): void {
  for (const m of s.models) {
    for (const k of ['inflight', 'max'] as const) {
      const v = m[k];
      if (v !== undefined && v > MAX_LEVEL) at(ctx, ['models', m.name, k], `must be at most ${MAX_LEVEL.toLocaleString('en-US')} in flight (got ${v})`);
    }
  }
  if (s.load.mode !== 'search') return;
  for (const m of s.models) {
    const start = m.inflight ?? s.load.start;
    const max = m.max ?? s.load.max;
    if (m.max !== undefined && m.inflight === undefined && max < start) {
      at(ctx, ['models', m.name, 'max'], `must be >= load.start (got ${max} < ${start})`, `raise it, or set models.${m.name}.inflight to start lower`);
    }
  }
}

function stop(raw: Raw, mode: LoadSpec['mode']): StopRules {
  const s: Raw = raw.stop ?? {};
  const out: StopRules = {};
  const r429 = s.max_429_rate ?? (mode === 'ramp' ? DEFAULTS.ramp_max_429_rate : undefined);
  if (r429 !== undefined) out.max_429_rate = r429;
  if (s.max_error_rate !== undefined) out.max_error_rate = s.max_error_rate;
  return out;
}

function expectations(raw: Raw, modelNames: string[], ctx: NormaliseCtx): ThresholdSpec[] {
  const out: ThresholdSpec[] = [];
  ((raw.expect ?? []) as unknown[]).forEach((e, i) => {
    const isObj = typeof e === 'object' && e !== null;
    if (isObj && typeof (e as Raw).expr !== 'string') return; // already reported by check.ts
    const expression = isObj ? String((e as Raw).expr) : String(e);
    const path: (string | number)[] = isObj ? ['expect', i, 'expr'] : ['expect', i];
    const node = ctx.doc.getIn(path, true);
    const spec: ThresholdSpec = { expression, abort_on_fail: isObj ? ((e as Raw).abort_on_fail ?? false) : false };
    const where = whereOf(ctx, node);
    if (where) spec.source = where;
    out.push(spec);
    const err = checkThreshold(expression, modelNames);
    if (err) {
      // Point into the expression itself when it sits on one line (plain or quoted scalar).
      const quoted = isScalar(node) && (node.type === 'QUOTE_DOUBLE' || node.type === 'QUOTE_SINGLE') ? 1 : 0;
      const oneLine = isScalar(node) && node.type !== 'BLOCK_FOLDED' && node.type !== 'BLOCK_LITERAL';
      at(ctx, path, `${err.message} (in \`${expression}\`)`, err.hint, oneLine ? quoted + err.col - 1 : 0);
    }
  });
  return out;
}

function pricing(raw: Raw, ctx: NormaliseCtx): Record<string, Price> {
  const overrides = (raw.pricing ?? {}) as Record<string, Partial<Price>>;
  const merged = mergePricing(overrides);
  for (const [m, p] of Object.entries(merged)) {
    for (const k of ['input_cache_hit', 'input_cache_miss', 'output'] as const) {
      if (!Number.isFinite(p[k])) {
        at(ctx, ['pricing', m, k], `is required: dsprobe has no default price for ${m}`, 'give all three prices, USD per million tokens');
      }
    }
  }
  return merged;
}

/** `mock.caps.x` / `mock.faults[0].rate` -> path segments. */
function splitPath(text: string): (string | number)[] {
  return (text.match(/\[\d+\]|[^.[\]]+/g) ?? []).map((seg) => (seg.startsWith('[') ? Number(seg.slice(1, -1)) : seg));
}

/** The mock validates its own block; its problems get positions here (the deepest node of the path that exists). */
function mockProblems(mock: unknown, ctx: NormaliseCtx): void {
  for (const p of parseMockConfig(mock, 'mock').problems) {
    const segs = splitPath(p.path);
    let where: string | undefined = /unknown key/.test(p.message) ? keyWhere(ctx, segs) : undefined;
    for (let n = segs.length; n > 0 && !where; n--) {
      const node = ctx.doc.getIn(segs.slice(0, n), true);
      // A pair's key is where an unknown key is; its value is where a bad value is.
      where = whereOf(ctx, node) ?? (n === segs.length ? keyWhere(ctx, segs) : undefined);
    }
    ctx.problems.push(where && !p.where ? { ...p, where } : p);
  }
}

function keyWhere(ctx: NormaliseCtx, segs: (string | number)[]): string | undefined {
  const parent = ctx.doc.getIn(segs.slice(0, -1), true) as { items?: { key: unknown }[] } | undefined;
  const last = segs[segs.length - 1];
  const pair = parent?.items?.find((it) => isScalar(it.key) && String(it.key.value) === String(last));
  return pair ? whereOf(ctx, pair.key) : undefined;
}

/** Builds the Scenario from checked values. Problems and warnings go to ctx. */
export function normalise(raw: Raw, ctx: NormaliseCtx, defaultName: string): Scenario {
  const t = target(raw, ctx);
  const ms = models(raw, ctx);
  const l = load(raw, ctx);
  perModelChecks({ models: ms, load: l }, ctx);
  modeKeyWarnings(raw, l, ctx);
  const req = request(raw, ctx);
  protocolKeyChecks(t.protocol, req, ctx);
  const s: Scenario = {
    name: raw.name ?? defaultName,
    target: t,
    models: ms,
    request: req,
    load: l,
    stop: stop(raw, l.mode),
    expect: expectations(raw, ms.map((m) => m.name), ctx),
    budget: raw.budget ?? {},
    pricing: pricing(raw, ctx),
    seed: raw.seed ?? DEFAULTS.seed,
  };
  const policies = normalisePolicies(raw, l.mode, ctx);
  if (policies) s.policies = policies;
  if (raw.engine !== undefined) s.engine = { workers: (raw.engine as Raw).workers ?? 'auto' };
  if (raw.safety_margin !== undefined) {
    s.safety_margin = raw.safety_margin;
    if (t.url === 'mock') ctx.warnings.push('safety_margin only applies against real targets; it is ignored with the mock');
  }
  if (raw.probe !== undefined) {
    const pr: Raw = typeof raw.probe === 'string' ? { mode: raw.probe } : raw.probe;
    s.probe = { mode: pr.mode === 'cheap' ? 'cheap' : 'full', system_prefix_tokens: pr.system_prefix_tokens ?? 0 };
    if (pr.max_tokens !== undefined) s.probe.max_tokens = pr.max_tokens;
    if (pr.settle !== undefined) s.probe.settle_ms = pr.settle;
    if (l.mode !== 'search' && s.probe.mode === 'cheap') at(ctx, ['probe'], 'cheap probes apply to the cap search only', 'use load.mode: search, or remove probe');
  }
  if (raw.measure_at !== undefined) {
    s.measure_at = raw.measure_at as number[];
    if (l.mode !== 'search') at(ctx, ['measure_at'], 'measures fractions of a found cap, so it needs load.mode: search', 'use load.mode: search, or remove measure_at');
    (raw.measure_at as number[]).forEach((f, i) => {
      if (!(f > 0)) at(ctx, ['measure_at', i], `must be above 0 (got ${f})`, 'a fraction of the cap such as 80%');
    });
  }
  if (raw.mock !== undefined) {
    // Still checked, so a broken block fails in PR CI before launch day; but with a real URL it is only a
    // warning: one file serves PR CI (`--url mock`) and the launch (the real API).
    mockProblems(raw.mock, ctx);
    if (t.url !== 'mock' && t.url !== '') {
      const w = whereOf(ctx, ctx.doc.getIn(['mock'], true));
      ctx.warnings.push(`${w ? w + ': ' : ''}mock: ignored: target.url is not \`mock\` (the block applies only to the built-in mock)`);
    } else s.mock = raw.mock;
  }
  if (t.url !== 'mock') {
    for (const m of ms) {
      if (!s.pricing[m.name]) ctx.warnings.push(`models.${m.name}: no price known, so cost shows as $0; add it under pricing:`);
    }
  }
  return s;
}

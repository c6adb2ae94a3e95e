/**
 * Shards that share one account: their requests count against one cap, so the account's cap is read from the
 * merged in-flight timeline (every shard's timeline placed on one wall clock by its `started_at`), not from
 * adding up per-shard peaks (which need not coincide). For each shard, the other shards were the "other
 * traffic" on the account; the evidence says how much of it there was when the 429s began.
 */
import type { CapEstimate, Report, TimelinePoint } from '../types.js';

/** Milliseconds each shard started after the earliest one (wall clock; 0 when a start time does not parse). */
export function startOffsets(shards: readonly Report[]): number[] {
  const t = shards.map((r) => Date.parse(r.started_at));
  const min = Math.min(...t.filter((v) => Number.isFinite(v)));
  return t.map((v) => (Number.isFinite(v) && Number.isFinite(min) ? v - min : 0));
}

/** Width of the buckets the shards' timelines are summed in: the coarsest shard's point spacing. */
function bucketOf(shards: readonly Report[]): number {
  const spacing = (tl: readonly TimelinePoint[]) => {
    const ts = [...new Set(tl.map((p) => p.t_ms))].sort((a, b) => a - b);
    return ts.length > 1 ? ((ts[ts.length - 1] as number) - (ts[0] as number)) / (ts.length - 1) : 1000;
  };
  return Math.max(1, Math.round(Math.max(...shards.map((r) => spacing(r.timeline)))));
}

/** Per bucket of one model: the account's in-flight (summed), each shard's, and the 429s that arrived. */
interface AccountPoint {
  t_ms: number;
  perShard: number[];
  inflight: number;
  target: number;
  rate_limited: number;
  completed: number;
}

function accountPoints(shards: readonly Report[], model: string): AccountPoint[] {
  const offsets = startOffsets(shards);
  const bucket = bucketOf(shards);
  const by = new Map<number, AccountPoint>();
  shards.forEach((r, i) => {
    // Each shard's last point in a bucket stands for its in-flight there; counts add up.
    const lastT = new Map<number, number>();
    for (const p of r.timeline) {
      if (p.model !== model) continue;
      const t = p.t_ms + (offsets[i] as number);
      const b = Math.ceil(t / bucket);
      const o = by.get(b) ?? { t_ms: b * bucket, perShard: shards.map(() => 0), inflight: 0, target: 0, rate_limited: 0, completed: 0 };
      if ((lastT.get(b) ?? -Infinity) <= t) {
        lastT.set(b, t);
        o.perShard[i] = p.inflight;
        o.target = 0; // recomputed below from each shard's last target
      }
      o.rate_limited += p.rate_limited;
      o.completed += p.completed;
      by.set(b, o);
    }
  });
  const targets = new Map<number, number[]>();
  shards.forEach((r, i) => {
    for (const p of r.timeline) {
      if (p.model !== model) continue;
      const b = Math.ceil((p.t_ms + (offsets[i] as number)) / bucket);
      const list = targets.get(b) ?? shards.map(() => 0);
      list[i] = p.target;
      targets.set(b, list);
    }
  });
  return [...by.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([b, o]) => ({ ...o, inflight: o.perShard.reduce((x, y) => x + y, 0), target: (targets.get(b) ?? []).reduce((x, y) => x + y, 0) }));
}

/** The shards' timelines on one wall clock, in-flight and targets summed per bucket and model. */
export function mergeTimelinesByClock(shards: readonly Report[]): TimelinePoint[] {
  const models = [...new Set(shards.flatMap((r) => r.timeline.map((p) => p.model)))];
  return models
    .flatMap((model) => accountPoints(shards, model).map((p) => ({ t_ms: p.t_ms, model, inflight: p.inflight, target: p.target, rate_limited: p.rate_limited, completed: p.completed })))
    .sort((a, b) => a.t_ms - b.t_ms || a.model.localeCompare(b.model));
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

/** Shards whose starts lie within this of each other ran their steps together: summed steps are the account's. */
export const ALIGNED_MS = 1000;

/**
 * The account's cap of one model, with the shards on one clock. When the shards started together (within
 * ALIGNED_MS), their steps of one index ran at the same time, so the cap from the summed steps is the account's
 * (peak_admitted is exact per step, the timeline only sampled); the evidence adds the merged in-flight and
 * names the other traffic each shard met. When they did not, steps of one index ran at different times and
 * their sum means nothing: the cap comes from the merged timeline instead, the most requests in flight across
 * all shards in a bucket with no 429 (held, a lower bound) against the fewest above it in a bucket with 429s.
 */
export function accountCap(shards: readonly Report[], model: string, fromSteps: CapEstimate): CapEstimate {
  if (shards.length < 2) return fromSteps;
  const aligned = Math.max(...startOffsets(shards)) <= ALIGNED_MS;
  const pts = accountPoints(shards, model).filter((p) => p.inflight > 0);
  const clean = pts.filter((p) => p.rate_limited === 0);
  if (!clean.length) return fromSteps;
  const held = clean.reduce((a, p) => (p.inflight > a.inflight ? p : a));
  const limited = pts.filter((p) => p.rate_limited > 0 && p.inflight > held.inflight);
  const first429 = limited.length ? limited.reduce((a, p) => (p.inflight < a.inflight ? p : a)) : pts.filter((p) => p.rate_limited > 0).sort((a, b) => b.inflight - a.inflight)[0] ?? null;
  const names = shards.map((_, i) => `shard ${i + 1}`);
  const others = (i: number, p: AccountPoint) => names.map((n, j) => (j === i ? null : `${n} ${fmt(p.perShard[j] as number)}`)).filter(Boolean).join(', ');
  const evidence = [
    `Account cap from the merged in-flight timeline (${shards.length} shards placed on one clock by their start times): up to ${fmt(held.inflight)} requests in flight across all shards drew no 429${first429 ? `; 429s arrived with ${fmt(first429.inflight)} in flight` : ''}.`,
  ];
  if (first429) {
    first429.perShard.forEach((own, i) => {
      evidence.push(`${names[i]} held ${fmt(own)} when the 429s began; the other traffic on the account was the other shards (${others(i, first429)}).`);
    });
  }
  if (aligned) {
    evidence.push(`The shards started within ${ALIGNED_MS / 1000} s of each other, so their steps ran together: the cap above comes from the steps summed across shards.`);
    return { ...fromSteps, evidence: [...fromSteps.evidence, ...evidence] };
  }
  evidence.push(`The shards started up to ${fmt(Math.max(...startOffsets(shards)) / 1000)} s apart, so steps of one index did not run together: the cap comes from the merged timeline${fromSteps.estimate !== null ? `, not from adding up per-shard steps (which gave ${fmt(fromSteps.estimate)})` : ''}.`);
  if (!first429) return { ...fromSteps, status: 'not_reached', low: held.inflight, high: null, estimate: null, headroom: null, evidence };
  const low = Math.min(held.inflight, first429.inflight - 1);
  const high = Math.max(first429.inflight, low + 1);
  return {
    ...fromSteps,
    status: 'found',
    low,
    high,
    estimate: low,
    headroom: fromSteps.documented !== null ? low - fromSteps.documented : null,
    evidence,
  };
}

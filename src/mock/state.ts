/**
 * The ground-truth snapshot served at GET /_mock/state: what the mock counts right now, per account, model
 * and user, its server pools, totals, and its own event-loop delay and memory (for the benchmark).
 */
import type { IntervalHistogram } from 'node:perf_hooks';
import type { Accounts, CapSource } from './accounts.js';
import type { MockConfig } from './config.js';
import type { Engine, Totals } from './engine.js';
import type { BilledUsage } from './billing.js';

/** Counts of one account for one model. */
export interface ModelState {
  /** Admitted and not ended, queued included (what the cap counts). */
  in_flight: number;
  queued: number;
  /** The cap the next admission will be held to. */
  cap: number;
  cap_source: CapSource;
  /** Raised accounts: the per-user_id cap and the in-flight count per user_id ('' = none). */
  user_cap?: number;
  users?: Record<string, number>;
}

/** One account. */
export interface AccountStateView {
  name: string;
  raised: boolean;
  /** USD. */
  balance: number;
  models: Record<string, ModelState>;
}

/** Sampling interval of the event-loop delay monitor, ms; node records whole intervals, so this is subtracted. */
export const LOOP_RESOLUTION_MS = 10;

/** Event-loop delay of the mock's process since start or the last reset, ms: lateness beyond the sampling interval. */
export interface LoopDelay {
  min_ms: number;
  mean_ms: number;
  p50_ms: number;
  p99_ms: number;
  max_ms: number;
  /** Samples behind the figures. */
  count: number;
}

/** The whole snapshot. */
export interface MockState {
  /** The mock clock's monotonic time, ms (same clock as event timestamps). */
  now_ms: number;
  time_scale: number;
  models: string[];
  accounts: AccountStateView[];
  /** Server-wide pools per model (slots null = unlimited). */
  servers: Record<string, { slots: number | null; running: number; queued: number }>;
  totals: Totals;
  /** Billed usage per account name and model: prompt plus output streamed before the end or the cut (USD at DeepSeek's prices). */
  billing: Record<string, Record<string, BilledUsage>>;
  /** Open HTTP connections. */
  connections: number;
  event_loop: LoopDelay;
  memory: { rss_bytes: number; heap_used_bytes: number; external_bytes: number };
}

/** Builds the snapshot. */
export function snapshot(
  cfg: MockConfig,
  accounts: Accounts,
  engine: Engine,
  nowUs: number,
  loop: IntervalHistogram,
  connections: number,
  memory: { rss: number; heapUsed: number; external: number },
): MockState {
  const views: AccountStateView[] = accounts.list.map((a) => {
    const models: Record<string, ModelState> = {};
    const names = new Set([...cfg.models, ...a.models.keys()]);
    for (const m of names) {
      const c = a.counter(m);
      const { cap, source } = accounts.effectiveCap(a, m, nowUs);
      const ms: ModelState = { in_flight: c.inFlight, queued: c.queued, cap, cap_source: source };
      if (a.cfg.raised) {
        ms.user_cap = accounts.userCap(a, m);
        ms.users = Object.fromEntries(c.users);
      }
      models[m] = ms;
    }
    return { name: a.cfg.name, raised: a.cfg.raised, balance: a.balance, models };
  });
  const servers: MockState['servers'] = {};
  for (const m of cfg.models) engine.pool(m);
  for (const [m, p] of engine.pools) {
    servers[m] = { slots: Number.isFinite(p.slots) ? p.slots : null, running: p.running, queued: p.waiting };
  }
  const ns = (v: number) => (Number.isFinite(v) ? Math.max(0, v / 1e6 - LOOP_RESOLUTION_MS) : 0);
  const empty = loop.count === 0;
  return {
    now_ms: nowUs / 1000,
    time_scale: cfg.time_scale,
    models: cfg.models,
    accounts: views,
    servers,
    totals: { ...engine.totals },
    billing: engine.billing.view(),
    connections,
    event_loop: {
      min_ms: empty ? 0 : ns(loop.min),
      mean_ms: empty ? 0 : ns(loop.mean),
      p50_ms: empty ? 0 : ns(loop.percentile(50)),
      p99_ms: empty ? 0 : ns(loop.percentile(99)),
      max_ms: empty ? 0 : ns(loop.max),
      count: loop.count,
    },
    memory: { rss_bytes: memory.rss, heap_used_bytes: memory.heapUsed, external_bytes: memory.external },
  };
}

/**
 * Names the cause of a model's limit from what its steps show (pure): one account cap shared by every key,
 * separate caps per key (keys of separate accounts), a per-user_id cap, a queue without 429 (503s or timeouts after
 * a steady wait), other traffic on the account, or "unclear". See docs/report-schema.md, "Causes".
 */
import type { Breakdown, StepReport } from '../types.js';

export type Cause = 'account_cap' | 'per_key_caps' | 'per_user_id_cap' | 'queue_without_429' | 'other_traffic' | 'unclear';

/** Two counts agree when within this share (or 2 requests): client-side open counts lag the server's by a few. */
const AGREE_SHARE = 0.05;
const agree = (a: number, b: number) => Math.abs(a - b) <= Math.max(2, Math.ceil(AGREE_SHARE * Math.max(a, b)));

/** A steady wait: the shortest wait before a failure is at least this share of the longest. */
const STEADY_SHARE = 0.5;

export function explainCause(
  steps: readonly StepReport[],
  ctx: { estimate: number | null; serverReported: number | null; status: string },
): { cause: Cause | null; evidence: string[] } {
  const over = steps.filter((s) => s.rate_limited > 0);
  if (!over.length) return queueWithout429(steps);
  const keys = Math.max(...steps.map((s) => s.by_key?.length ?? 1));
  const users = Math.max(...steps.map((s) => (s.by_user ?? []).filter((u) => u.id !== '').length));
  const withFigure = over.filter((s) => s.server_reported !== null);
  // The figure counts what the limiter that refused counts: compare it with the total held, each key's and each
  // user_id's own count on the same step (latest steps first).
  for (const st of [...withFigure].reverse()) {
    const fig = st.server_reported as number;
    const total = st.peak_admitted;
    if (agree(fig, total)) continue;
    const keyHit = keys > 1 ? (st.by_key ?? []).find((k) => k.rate_limited > 0 && agree(k.peak_open, fig)) : undefined;
    if (keyHit) {
      return { cause: 'per_key_caps', evidence: [`Separate caps per key (keys of separate accounts): 429s quoted ${fig}, what key ${keyHit.id} alone held (${keyHit.peak_open}), not the ${total} held in all.`, keyTable(st.by_key ?? [])] };
    }
    const userHit = users > 1 ? (st.by_user ?? []).find((u) => u.id !== '' && u.rate_limited > 0 && agree(u.peak_open, fig)) : undefined;
    if (userHit) {
      return {
        cause: 'per_user_id_cap',
        evidence: [`A per-user_id cap: 429s quoted ${fig}, what user_id "${userHit.id}" alone held (${userHit.peak_open}), not the ${total} held in all; the 429s follow each user_id's own count.`],
      };
    }
  }
  const last = withFigure[withFigure.length - 1];
  if (last) {
    const fig = last.server_reported as number;
    const total = last.peak_admitted;
    if (agree(fig, total)) return account(keys, users, `the server's figure (${fig}) matches the ${total} dsprobe held at once`);
    if (fig > total) {
      return {
        cause: 'other_traffic',
        evidence: [
          `The server counted ${fig} open while dsprobe held at most ${total} on that level: other traffic may share this account's cap ` +
            '(other keys, services or CI jobs of the account).',
        ],
      };
    }
    return { cause: 'unclear', evidence: [`The server's figure (${fig}) is below the ${total} dsprobe held and matches no key's or user_id's count: cause unclear.`] };
  }
  // No figure (a gateway's or Anthropic's 429 body): refusals that fall on one key while another is still admitted.
  for (const s of over) {
    const ks = s.by_key ?? [];
    const refused = ks.filter((k) => k.rate_limited > 0);
    const spared = ks.filter((k) => k.rate_limited === 0 && k.admitted > 0);
    if (refused.length && spared.length && Math.max(...spared.map((k) => k.peak_open)) > Math.min(...refused.map((k) => k.peak_open))) {
      return { cause: 'per_key_caps', evidence: [`Separate caps per key (keys of separate accounts): at ${s.target_inflight} in flight some keys drew 429s while others, holding more, drew none.`, keyTable(ks)] };
    }
  }
  if (users > 1) {
    const perUser = over.map((s) => {
      const us = (s.by_user ?? []).filter((u) => u.id !== '');
      const refused = us.filter((u) => u.rate_limited > 0);
      const spared = us.filter((u) => u.rate_limited === 0 && u.admitted > 0);
      return refused.length && spared.length && Math.min(...refused.map((u) => u.peak_open)) > Math.max(...spared.map((u) => u.peak_open))
        ? Math.min(...refused.map((u) => u.peak_open))
        : null;
    });
    if (perUser.length && perUser.every((p) => p !== null) && new Set(perUser).size === 1) {
      return { cause: 'per_user_id_cap', evidence: [`A per-user_id cap: 429s fell only on user_ids holding ${perUser[0]} open, never on those holding fewer, whatever the total.`] };
    }
  }
  return account(keys, users, null);
}

function account(keys: number, users: number, why: string | null): { cause: Cause; evidence: string[] } {
  const shared = keys > 1 ? `one account cap shared by all ${keys} keys` : 'one account cap';
  const u = users > 1 ? ` (the ${users} user_ids shared it too)` : '';
  return { cause: 'account_cap', evidence: [`Cause: ${shared}${u}${why ? `: ${why}` : ''}.`] };
}

function keyTable(ks: readonly Breakdown[]): string {
  return 'Per key: ' + ks.map((k) => `key ${k.id}: ${k.admitted} admitted, ${k.rate_limited} 429, peak ${k.peak_open} open`).join('; ') + '.';
}

/** No 429 at all: a queue in front of the server shows as 5xx or timeouts after a steady wait, or queued timeouts. */
function queueWithout429(steps: readonly StepReport[]): { cause: Cause | null; evidence: string[] } {
  const failing = steps.filter((s) => (s.failed_after_wait?.count ?? 0) > 0 || (s.queued_timed_out ?? 0) > 0);
  if (!failing.length) return { cause: null, evidence: [] };
  const n = failing.reduce((a, s) => a + (s.failed_after_wait?.count ?? 0), 0);
  const minMs = Math.min(...failing.map((s) => s.failed_after_wait?.min_ms ?? Infinity));
  const maxMs = Math.max(...failing.map((s) => s.failed_after_wait?.max_ms ?? 0));
  const from = Math.min(...failing.map((s) => s.target_inflight));
  const steady = n > 0 && minMs >= STEADY_SHARE * maxMs;
  const queuedTo = failing.reduce((a, s) => a + (s.queued_timed_out ?? 0), 0);
  if (!steady && !queuedTo) return { cause: 'unclear', evidence: [`${n} requests failed with server errors or timeouts from ${from} in flight, after waits of ${minMs}–${maxMs} ms: cause unclear.`] };
  return {
    cause: 'queue_without_429',
    evidence: [
      `A queue without 429: no request drew a 429, but from ${from} in flight ${n} failed with a server error or timeout after a steady wait ` +
        `(${minMs}–${maxMs} ms)${queuedTo ? ` and ${queuedTo} timed out while queued` : ''}. Requests beyond some limit wait in a queue ` +
        '(a proxy\'s connection limit and queue timeout, or the provider\'s scheduler) and are refused when the wait runs out.',
    ],
  };
}

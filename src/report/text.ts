/**
 * The terminal summary that ends a run: one table of caps per model, then per-step figures.
 */
import type { Report, StepReport } from '../types.js';
import { rehearsalLines, rehearsalRows } from './text-rehearsal.js';
import { STEAL_NOTE_SHARE } from '../measure/client.js';

function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length))) ?? [];
  return rows.map((r) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c] ?? 0) : cell.padStart(widths[c] ?? 0))).join('  ')).join('\n');
}

const ms = (v: number) => (v >= 1000 ? `${(v / 1000).toFixed(2)}s` : `${v.toFixed(v < 10 ? 1 : 0)}ms`);
const pct = (v: number) => `${(v * 100).toFixed(1)}%`;
const num = (v: number | null) => (v === null ? '-' : String(v));

/** Per-step rows of one model. */
export function stepRows(steps: readonly StepReport[]): string[][] {
  // requests = ok + 429 + errors + aborted: every column that counts requests is shown, so they add up.
  const rows = [['step', 'target', 'achieved', 'held', 'requests', 'ok', '429', '429 %', 'errors', 'aborted', 'ttft p50', 'ttft p99', 'e2e p99', 'ka wait p99', 'ended']];
  for (const s of steps) {
    const errs = s.requests - s.ok - s.rate_limited - s.outcomes.aborted;
    rows.push([
      String(s.index),
      String(s.target_inflight),
      s.achieved_inflight.toFixed(0),
      String(s.peak_admitted),
      String(s.requests),
      String(s.ok),
      String(s.rate_limited),
      pct(s.rate_429),
      String(errs),
      String(s.outcomes.aborted),
      s.ttft_ms.count ? ms(s.ttft_ms.p50) : '-',
      s.ttft_ms.count ? ms(s.ttft_ms.p99) : '-',
      s.latency_ms.count ? ms(s.latency_ms.p99) : '-',
      s.keepalive_wait_ms.count ? ms(s.keepalive_wait_ms.p99) : '-',
      s.ended_by,
    ]);
  }
  return rows;
}

/** The whole summary, plain text (no colour: the CLI may colour it). */
export function renderText(r: Report, opts: { steps?: boolean } = {}): string {
  const out: string[] = [];
  if (opts.steps !== false) {
    for (const m of r.models) {
      out.push(`${m.model}: steps`);
      out.push(table(stepRows(m.steps)));
      out.push('');
    }
  }
  const caps = [['model', 'cap', 'status', 'low', 'high', 'server said', 'documented', 'headroom', 'queueing at', 'requests', 'tokens', 'cost']];
  for (const m of r.models) {
    const c = m.cap;
    caps.push([
      m.model,
      num(c.estimate),
      c.status + (c.moved ? ' (moved)' : ''),
      num(c.low),
      num(c.high),
      num(c.server_reported),
      num(c.documented),
      c.headroom === null ? '-' : (c.headroom > 0 ? '+' : '') + c.headroom,
      num(c.queueing_began_at),
      String(m.spend.requests),
      String(m.spend.tokens.prompt + m.spend.tokens.completion),
      `$${m.spend.usd.toFixed(4)}`,
    ]);
  }
  out.push(table(caps));
  for (const m of r.models) for (const e of m.cap.evidence) out.push(`  ${m.model}: ${e}`);
  if (r.rehearsal) {
    out.push('');
    out.push(table(rehearsalRows(r.rehearsal)));
    out.push(...rehearsalLines(r.rehearsal));
  }
  const planned = r.models.filter((m) => m.headroom);
  if (planned.length) {
    out.push('');
    out.push('headroom against the plan (need:):');
    for (const m of planned) out.push(`  ${m.model}: ${m.headroom!.reason}`);
  }
  if (r.thresholds.length) {
    out.push('');
    out.push('thresholds:');
    for (const t of r.thresholds) out.push(`  ${t.passed ? 'PASS' : 'FAIL'}  ${t.expression}  (actual ${t.actual_text})${t.note ? '  ' + t.note : ''}`);
  }
  out.push('');
  out.push(
    `run: ${r.status}${r.status_reason ? ` (${r.status_reason})` : ''}; ${(r.duration_ms / 1000).toFixed(1)} s; ${r.cost.requests} requests; ` +
      `${r.cost.tokens.prompt + r.cost.tokens.completion} tokens; $${r.cost.usd.toFixed(4)}` +
      `${r.cost.estimated ? ' (estimated)' : ''}${r.target.mock ? ' at DeepSeek prices (the mock bills nothing)' : ''}; ` +
      `dsprobe loop delay p99 ${r.loop.delay_p99_ms == null ? 'unknown (not in the samples)' : `${r.loop.delay_p99_ms.toFixed(1)} ms`}`,
  );
  const own = ownLoad(r);
  if (own) out.push(own);
  const sp = r.cost.split;
  if (sp) out.push(`cost: cap search $${sp.search_usd.toFixed(4)}; measurement at the workload $${sp.measure_usd.toFixed(4)}`);
  if (r.budget) {
    const b = r.budget;
    const set = [b.max_usd !== null ? `$${b.max_usd}` : null, b.max_tokens !== null ? `${b.max_tokens} tokens` : null].filter(Boolean).join(' / ');
    out.push(`budget: set ${set}; spent $${b.spent_usd.toFixed(4)}, ${b.spent_tokens} tokens; still reserved $${b.reserved_usd.toFixed(4)}, ${b.reserved_tokens} tokens`);
  }
  for (const w of r.warnings) out.push(`warning: ${w}`);
  return out.join('\n') + '\n';
}

/**
 * dsprobe's own load at its busiest level (its busiest thread's busy share, the process's CPU in cores), its
 * longest GC pause in any level and the host's CPU steal when it was STEAL_NOTE_SHARE or more, or null when no step
 * recorded them (a report rebuilt from samples).
 */
function ownLoad(r: Report): string | null {
  let top: { model: string; level: number; busy: number; thread: number; cpu?: number } | null = null;
  let gc = 0;
  let steal: { model: string; level: number; share: number } | null = null;
  for (const m of r.models) {
    for (const s of m.steps) {
      const c = s.client;
      if (c?.host_steal !== undefined && (!steal || c.host_steal > steal.share)) steal = { model: m.model, level: s.target_inflight, share: c.host_steal };
      if (!c?.busy?.length) continue;
      const busy = Math.max(...c.busy);
      if (!top || busy > top.busy) top = { model: m.model, level: s.target_inflight, busy, thread: c.busy.indexOf(busy), ...(c.cpu_cores !== undefined ? { cpu: c.cpu_cores } : {}) };
      if ((c.gc_max_ms ?? 0) > gc) gc = c.gc_max_ms ?? 0;
    }
  }
  if (!top) return null;
  const who = top.thread === 0 ? 'main thread' : `worker ${top.thread}`;
  return (
    `dsprobe's own load: busiest at ${top.model}@${top.level} (${who} ${Math.round(top.busy * 100)}% busy` +
    `${top.cpu !== undefined ? `, CPU ${top.cpu.toFixed(2)} cores` : ''}); longest GC pause ${gc.toFixed(1)} ms` +
    // The host's CPU steal (Linux), when it took a share worth naming: it stalls dsprobe as its own lag would.
    (steal && steal.share >= STEAL_NOTE_SHARE ? `; the host took up to ${Math.round(steal.share * 100)} % of this machine's CPU time (steal, at ${steal.model}@${steal.level})` : '')
  );
}

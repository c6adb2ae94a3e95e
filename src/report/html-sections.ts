/**
 * The HTML report's static sections, rendered in Node as escaped HTML (so they read and print without
 * JavaScript): the headline per model, per-level tables, errors, thresholds, scenario and environment.
 * Every value from the report passes through escapeHtml.
 */
import { stringify } from 'yaml';
import type { CapEstimate, ErrorGroup, ModelReport, Percentiles, Report, TokenTotals } from '../types.js';
import { escapeHtml as e } from './html-escape.js';
import { levelsOf, pickLevels, type Level } from './html-data.js';

/** Most rows in a model's per-level table; beyond it, rows are sampled (the cap bracket always kept). */
export const MAX_TABLE_ROWS = 60;

/** `1,234` (en-US grouping, so output does not depend on the machine's locale). */
export function fmtInt(n: number | null | undefined): string {
  return n == null || !Number.isFinite(n) ? '–' : Math.round(n).toLocaleString('en-US');
}

/** Milliseconds as `850ms` or `2.31s`. */
export function fmtMs(ms: number | null | undefined): string {
  if (ms == null || !Number.isFinite(ms)) return '–';
  if (ms >= 1000) return `${(ms / 1000).toFixed(ms >= 100_000 ? 0 : 2)}s`;
  return `${ms >= 100 ? ms.toFixed(0) : ms.toFixed(1)}ms`;
}

/** A fraction as a percentage, `4.2%`. */
export function fmtPct(f: number | null | undefined): string {
  return f == null || !Number.isFinite(f) ? '–' : `${(f * 100).toFixed(f > 0 && f < 0.001 ? 3 : 1)}%`;
}

/** Dollars with enough digits for cheap runs. */
export function fmtUsd(usd: number): string {
  return usd >= 100 ? `$${usd.toFixed(0)}` : usd >= 1 ? `$${usd.toFixed(2)}` : `$${usd.toFixed(4)}`;
}

/** Signed integer, `+12` / `−20` / `0`. */
export function fmtSigned(n: number | null): string {
  if (n == null) return '–';
  return n > 0 ? `+${fmtInt(n)}` : n < 0 ? `−${fmtInt(-n)}` : '0';
}

function tokensText(t: TokenTotals): string {
  return `${fmtInt(t.prompt)} in (${fmtInt(t.cache_hit)} cached) / ${fmtInt(t.completion)} out`;
}

/** CSS class of a cap status badge. */
function statusClass(c: CapEstimate): string {
  return c.status === 'found' ? 'b-ok' : c.status === 'unclear' ? 'b-bad' : 'b-warn';
}

function capLine(c: CapEstimate): string {
  if (c.estimate !== null) return `${fmtInt(c.estimate)} <small>requests in flight</small>`;
  if (c.status === 'not_reached') return `&gt; ${fmtInt(c.low)} <small>not reached</small>`;
  return `? <small>unclear</small>`;
}

/** One headline card: cap, bracket, status, headroom, queueing onset, spend, evidence. */
/** The page's per-model colours (same order as the charts' palette in html-client.ts). */
export const MODEL_COLORS = ['#1f6feb', '#d1242f', '#1a7f37', '#8250df', '#bf8700', '#0a7ea4'];

function headlineCard(m: ModelReport, i: number): string {
  const c = m.cap;
  const bracket = c.low !== null || c.high !== null ? `${fmtInt(c.low)} clean … ${fmtInt(c.high)} drew 429` : '–';
  const headroom = c.headroom === null ? '–' : `${fmtSigned(c.headroom)} vs documented ${fmtInt(c.documented)}`;
  return `<section class="card model-card">
<h3 class="model-name" style="border-color:${MODEL_COLORS[i % MODEL_COLORS.length]}">${e(m.model)} <span class="badge ${statusClass(c)}">${e(c.status)}</span></h3>
<div class="cap">${capLine(c)}</div>
<dl class="kv">
<dt>Bracket</dt><dd>${bracket}</dd>
<dt>Server's figure</dt><dd>${c.server_reported === null ? 'never quoted' : fmtInt(c.server_reported)}</dd>
<dt>Headroom</dt><dd>${headroom}</dd>
<dt>Edge</dt><dd>${e(c.edge ?? '–')}${c.moved ? ' <span class="badge b-warn">cap moved</span>' : ''}</dd>
<dt>Queueing began</dt><dd>${c.queueing_began_at === null ? 'no keep-alive queueing seen' : `at ${fmtInt(c.queueing_began_at)} in flight`}</dd>
<dt>Spent</dt><dd>${fmtInt(m.spend.requests)} requests (${fmtInt(m.spend.admitted)} admitted, ${fmtInt(m.spend.rate_limited)} × 429), ${fmtUsd(m.spend.usd)}, ${fmtInt(m.spend.seconds)} s</dd>
<dt>Tokens</dt><dd>${tokensText(m.spend.tokens)}</dd>
</dl>
<ul class="evidence">${c.evidence.map((x) => `<li>${e(x)}</li>`).join('')}</ul>
</section>`;
}

/** Headline cards for every model, side by side, and the run's cost. */
export function headlineSection(r: Report): string {
  const cost = r.cost;
  return `<h2>Caps found</h2>
<div class="cards">${r.models.map(headlineCard).join('\n')}</div>
<p class="muted">Run cost: <strong>${fmtUsd(cost.usd)}</strong>${cost.estimated ? ' (estimated)' : ''} for ${fmtInt(cost.requests)} requests (${fmtInt(cost.admitted)} admitted); ${tokensText(cost.tokens)} tokens.</p>`;
}

function levelRow(l: Level, c: CapEstimate): string {
  const s = l.step;
  const mark = c.status === 'found' && (l.inflight === c.low || l.inflight === c.high) ? ' class="bracket"' : '';
  // A percentile with no sample behind it is "–", not 0 ms.
  const p = (x: Percentiles, k: 'p50' | 'p99') => (x.count ? fmtMs(x[k]) : '–');
  const at = l.from === l.to ? fmtInt(l.inflight) : `${fmtInt(l.from)}–${fmtInt(l.to)}`;
  // A level where dsprobe itself may have set the pace says so (it never proves a level held).
  const bound = s.client_bound ? ` <span class="warn" title="${e(s.client?.why ?? 'client-bound')}">client-bound</span>` : '';
  return `<tr${mark}><td>${at}${bound}</td><td>${s.achieved_inflight.toFixed(1)}</td><td>${fmtInt(s.requests)}</td><td>${fmtInt(s.rate_limited)}</td><td>${fmtPct(s.rate_429)}</td><td>${fmtInt(s.queued)}</td><td>${p(s.ttft_ms, 'p50')}</td><td>${p(s.ttft_ms, 'p99')}</td><td>${p(s.latency_ms, 'p50')}</td><td>${p(s.latency_ms, 'p99')}</td><td>${p(s.keepalive_wait_ms, 'p99')}</td><td>${fmtPct(s.error_rate)}</td></tr>`;
}

/** One table per model of its in-flight levels (bracket rows highlighted), sampled when long. */
export function levelsSection(r: Report): string {
  const tables = r.models.map((m, i) => {
    const all = levelsOf(m.steps);
    let rows = all;
    let note = '';
    if (all.length > MAX_TABLE_ROWS) {
      const keep = new Set(pickLevels(all, MAX_TABLE_ROWS - 2));
      for (const l of all) if (l.inflight === m.cap.low || l.inflight === m.cap.high) keep.add(l);
      rows = all.filter((l) => keep.has(l));
      note = `<p class="muted">${rows.length} of ${fmtInt(all.length)} levels shown; report.json holds every step.</p>`;
    }
    return `<h3 class="model-name" style="border-color:${MODEL_COLORS[i % MODEL_COLORS.length]}">${e(m.model)}</h3>${note}<div class="table-wrap"><table>
<thead><tr><th>in flight</th><th>achieved</th><th>requests</th><th>429s</th><th>429 rate</th><th>queued</th><th>TTFT p50</th><th>TTFT p99</th><th>E2E p50</th><th>E2E p99</th><th>keep-alive p99</th><th>errors</th></tr></thead>
<tbody>${rows.map((l) => levelRow(l, m.cap)).join('\n')}</tbody></table></div>`;
  });
  return `<h2>Levels</h2>\n${tables.join('\n')}`;
}

/** Errors of every model grouped by outcome, status and detail across steps, with a sample message. */
export function errorsSection(r: Report): string {
  const rows: (ErrorGroup & { model: string })[] = [];
  for (const m of r.models) {
    const by = new Map<string, ErrorGroup & { model: string }>();
    for (const s of m.steps) {
      for (const g of s.errors) {
        const k = `${g.outcome}|${g.status ?? ''}|${g.detail ?? ''}`;
        const have = by.get(k);
        if (have) have.count += g.count;
        else by.set(k, { ...g, model: m.model });
      }
    }
    rows.push(...[...by.values()].sort((a, b) => b.count - a.count));
  }
  if (!rows.length) return '<h2>Errors</h2><p class="muted">No failed request.</p>';
  return `<h2>Errors</h2><div class="table-wrap"><table>
<thead><tr><th class="l">model</th><th class="l">outcome</th><th>status</th><th class="l">detail</th><th>count</th><th class="l">sample message (as sent by the server)</th></tr></thead>
<tbody>${rows
    .map((g) => `<tr><td class="l">${e(g.model)}</td><td class="l">${e(g.outcome)}</td><td>${g.status ?? '–'}</td><td class="l">${e(g.detail ?? '–')}</td><td>${fmtInt(g.count)}</td><td class="msg">${e(g.message)}</td></tr>`)
    .join('\n')}</tbody></table></div>`;
}

/** Threshold verdicts with the measured value. */
export function thresholdsSection(r: Report): string {
  if (!r.thresholds.length) return '<h2>Thresholds</h2><p class="muted">No thresholds were set.</p>';
  const failed = r.thresholds.filter((t) => !t.passed).length;
  return `<h2>Thresholds <span class="badge ${failed ? 'b-bad' : 'b-ok'}">${failed ? `${failed} failed` : 'all passed'}</span></h2>
<div class="table-wrap"><table><thead><tr><th class="l">threshold</th><th class="l">verdict</th><th>actual</th><th class="l">note</th></tr></thead><tbody>
${r.thresholds
    .map((t) => `<tr><td class="l msg">${e(t.expression)}</td><td class="l ${t.passed ? 'pass' : 'fail'}">${t.passed ? 'pass' : 'FAIL'}${t.abort_on_fail ? ' (aborts)' : ''}</td><td>${e(t.actual_text)}</td><td class="l">${e(t.note ?? '')}</td></tr>`)
    .join('\n')}</tbody></table></div>`;
}

/** The scenario as run (already redacted by the run) and the environment, with event-loop health. */
export function contextSection(r: Report): string {
  const env = r.environment;
  const loop = r.loop;
  let scenario: string;
  try {
    scenario = stringify(r.scenario ?? null, { lineWidth: 0 });
  } catch {
    scenario = JSON.stringify(r.scenario, null, 2);
  }
  return `<h2>Environment</h2>
<div class="cards"><section class="card"><dl class="kv">
<dt>dsprobe</dt><dd>${e(env.dsprobe)}</dd><dt>Node</dt><dd>${e(env.node)}</dd>
<dt>OS</dt><dd>${e(env.os)} ${e(env.arch)}, ${fmtInt(env.cpus)} CPUs</dd>
<dt>Target</dt><dd>${e(r.target.url)} (${e(r.target.protocol)}${r.target.mock ? ', built-in mock' : ''}, ${fmtInt(r.target.keys)} key${r.target.keys === 1 ? '' : 's'})</dd>
<dt>Mode</dt><dd>${e(r.mode)}, seed ${fmtInt(r.seed)}</dd>
${r.shards ? `<dt>Shards</dt><dd>${fmtInt(r.shards)} merged</dd>` : ''}
</dl></section>
<section class="card"><h3>dsprobe's event loop</h3><dl class="kv">
<dt>delay p50</dt><dd>${fmtMs(loop.delay_p50_ms)}</dd><dt>delay p99</dt><dd>${fmtMs(loop.delay_p99_ms)}</dd><dt>delay max</dt><dd>${fmtMs(loop.delay_max_ms)}</dd>
</dl>${loop.warning ? `<p class="fail">${e(loop.warning)}</p>` : '<p class="pass">Healthy: latency figures are not skewed by the prober itself.</p>'}</section></div>
<h2>Scenario (secrets redacted)</h2><pre>${e(scenario)}</pre>`;
}

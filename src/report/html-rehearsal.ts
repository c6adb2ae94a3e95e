/**
 * The HTML report's rate-mode section: every policy side by side (static, escaped HTML with bars for goodput
 * and p99 application latency, readable without JavaScript), the recommendation, and the data plus script for
 * the charts over time (goodput, p99 application latency, client queue length: one line per policy).
 * Policy names are untrusted text only in the sense that they come from the scenario: escaped all the same.
 */
import type { PolicyModelReport, Report, RehearsalReport } from '../types.js';
import { escapeHtml as e } from './html-escape.js';
import { fmtInt, fmtMs, fmtPct, MODEL_COLORS } from './html-sections.js';

/** Series over time per policy, for the charts (t in seconds since each policy's start). */
export interface RehearsalChartData {
  policies: string[];
  t: number[];
  goodput: (number | null)[][];
  p99: (number | null)[][];
  queue: (number | null)[][];
}

/** The chart data: every policy's timeline aligned on one time axis (policies start at t = 0 each). */
export function rehearsalChartData(r: RehearsalReport): RehearsalChartData {
  const n = Math.max(0, ...r.policies.map((p) => p.total.timeline.length));
  const bucketS = r.bucket_ms / 1000;
  const t = Array.from({ length: n }, (_, i) => Math.round(i * bucketS * 1000) / 1000);
  const col = (f: (x: PolicyModelReport['timeline'][number]) => number | null) =>
    r.policies.map((p) => t.map((_, i) => {
      const x = p.total.timeline[i];
      return x ? f(x) : null;
    }));
  return {
    policies: r.policies.map((p) => p.name),
    t,
    goodput: col((x) => Math.round((x.ok / bucketS) * 100) / 100),
    p99: col((x) => (x.ok ? x.app_p99_ms : null)),
    queue: col((x) => x.queue_max),
  };
}

function bar(value: number, max: number, colour: string, text: string): string {
  const w = max > 0 ? Math.max(0, Math.min(100, (value / max) * 100)) : 0;
  return `<div class="rh-bar"><span style="width:${w.toFixed(1)}%;background:${colour}"></span><em>${e(text)}</em></div>`;
}

/** The static section (table with bars, recommendation, chart containers). */
export function rehearsalSection(report: Report): string {
  const r = report.rehearsal;
  if (!r) return '';
  const maxGood = Math.max(0, ...r.policies.map((p) => p.total.offered_rps));
  const maxP99 = Math.max(0, ...r.policies.map((p) => p.total.app_latency_ms.p99));
  const rows = r.policies.map((p, i) => {
    const t = p.total;
    const c = MODEL_COLORS[i % MODEL_COLORS.length] as string;
    const shed = Object.entries(t.shed_by_reason).filter(([, v]) => v > 0).map(([k, v]) => `${e(k)} ${fmtInt(v)}`).join(', ') || '–';
    const b = p.breaker ? `${fmtInt(p.breaker.opens)}× open, ${fmtMs(p.breaker.open_ms)}, ${fmtInt(p.breaker.canaries_sent)} canaries` : '–';
    const mark = p.name === r.recommendation.policy ? ' <span class="badge b-ok">recommended</span>' : '';
    return `<tr><td><strong>${e(p.name)}</strong>${mark}</td>
<td>${bar(t.goodput_rps, maxGood, c, `${t.goodput_rps.toFixed(1)}/s of ${t.offered_rps.toFixed(1)}/s`)}</td>
<td>${bar(t.app_latency_ms.p99, maxP99, c, fmtMs(t.app_latency_ms.p99))}</td>
<td>${fmtPct(t.success_rate)}</td><td>${fmtPct(t.rate_429)}</td><td>${fmtPct(t.error_rate)}</td>
<td>${t.amplification === null ? '–' : t.amplification.toFixed(2)}</td>
<td>${fmtMs(t.app_latency_ms.p50)}</td><td>${fmtMs(t.attempt_latency_ms.p99)}</td>
<td>${fmtMs(t.queue_wait_ms.p99)} / ${fmtInt(t.peak_queue)}</td>
<td>${t.usd_per_success === null ? '–' : `$${t.usd_per_success.toFixed(6)}`}</td>
<td>${b}</td><td>${shed}</td></tr>`;
  });
  const stages = r.stages.map((s) => `${s.rate}/s for ${fmtMs(s.hold_ms)}`).join(', then ');
  const rec = r.recommendation;
  return `<h2>Client policies at this traffic</h2>
<p class="muted">${fmtInt(r.arrivals)} ${e(r.arrival)} arrivals (${e(stages)}), replayed for every policy in turn. Goodput counts requests that succeeded while arrivals came; application latency runs from the scheduled arrival to the answer (client queue, backoff and every attempt included); 429 and error rates are per attempt, as the server saw them.</p>
<div class="banner${rec.policy ? '' : ' bad'}" id="rh-recommendation"><strong>Recommendation:</strong> ${e(rec.policy ? rec.text : `none. ${rec.text}`)} <small>(criteria: ${e(rec.criteria.join(', '))})</small></div>
<div class="table-wrap"><table id="rh-table"><thead><tr><th>policy</th><th>goodput</th><th>p99 app latency</th><th>success</th><th>429 / attempt</th><th>errors / attempt</th><th>attempts / success</th><th>p50 app latency</th><th>p99 attempt latency</th><th>queue wait p99 / max length</th><th>$ / success</th><th>breaker</th><th>shed</th></tr></thead>
<tbody>${rows.join('\n')}</tbody></table></div>
<div id="rh-charts" class="model-grid"></div>`;
}

/** CSS of the section's bars. */
export const REHEARSAL_CSS = `.rh-bar{position:relative;min-width:160px;height:18px;background:var(--card);border-radius:3px}
.rh-bar span{position:absolute;left:0;top:0;bottom:0;border-radius:3px;opacity:.35}
.rh-bar em{position:relative;font-style:normal;padding-left:4px;font-size:12px}`;

/** The charts' script: three uPlot charts over time, one line per policy (names reach the page as labels only). */
export const REHEARSAL_JS = String.raw`
(function () {
  'use strict';
  var D = JSON.parse(document.getElementById('dsprobe-data').textContent).rehearsal;
  var box = document.getElementById('rh-charts');
  if (!D || !box || typeof uPlot === 'undefined') return;
  var COLORS = ['#1f6feb', '#d1242f', '#1a7f37', '#8250df', '#bf8700', '#0a7ea4'];
  function chart(title, yLabel, series) {
    var c = document.createElement('div');
    c.className = 'chart-card';
    var h = document.createElement('h4');
    h.textContent = title;
    c.appendChild(h);
    box.appendChild(c);
    var w = Math.max(240, (c.clientWidth || 600) - 20);
    var u = new uPlot({ width: w, height: 220, scales: { x: { time: false } },
      axes: [{ label: 'seconds since the policy started' }, { label: yLabel, size: 60 }],
      series: [{ label: 's' }].concat(D.policies.map(function (p, i) {
        return { label: p, stroke: COLORS[i % COLORS.length], width: 1.5, spanGaps: false };
      })) }, [D.t].concat(series), c);
    u.root.setAttribute('data-dsprobe-chart', '1');
  }
  chart('Goodput over time (successes per second)', 'per second', D.goodput);
  chart('p99 application latency over time (ms, from arrival)', 'ms', D.p99);
  chart('Client queue length over time (most waiting per interval)', 'waiting', D.queue);
})();
`;

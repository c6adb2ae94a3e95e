/**
 * watch.html: the cap over time per model, with the documented cap and the scenario's need (when it has one),
 * the cost so far and every probe in a table. Self-contained like report.html (pageShell: CSS, uPlot and the
 * data inlined, no network); everything from a server or a scenario is escaped, and the page script reads the
 * data from the JSON block and sets only textContent.
 */
import type { WatchRecord } from './watch.js';
import { pageShell } from './html.js';
import { escapeHtml as e } from './html-escape.js';
import { formatUsd } from '../cost/cost.js';

/** What the page shows besides the records. */
export interface WatchPage {
  name: string;
  target: string;
  /** Every probe interval, as typed (e.g. `5m`). */
  every: string;
  /** The scenario's `need:` per model (in flight), when it has one. */
  need: Record<string, number>;
  /** Thresholds failing after the last probe. */
  failing: string[];
}

const WATCH_JS = String.raw`
(function () {
  'use strict';
  var D = JSON.parse(document.getElementById('dsprobe-data').textContent);
  var box = document.getElementById('charts');
  D.models.forEach(function (m) {
    var rs = D.records.filter(function (r) { return r.model === m; });
    var xs = rs.map(function (r) { return Date.parse(r.time) / 1000; });
    var est = rs.map(function (r) { return r.estimate; });
    var doc = rs.map(function (r) { return r.documented; });
    var need = rs.map(function () { return D.need[m] == null ? null : D.need[m]; });
    var card = document.createElement('div');
    card.className = 'chart';
    var h = document.createElement('h3');
    h.textContent = m;
    card.appendChild(h);
    box.appendChild(card);
    if (typeof uPlot === 'undefined' || xs.length === 0) return;
    var opts = {
      width: Math.max(320, (box.clientWidth || 800) - 20), height: 260,
      series: [{}, { label: 'cap estimate', stroke: '#1f6feb', width: 2, points: { show: true } },
        { label: 'documented', stroke: '#888', dash: [6, 4] },
        { label: 'need', stroke: '#d1242f', dash: [2, 3] }],
      axes: [{}, { label: 'in flight' }]
    };
    new uPlot(opts, [xs, est, doc, need], card);
  });
})();
`;

/** Renders watch.html. Pure. */
export function renderWatchHtml(records: readonly WatchRecord[], page: WatchPage): string {
  const models = [...new Set(records.map((r) => r.model))];
  const last = records[records.length - 1];
  const cost = last ? last.cost_total_usd : 0;
  const probes = last ? last.probe : 0;
  const rows = [...records]
    .reverse()
    .map(
      (r) =>
        `<tr><td>${e(r.time)}</td><td>${e(r.model)}</td><td>${e(r.status)}</td><td>${e(r.estimate ?? '-')}</td><td>${e(r.low ?? '-')}..${e(r.high ?? '-')}</td>` +
        `<td>${e(r.server_reported ?? '-')}</td><td>${e(r.requests)}</td><td>${e(formatUsd(r.cost_usd))}</td><td>${e(r.ttft_ref_ms === null ? '-' : `${r.ttft_ref_ms} ms`)}</td><td>${r.warm ? 'warm' : 'cold'}</td></tr>`,
    )
    .join('\n');
  const failing = page.failing.length
    ? `<div class="banner bad"><strong>Failing after the last probe:</strong> ${page.failing.map((f) => e(f)).join('; ')}</div>`
    : '';
  const needs = Object.entries(page.need).map(([m, n]) => `${e(m)} needs ${e(n)}`).join(', ');
  const body = `<h1>dsprobe watch: ${e(page.name)}</h1>
<p>target ${e(page.target)}; a probe every ${e(page.every)}; ${e(probes)} probe(s); cost so far <strong>${e(formatUsd(cost))}</strong>${needs ? `; ${needs}` : ''}</p>
${failing}
<section id="charts"></section>
<h2>Probes</h2>
<table><thead><tr><th>time</th><th>model</th><th>status</th><th>estimate</th><th>bracket</th><th>server said</th><th>requests</th><th>cost</th><th>TTFT at 1</th><th>start</th></tr></thead>
<tbody>
${rows}
</tbody></table>`;
  return pageShell(`dsprobe watch: ${page.name}`, body, { models, records, need: page.need }) + `<script>${WATCH_JS}</script>\n</body>\n</html>\n`;
}

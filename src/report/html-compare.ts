/**
 * The comparison as one self-contained HTML page: per group a cap table and a per-level table with deltas
 * (regressions highlighted), and a chart of the 429 rate and E2E p99 against in-flight per subject.
 * Same rules as the run report: everything escaped, data inlined as JSON, no network.
 */
import type { Comparison, CompareGroup, LevelCell } from './compare.js';
import { escapeHtml as e } from './html-escape.js';
import { pageShell } from './html.js';
import { fmtInt, fmtMs, fmtPct, fmtSigned } from './html-sections.js';
import { modelColor } from './html-palette.js';

const COMPARE_CSS = `
td.reg, span.reg { color: #d1242f; font-weight: 700; }
td.good { color: #1a7f37; }
.delta { color: #59636e; font-size: 12px; }
`;

function delta(d: number | null, pp = false): string {
  if (d === null) return '';
  const v = pp ? `${(d * 100).toFixed(1)}pp` : `${(d * 100).toFixed(0)}%`;
  return ` <span class="delta">(${d >= 0 ? '+' : '−'}${v.replace('-', '')})</span>`;
}

function isReg(c: Comparison, g: CompareGroup, label: string, kind: string, inflight: number | null, metric?: string): boolean {
  return c.regressions.some((r) => r.group === g.title && r.label === label && r.kind === kind && r.inflight === inflight && (!metric || r.metric === metric));
}

function capTable(c: Comparison, g: CompareGroup): string {
  const head = `<tr><th class="l"></th>${g.caps.map((k) => `<th>${e(k.label)}</th>`).join('')}</tr>`;
  const row = (name: string, f: (k: CompareGroup['caps'][number]) => string, cls?: (k: CompareGroup['caps'][number]) => string) =>
    `<tr><td class="l">${name}</td>${g.caps.map((k) => `<td class="${cls ? cls(k) : ''}">${f(k)}</td>`).join('')}</tr>`;
  return `<div class="table-wrap"><table><thead>${head}</thead><tbody>
${row('cap', (k) => `${fmtInt(k.estimate)} ${e(k.status)}${k.delta === null ? '' : ` <span class="delta">(${fmtSigned(k.delta)})</span>`}`, (k) => (isReg(c, g, k.label, 'cap_fell', null) ? 'reg' : ''))}
${row('bracket', (k) => `${fmtInt(k.low)} … ${fmtInt(k.high)}`)}
${row("server's figure", (k) => fmtInt(k.server_reported))}
${row('headroom', (k) => (k.headroom === null ? '–' : `${fmtSigned(k.headroom)} vs ${fmtInt(k.documented)}`))}
</tbody></table></div>`;
}

function levelTable(c: Comparison, g: CompareGroup): string {
  if (!g.levels.length) return '<p class="muted">No in-flight level in common with the baseline.</p>';
  const head = `<tr><th>in flight</th><th class="l">metric</th>${g.caps.map((k) => `<th>${e(k.label)}</th>`).join('')}</tr>`;
  const rows = g.levels.flatMap(({ inflight, cells }) => {
    const line = (metric: string, f: (x: LevelCell) => string, reg?: [string, string?]) =>
      `<tr><td>${metric === '429 rate' ? fmtInt(inflight) : ''}</td><td class="l">${metric}</td>${cells
        .map((x) => (x ? `<td class="${reg && isReg(c, g, x.label, reg[0], inflight, reg[1]) ? 'reg' : ''}">${f(x)}</td>` : '<td>–</td>'))
        .join('')}</tr>`;
    return [
      line('429 rate', (x) => `${fmtPct(x.rate_429)}${delta(x.rate_429_delta, true)}`, ['rate_429_rose']),
      line('TTFT p50', (x) => (x.ttft_count ? fmtMs(x.ttft_p50) : '–')),
      line('TTFT p99', (x) => (x.ttft_count ? `${fmtMs(x.ttft_p99)}${delta(x.ttft_p99_delta)}` : '–'), ['p99_rose', 'TTFT p99']),
      line('E2E p99', (x) => (x.latency_count ? `${fmtMs(x.latency_p99)}${delta(x.latency_p99_delta)}` : '–'), ['p99_rose', 'E2E p99']),
      line('keep-alive p99', (x) => (x.keepalive_p99 ? fmtMs(x.keepalive_p99) : '–')),
    ];
  });
  return `<div class="table-wrap"><table><thead>${head}</thead><tbody>${rows.join('\n')}</tbody></table></div>`;
}

/** Chart data per group: x = common levels, one 429-rate and one E2E-p99 series per subject. */
function chartData(c: Comparison) {
  return c.groups.map((g) => ({
    title: g.title,
    labels: g.caps.map((k) => k.label),
    caps: g.caps.map((k) => k.estimate),
    colors: g.caps.map((_, i) => modelColor(i)),
    x: g.levels.map((l) => l.inflight),
    rate: g.caps.map((_, i) => g.levels.map((l) => (l.cells[i] ? Math.round((l.cells[i] as LevelCell).rate_429 * 1000) / 10 : null))),
    p99: g.caps.map((_, i) => g.levels.map((l) => (l.cells[i]?.latency_count ? (l.cells[i] as LevelCell).latency_p99 : null))),
  }));
}

const COMPARE_JS = String.raw`
(function () {
  var D = JSON.parse(document.getElementById('dsprobe-data').textContent);
  // Each subject's cap as a dashed line in its colour, labelled.
  function capLines(g) {
    return { hooks: { draw: [function (u) {
      var ctx = u.ctx, b = u.bbox, dpr = devicePixelRatio || 1;
      ctx.save();
      ctx.font = Math.round(11 * dpr) + 'px system-ui, sans-serif';
      ctx.textAlign = 'left';
      ctx.textBaseline = 'top';
      g.caps.forEach(function (cap, i) {
        if (cap == null) return;
        var x = u.valToPos(cap, 'x', true);
        if (x < b.left || x > b.left + b.width) return;
        ctx.strokeStyle = g.colors[i];
        ctx.fillStyle = g.colors[i];
        ctx.lineWidth = 1.5 * dpr;
        ctx.setLineDash([6 * dpr, 4 * dpr]);
        ctx.beginPath(); ctx.moveTo(x, b.top); ctx.lineTo(x, b.top + b.height); ctx.stroke();
        var t = g.labels[i] + ' cap ' + cap.toLocaleString('en-US');
        var w = ctx.measureText(t).width;
        ctx.fillText(t, x + 4 * dpr + w > b.left + b.width ? x - 4 * dpr - w : x + 4 * dpr, b.top + 4 * dpr + i * 14 * dpr);
      });
      ctx.restore();
    }] } };
  }
  function vfmt(f) { return function (u, v, si, idx) { return idx == null || v == null ? '' : f(v); }; }
  D.forEach(function (g, gi) {
    var box = document.getElementById('cmp-chart-' + gi);
    if (!box || g.x.length === 0) return;
    // Both cards first: a chart is sized from its card, and the grid lays cards out only once both exist.
    var specs = [['429 rate (%)', g.rate], ['E2E p99 (ms)', g.p99]];
    var cards = specs.map(function (spec) {
      var card = document.createElement('div');
      card.className = 'chart-card';
      var h = document.createElement('h4');
      h.textContent = spec[0] + ' against requests in flight';
      card.appendChild(h);
      box.appendChild(card);
      return card;
    });
    specs.forEach(function (spec, k) {
      var card = cards[k];
      var u = new uPlot({
        width: Math.max(240, card.clientWidth - 24), height: 220,
        scales: { x: { time: false } },
        axes: [{ label: 'requests in flight' }, { size: 60 }],
        series: [{ label: 'in flight', value: vfmt(function (v) { return v.toLocaleString('en-US'); }) }].concat(g.labels.map(function (l, i) {
          return { label: l, stroke: g.colors[i], width: 2, spanGaps: true, points: { show: true, size: 5 }, value: vfmt(function (v) { return String(Math.round(v * 10) / 10); }) };
        })),
        plugins: [capLines(g)],
      }, [g.x].concat(spec[1]), card);
      u.root.setAttribute('data-dsprobe-chart', '1');
    });
  });
})();
`;

/** The comparison as a self-contained HTML page. */
export function renderCompareHtml(c: Comparison): string {
  const title = c.mode === 'models' ? `dsprobe: models compared` : `dsprobe: ${c.labels.length} runs compared`;
  const regs = c.mode === 'models'
    ? '<p class="muted">Models are compared side by side; regressions are only judged between runs.</p>'
    : c.regressions.length
      ? `<div class="banner bad"><strong>${c.regressions.length} regression${c.regressions.length === 1 ? '' : 's'}</strong><ul>${c.regressions.map((r) => `<li>${e(r.message)}</li>`).join('')}</ul></div>`
      : '<div class="banner">No regression beyond noise.</div>';
  const groups = c.groups
    .map((g, i) => `<h2>${e(g.title)}</h2>${capTable(c, g)}<div id="cmp-chart-${i}" class="model-grid"></div>${levelTable(c, g)}`)
    .join('\n');
  const body = `<header><h1>${e(title)}</h1><p class="meta">Baseline: ${e(c.baseline)} · compared: ${c.labels.map(e).join(', ')}</p></header>
${(c.warnings ?? []).map((w) => `<div class="banner"><strong>Not like for like:</strong> ${e(w)}</div>`).join('\n')}
${regs}
${groups}
<p class="muted">Noise: only levels under the cap with at least ${c.noise.min_samples} admitted requests on each side are judged. A p99 is flagged when its ${c.noise.z}-sigma order-statistic confidence interval (from the HDR histogram) clears the baseline's by more than max(${c.noise.p99_abs_ms} ms, HDR precision ${c.noise.hdr_rel * 100}%) and it rose more than ${c.noise.p99_rel * 100}%; a 429 rate when it rose more than ${c.noise.rate_429_abs * 100} percentage points at the same level; a cap on any drop.</p>`;
  return `${pageShell(title, body, chartData(c), COMPARE_CSS)}<script>${COMPARE_JS}</script>
</body>
</html>
`;
}

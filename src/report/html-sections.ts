/**
 * The HTML report's static sections, rendered in Node as escaped HTML (so they read and print without
 * JavaScript): the headline per model, per-level tables, errors, thresholds, scenario and environment.
 * Every value from the report passes through escapeHtml.
 */
import { stringify } from 'yaml';
import type { CapEstimate, ErrorGroup, HeadroomVerdict, ModelReport, Percentiles, Report, TokenTotals } from '../types.js';
import { TIGHT_BELOW } from '../measure/headroom.js';
import { STEAL_NOTE_SHARE } from '../measure/client.js';
import { runVerdict } from './verdict.js';
import { escapeHtml as e } from './html-escape.js';
import { levelsOf, pickLevels, type Level } from './html-data.js';
import { MODEL_COLORS } from './html-palette.js';

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

export { MODEL_COLORS };

/** One headline card: cap, bracket, status, headroom, queueing onset, spend, evidence. */

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

/** The verdict box at the top: the run's verdict in words, each failed threshold, the headroom verdicts. */
export function verdictSection(r: Report): string {
  const v = runVerdict(r);
  const failed = v.failed.length
    ? `<ul class="failed">${v.failed.map((t) => `<li><code>${e(t.expression)}</code>: measured ${e(t.actual_text)}${t.note ? ` (${e(t.note)})` : ''}</li>`).join('')}</ul>`
    : '';
  const bound = v.clientBound.length ? `<p class="muted">Client-bound levels: ${v.clientBound.slice(0, 8).map(e).join(', ')}${v.clientBound.length > 8 ? ', …' : ''}.</p>` : '';
  const hr = r.models.filter((m) => m.headroom);
  const plan = hr.length
    ? `<p class="plan">${hr.map((m) => `<span class="v-${m.headroom!.verdict}">${e(m.model)}: <strong>${e(verdictWords(m.headroom!.verdict))}</strong>${m.headroom!.headroom_fraction === null ? '' : ` (${fmtSignedPct(m.headroom!.headroom_fraction)} headroom)`}</span>`).join(' · ')}</p>`
    : '';
  return `<section class="verdict verdict-${v.tone}" id="verdict"><p><strong>${e(v.words)}</strong></p>${failed}${bound}${plan}</section>`;
}

/** `fits` / `tight` / `does not fit` / `unknown`. */
export function verdictWords(v: HeadroomVerdict): string {
  return v === 'does_not_fit' ? 'does not fit' : v;
}

/** A fraction as a signed percentage, `+28%` / `−12%`. */
function fmtSignedPct(f: number): string {
  const p = Math.round(f * 1000) / 10;
  return p > 0 ? `+${p}%` : p < 0 ? `−${-p}%` : '0%';
}

function headroomCard(m: ModelReport, i: number): string {
  const h = m.headroom!;
  const lat = (x: { p50: number; p99: number } | null) => (x ? `${fmtMs(x.p50)} p50 · ${fmtMs(x.p99)} p99` : '–');
  const need = h.need === null ? '?' : fmtInt(h.need);
  const capText = h.cap === null ? '?' : `${h.cap_lower_bound ? '≥ ' : ''}${fmtInt(h.cap)}`;
  return `<section class="card headroom-card" data-model="${e(m.model)}">
<h3 class="model-name" style="border-color:${MODEL_COLORS[i % MODEL_COLORS.length]}">${e(m.model)} <span class="badge v-${h.verdict}">${e(verdictWords(h.verdict))}</span></h3>
<div class="hr-figures"><div><small>cap</small><b class="hr-cap">${capText}</b></div><div><small>need</small><b class="hr-need">${need}</b></div><div><small>headroom</small><b>${h.headroom === null ? '–' : fmtSigned(h.headroom)}</b><small>${h.headroom_fraction === null ? '' : `${fmtSignedPct(h.headroom_fraction)} of the cap`}</small></div></div>
<dl class="kv">
${h.need_from === 'rate' ? `<dt>Planned traffic</dt><dd>${e(String(h.rate_per_s))} requests/s × ${h.latency_ms ? fmtMs(h.latency_ms.mean) : '?'} mean latency = ${need} in flight${h.need_p99 !== null ? ` (${fmtInt(h.need_p99)} at p99 latency)` : ''}</dd>` : `<dt>Need</dt><dd>${need} requests in flight (models.${e(m.model)}.need)</dd>`}
<dt>Latency at the need</dt><dd>${h.level === null ? 'no level measured' : `at ${fmtInt(h.level)} in flight: TTFT ${lat(h.ttft_ms)}; end-to-end ${lat(h.latency_ms)}`}</dd>
</dl>
<p class="reason">${e(h.reason)}</p>
</section>`;
}

/**
 * The Flash-vs-Pro headroom panel: a card per model with a need (cap, need, headroom, latency at the need,
 * the verdict in words) and the charts by fraction of each model's own cap (drawn by the page script).
 */
export function headroomSection(r: Report): string {
  const cards = r.models.map((m, i) => (m.headroom ? headroomCard(m, i) : '')).filter(Boolean);
  const title = r.models.length > 1 ? `${r.models.map((m) => m.model).join(' vs ')}: headroom` : `${r.models[0]?.model ?? 'model'}: headroom`;
  const intro = cards.length
    ? `<p class="muted">Verdicts: <b>fits</b> leaves at least ${Math.round(TIGHT_BELOW * 100)}% of the cap to spare; <b>tight</b> fits with less (or not at p99 latency); <b>does not fit</b> needs more than the cap. Below, each model is drawn by the share of its <em>own</em> cap it had in flight, so models with different caps compare on one axis; the shaded part is over the cap.</p>`
    : `<p class="muted">No need was given: add <code>need: N</code> (in flight) or <code>need: { rate: 300/s }</code> under a model in the scenario to weigh its cap against a plan. Below, each model is drawn by the share of its own cap it had in flight.</p>`;
  return `<h2 id="headroom">${e(title)}</h2>
${cards.length ? `<div class="cards">${cards.join('\n')}</div>` : ''}
${intro}
<div id="headroom-charts" class="model-grid"></div>`;
}

/** Headline cards for every model, side by side, and the run's cost. */
export function headlineSection(r: Report): string {
  const cost = r.cost;
  return `<h2>Caps found</h2>
<div class="cards">${r.models.map(headlineCard).join('\n')}</div>
<p class="muted">Run cost: <strong>${fmtUsd(cost.usd)}</strong>${cost.estimated ? ' (estimated)' : ''} for ${fmtInt(cost.requests)} requests (${fmtInt(cost.admitted)} admitted); ${tokensText(cost.tokens)} tokens.</p>`;
}

/** dsprobe's own load at a level: its busiest thread's share, with every figure behind it on hover ("–": not recorded). */
function dsprobeCell(s: Level['step']): string {
  const c = s.client;
  if (!c?.busy?.length) return '<td>–</td>';
  const threads = c.busy.map((b, i) => `${i === 0 ? 'main' : `worker ${i}`} ${fmtPct(b)}`).join(', ');
  const more = [
    c.cpu_cores !== undefined ? `CPU ${c.cpu_cores.toFixed(2)} cores` : '',
    c.gc_max_ms !== undefined ? `longest GC pause ${fmtMs(c.gc_max_ms)}` : '',
    `loop delay p99 ${c.loop_p99_ms.map((v) => fmtMs(v)).join(' / ')}`,
    c.host_steal !== undefined ? `host CPU steal ${fmtPct(c.host_steal)}` : '',
  ].filter(Boolean);
  return `<td title="${e(`event loop busy: ${threads}; ${more.join('; ')}`)}">${fmtPct(Math.max(...c.busy))}</td>`;
}

function levelRow(l: Level, c: CapEstimate, need: number | null): string {
  const s = l.step;
  const cls: string[] = [];
  if (c.status === 'found' && (l.inflight === c.low || l.inflight === c.high)) cls.push('bracket');
  const over = c.status === 'found' && c.estimate !== null && l.inflight > c.estimate;
  if (over) cls.push('over-cap');
  const mark = cls.length ? ` class="${cls.join(' ')}"` : '';
  const tags = [
    over ? '<span class="tag over">over cap</span>' : '',
    need !== null && l.from <= need && need <= l.to ? '<span class="tag need">need</span>' : '',
    s.requests === 0 ? '<span class="tag empty" title="No request finished in this step: the level was decided by what stayed in flight (or by a 429 seen before it)">no request finished</span>' : '',
  ].join('');
  // A percentile with no sample behind it is "–", not 0 ms.
  const p = (x: Percentiles, k: 'p50' | 'p99') => (x.count ? fmtMs(x[k]) : '–');
  const at = l.from === l.to ? fmtInt(l.inflight) : `${fmtInt(l.from)}–${fmtInt(l.to)}`;
  // A level where dsprobe itself may have set the pace says so (it never proves a level held).
  const bound = s.client_bound ? ` <span class="warn" title="${e(s.client?.why ?? 'client-bound')}">client-bound</span>` : '';
  // The host took a share of the machine's CPU worth naming (CPU steal): every timing of the level carries its stalls.
  const steal = s.client?.host_steal;
  const stolen = steal !== undefined && steal >= STEAL_NOTE_SHARE ? ` <span class="warn" title="The host (a shared or overcommitted VM's hypervisor) took ${fmtPct(steal)} of this machine's CPU time in this level: dsprobe and anything serving on this machine were stalled meanwhile, and those stalls are in its latency figures">host steal ${fmtPct(steal)}</span>` : '';
  return `<tr${mark}><td>${at}${tags}${bound}${stolen}</td><td>${s.achieved_inflight.toFixed(1)}</td><td>${fmtInt(s.requests)}</td><td>${fmtInt(s.rate_limited)}</td><td>${fmtPct(s.rate_429)}</td><td>${fmtInt(s.queued)}</td><td>${p(s.ttft_ms, 'p50')}</td><td>${p(s.ttft_ms, 'p99')}</td><td>${p(s.latency_ms, 'p50')}</td><td>${p(s.latency_ms, 'p99')}</td><td>${p(s.keepalive_wait_ms, 'p99')}</td><td>${fmtPct(s.error_rate)}</td>${dsprobeCell(s)}</tr>`;
}

/** One table per model of its in-flight levels (bracket rows highlighted), sampled when long. */
export function levelsSection(r: Report): string {
  const tables = r.models.map((m, i) => {
    const all = levelsOf(m.steps, true);
    let rows = all;
    let note = '';
    if (all.length > MAX_TABLE_ROWS) {
      const keep = new Set(pickLevels(all, MAX_TABLE_ROWS - 2));
      for (const l of all) if (l.inflight === m.cap.low || l.inflight === m.cap.high) keep.add(l);
      rows = all.filter((l) => keep.has(l));
      note = `<p class="muted">${rows.length} of ${fmtInt(all.length)} levels shown; report.json holds every step.</p>`;
    }
    return `<h3 class="model-name" style="border-color:${MODEL_COLORS[i % MODEL_COLORS.length]}">${e(m.model)}</h3>${note}<div class="table-wrap"><table>
<thead><tr><th>in flight</th><th>achieved</th><th>requests</th><th>429s</th><th>429 rate</th><th>queued</th><th>TTFT p50</th><th>TTFT p99</th><th>E2E p50</th><th>E2E p99</th><th>keep-alive p99</th><th>errors</th><th title="How busy dsprobe's busiest thread was (hover a cell for every thread, CPU and GC pauses): near 100%, reads wait behind each other and that wait is in the latency figures">dsprobe busy</th></tr></thead>
<tbody>${rows.map((l) => levelRow(l, m.cap, m.headroom?.need ?? null)).join('\n')}</tbody></table></div>`;
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
</dl>${loop.warning ? `<p class="fail">${e(loop.warning)}</p>` : loop.delay_p99_ms == null ? '<p class="warn">Unknown: this report was rebuilt from samples.ndjson, which does not record the event loop.</p>' : '<p class="pass">Healthy: latency figures are not skewed by the prober itself.</p>'}</section></div>
<h2>Scenario (secrets redacted)</h2><pre>${e(scenario)}</pre>`;
}

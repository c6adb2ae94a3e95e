/**
 * The Markdown summary appended to `$GITHUB_STEP_SUMMARY`: verdict, caps per model, thresholds, cost.
 * Pure string; untrusted text is escaped (GitHub renders HTML inside Markdown).
 */
import type { Report } from '../types.js';
import { safeUrl, verdict } from './summary-json.js';

/** Escapes text for a Markdown table cell: HTML entities, pipes, line breaks. */
export function mdCell(s: string): string {
  return s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/\|/g, '\\|')
    .replace(/`/g, "'")
    .replace(/\r?\n/g, ' ');
}

/** Text for a code span inside a table cell: HTML is inert there, but pipes and backticks still need care. */
export function mdCode(s: string): string {
  return '`' + s.replace(/`/g, "'").replace(/\|/g, '\\|').replace(/\r?\n/g, ' ') + '`';
}

const n = (v: number | null) => (v === null ? '–' : v.toLocaleString('en-US'));

function usd(v: number): string {
  return v < 0.01 && v > 0 ? `$${v.toPrecision(2)}` : `$${v.toFixed(2)}`;
}

/** The step summary of a report. */
export function renderMarkdownSummary(report: Report): string {
  const v = verdict(report);
  const icon = v.passed ? '✅' : report.status === 'completed' ? '❌' : '⚠️';
  const headline = v.passed
    ? v.total
      ? `all ${v.total} threshold(s) passed`
      : 'completed'
    : report.status !== 'completed'
      ? `run ${report.status}${report.status_reason ? `: ${mdCell(report.status_reason)}` : ''}`
      : `${v.failed} of ${v.total} threshold(s) failed`;
  const out: string[] = [];
  out.push(`## ${icon} dsprobe: ${mdCell(report.name)}: ${headline}`);
  out.push('');
  out.push(
    `${report.mode} run against ${report.target.mock ? 'the built-in mock' : mdCode(safeUrl(report.target.url))} (${report.target.protocol}, ${report.target.keys} key(s)), ${(report.duration_ms / 1000).toFixed(1)} s, seed ${report.seed}, started ${mdCell(report.started_at)}.`,
  );
  out.push('');
  out.push('### Concurrency caps');
  out.push('');
  out.push('| model | cap | status | no 429 up to | 429 from | server said | documented | headroom | queueing from |');
  out.push('|---|---:|---|---:|---:|---:|---:|---:|---:|');
  for (const m of report.models) {
    const c = m.cap;
    out.push(
      `| ${mdCell(m.model)} | **${n(c.estimate)}** | ${c.status}${c.moved ? ' (moved)' : ''} | ${n(c.low)} | ${n(c.high)} | ${n(c.server_reported)} | ${n(c.documented)} | ${c.headroom === null ? '–' : (c.headroom > 0 ? '+' : '') + c.headroom} | ${n(c.queueing_began_at)} |`,
    );
  }
  if (report.thresholds.length) {
    out.push('');
    out.push('### Thresholds');
    out.push('');
    out.push('| | threshold | actual | note |');
    out.push('|---|---|---:|---|');
    for (const t of report.thresholds) {
      out.push(`| ${t.passed ? '✅' : '❌'} | ${mdCode(t.expression)} | ${mdCell(t.actual_text)} | ${mdCell(t.note ?? '')} |`);
    }
  }
  out.push('');
  const c = report.cost;
  const tokens = c.tokens.prompt + c.tokens.completion;
  out.push(
    `**Cost:** ${usd(c.usd)}${c.estimated ? ' (estimated)' : ''}${report.target.mock ? ' at DeepSeek prices (the mock bills nothing)' : ''}, ${c.requests.toLocaleString('en-US')} requests (${c.admitted.toLocaleString('en-US')} admitted), ${tokens.toLocaleString('en-US')} tokens.`,
  );
  if (report.warnings.length) {
    out.push('');
    out.push('<details><summary>Warnings</summary>');
    out.push('');
    for (const w of report.warnings) out.push(`- ${mdCell(w)}`);
    out.push('');
    out.push('</details>');
  }
  out.push('');
  return out.join('\n');
}

/**
 * `--junit FILE`: JUnit XML for CI test tabs. One test case per threshold (failed ones carry the measured
 * value), one per model's cap (skipped when the cap is unclear), and one for the run itself (an error when
 * it did not complete). Pure string; every text is escaped, since server messages are untrusted.
 */
import type { Report } from '../types.js';

/** Escapes text for XML attributes and content, dropping characters XML 1.0 forbids. */
export function xmlEscape(s: string): string {
  return s
    .replace(/[^\x09\x0A\x0D\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

interface Case {
  name: string;
  classname: string;
  time_s: number;
  failure?: { message: string; text: string };
  error?: { message: string; text: string };
  skipped?: string;
  out?: string;
}

function renderCase(c: Case): string {
  const open = `    <testcase classname="${xmlEscape(c.classname)}" name="${xmlEscape(c.name)}" time="${c.time_s.toFixed(3)}"`;
  const body: string[] = [];
  if (c.failure) body.push(`      <failure type="threshold" message="${xmlEscape(c.failure.message)}">${xmlEscape(c.failure.text)}</failure>`);
  if (c.error) body.push(`      <error type="run" message="${xmlEscape(c.error.message)}">${xmlEscape(c.error.text)}</error>`);
  if (c.skipped !== undefined) body.push(`      <skipped message="${xmlEscape(c.skipped)}"/>`);
  if (c.out) body.push(`      <system-out>${xmlEscape(c.out)}</system-out>`);
  return body.length ? `${open}>\n${body.join('\n')}\n    </testcase>` : `${open}/>`;
}

function renderSuite(name: string, cases: Case[], timestamp: string): string {
  const failures = cases.filter((c) => c.failure).length;
  const errors = cases.filter((c) => c.error).length;
  const skipped = cases.filter((c) => c.skipped !== undefined).length;
  const time = cases.reduce((n, c) => n + c.time_s, 0);
  const head = `  <testsuite name="${xmlEscape(name)}" tests="${cases.length}" failures="${failures}" errors="${errors}" skipped="${skipped}" time="${time.toFixed(3)}" timestamp="${xmlEscape(timestamp)}"`;
  return cases.length ? `${head}>\n${cases.map(renderCase).join('\n')}\n  </testsuite>` : `${head}/>`;
}

/** JUnit XML of a report. */
export function renderJUnit(report: Report): string {
  const duration_s = report.duration_ms / 1000;
  const ts = report.started_at.replace(/Z$/, '').replace(/\.\d+$/, '');

  const thresholds: Case[] = report.thresholds.map((t) => {
    const c: Case = { name: t.expression, classname: `dsprobe.${report.name}.thresholds`, time_s: 0 };
    const detail = `actual: ${t.actual_text}${t.note ? `\nnote: ${t.note}` : ''}${t.abort_on_fail ? '\nabort_on_fail: true' : ''}`;
    if (t.passed) c.out = detail;
    else c.failure = { message: `${t.expression} failed: actual ${t.actual_text}${t.note ? ` (${t.note})` : ''}`, text: detail };
    return c;
  });

  const caps: Case[] = report.models.map((m) => {
    const cap = m.cap;
    const seconds = m.spend.seconds;
    const c: Case = { name: `cap of ${m.model}`, classname: `dsprobe.${report.name}.caps`, time_s: seconds };
    const fig = cap.estimate !== null ? String(cap.estimate) : 'unknown';
    const lines = [
      `status: ${cap.status}`,
      `estimate: ${fig}`,
      `bracket: low ${cap.low ?? '-'}, high ${cap.high ?? '-'}`,
      `server reported: ${cap.server_reported ?? '-'}`,
      `documented: ${cap.documented ?? '-'}${cap.headroom !== null ? ` (headroom ${cap.headroom})` : ''}`,
      ...cap.evidence,
    ];
    c.out = lines.join('\n');
    if (cap.status === 'unclear') c.skipped = `the cap of ${m.model} is unclear: ${cap.evidence[0] ?? 'see the report'}`;
    return c;
  });

  const run: Case = { name: 'run completed', classname: `dsprobe.${report.name}.run`, time_s: duration_s };
  if (report.status !== 'completed') {
    run.error = { message: `run ${report.status}${report.status_reason ? `: ${report.status_reason}` : ''}`, text: report.warnings.join('\n') };
  } else if (report.warnings.length) {
    run.out = report.warnings.join('\n');
  }

  const all = [...thresholds, ...caps, run];
  const failures = all.filter((c) => c.failure).length;
  const errors = all.filter((c) => c.error).length;
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="dsprobe ${xmlEscape(report.name)}" tests="${all.length}" failures="${failures}" errors="${errors}" time="${duration_s.toFixed(3)}">`,
    renderSuite(`dsprobe.${report.name}.thresholds`, thresholds, ts),
    renderSuite(`dsprobe.${report.name}.caps`, caps, ts),
    renderSuite(`dsprobe.${report.name}.run`, [run], ts),
    '</testsuites>',
    '',
  ].join('\n');
}

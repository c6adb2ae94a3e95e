/**
 * The HTML report's stylesheet: system fonts only (no web fonts, no network), readable on a laptop screen,
 * and a print layout that keeps cards and charts whole and drops interactive chrome.
 */
export const REPORT_CSS = `
:root { --fg: #1f2328; --muted: #59636e; --line: #d1d9e0; --bg: #ffffff; --card: #f6f8fa;
  --ok: #1a7f37; --bad: #d1242f; --warn: #9a6700; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  color: var(--fg); background: var(--bg); }
main { max-width: 1280px; margin: 0 auto; padding: 20px 24px 48px; }
h1 { font-size: 22px; margin: 0 0 4px; word-break: break-word; }
h2 { font-size: 17px; margin: 28px 0 10px; padding-bottom: 4px; border-bottom: 1px solid var(--line); }
h3 { font-size: 15px; margin: 0 0 8px; word-break: break-word; }
h4 { font-size: 13px; margin: 0 0 4px; font-weight: 600; }
.muted { color: var(--muted); }
.meta { color: var(--muted); margin: 0; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px; font-weight: 600;
  border: 1px solid currentColor; vertical-align: middle; }
.b-ok { color: var(--ok); } .b-bad { color: var(--bad); } .b-warn { color: var(--warn); }
.banner { border: 1px solid var(--warn); background: #fff8c5; padding: 8px 12px; border-radius: 6px; margin: 10px 0; }
.banner.bad { border-color: var(--bad); background: #ffebe9; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(320px, 1fr)); gap: 14px; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 12px 14px;
  break-inside: avoid; }
.cap { font-size: 34px; font-weight: 700; line-height: 1.1; }
.cap small { font-size: 14px; font-weight: 400; color: var(--muted); }
dl.kv { display: grid; grid-template-columns: max-content 1fr; gap: 2px 12px; margin: 8px 0; }
dl.kv dt { color: var(--muted); } dl.kv dd { margin: 0; font-variant-numeric: tabular-nums; word-break: break-word; }
ul.evidence { margin: 6px 0 0; padding-left: 18px; }
.model-grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(min(380px, 100%), 1fr)); gap: 18px; }
.model-col { min-width: 0; }
.model-name { border-left: 4px solid; padding-left: 8px; }
.chart-card { background: var(--bg); border: 1px solid var(--line); border-radius: 8px; padding: 8px 10px 4px;
  margin-bottom: 14px; break-inside: avoid; overflow: hidden; }
#chart-429 .chart-card { margin-bottom: 0; }
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; font-size: 13px; }
th, td { text-align: right; padding: 3px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { background: var(--card); font-weight: 600; position: sticky; top: 0; }
td.l, th.l { text-align: left; }
td.msg { text-align: left; font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12px;
  word-break: break-word; max-width: 520px; }
tr.bracket td { font-weight: 700; background: #fff8c5; }
tr.over-cap td { color: #6e3630; }
.tag { display: inline-block; margin-left: 6px; padding: 0 5px; border-radius: 8px; font-size: 11px; font-weight: 600; border: 1px solid; }
.tag.over { color: var(--bad); } .tag.need { color: var(--fg); } .tag.empty { color: var(--muted); font-weight: 400; }
.verdict { border: 1px solid var(--line); border-left: 6px solid var(--ok); border-radius: 6px; padding: 8px 14px; margin: 12px 0; background: #f6fff8; }
.verdict p { margin: 4px 0; }
.verdict-bad { border-left-color: var(--bad); background: #fff5f4; }
.verdict-warn { border-left-color: var(--warn); background: #fffbe6; }
.verdict ul.failed { margin: 4px 0; padding-left: 20px; }
.verdict .plan span { margin-right: 6px; }
.warn { color: var(--warn); font-weight: 600; }
.v-fits { color: var(--ok); } .v-tight { color: var(--warn); } .v-does_not_fit { color: var(--bad); } .v-unknown { color: var(--muted); }
.hr-figures { display: flex; gap: 22px; margin: 6px 0 4px; }
.hr-figures div { display: flex; flex-direction: column; }
.hr-figures b { font-size: 28px; line-height: 1.1; font-variant-numeric: tabular-nums; }
.hr-figures small { color: var(--muted); }
.headroom-card .reason { margin: 6px 0 0; }
#headroom-charts .chart-card { margin-bottom: 0; }
.table-wrap { overflow-x: auto; margin-bottom: 14px; }
pre { background: var(--card); border: 1px solid var(--line); border-radius: 6px; padding: 10px; overflow-x: auto;
  font-size: 12px; white-space: pre-wrap; word-break: break-word; }
.pass { color: var(--ok); font-weight: 600; } .fail { color: var(--bad); font-weight: 600; }
footer { margin-top: 36px; color: var(--muted); font-size: 12px; }
@media print {
  @page { margin: 12mm; }
  body { font-size: 11px; }
  main { max-width: none; padding: 0; }
  .model-grid { grid-template-columns: 1fr 1fr; gap: 10px; }
  .cards { grid-template-columns: 1fr 1fr; }
  h2 { break-after: avoid; }
  .chart-card, .card, tr { break-inside: avoid; }
  .u-legend { font-size: 10px; }
  th { position: static; }
  .table-wrap { overflow: visible; }
}
`;

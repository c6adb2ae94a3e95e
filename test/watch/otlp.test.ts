/**
 * `--otlp URL`: the live metrics pushed over OTLP/HTTP. A receiver written here (test/helpers/otlp-receiver.ts,
 * node:http on loopback) collects what the real CLI pushes while it runs against the real mock, and the figures
 * are held against report.json. A collector that fails or hangs changes neither the exit code nor the report.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { dsprobe, readReport, ROOT, tmpDir, writeScenario } from '../helpers/cli.js';
import { histogramPoint, metricsOf, pointValue, points, resourceOf, startReceiver, type Receiver } from '../helpers/otlp-receiver.js';
import { LiveMetrics } from '../../src/report/metrics.js';
import { OTLP_UNITS, toOtlpMetrics } from '../../src/report/metrics-otlp.js';
import type { Report } from '../../src/types.js';
import { ExportLog } from '../../src/cli/otlp-warnings.js';
import { otlpShownUrl } from '../../src/cli/otlp-options.js';
import { manualClock } from '../../src/time/clock.js';
import { makeScrubber } from '../../src/secrets.js';

const FLASH = 'deepseek-v4-flash';
const PRO = 'deepseek-v4-pro';
const VERSION = (JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const SECRET = 'otlp-token-5f1e9c0d7a';

const receivers: Receiver[] = [];
afterEach(async () => {
  await Promise.all(receivers.splice(0).map((r) => r.close()));
});
async function receiver(mode: Parameters<typeof startReceiver>[0] = 'ok'): Promise<Receiver> {
  const r = await startReceiver(mode);
  receivers.push(r);
  return r;
}

const search = `name: otlp-search
target: { url: mock }
models:
  ${FLASH}: {}
  ${PRO}: {}
load: { mode: search, start: 2, max: 100, hold: 2s }
mock: { time_scale: 0.1, caps: { ${FLASH}: 12, ${PRO}: 5 } }
seed: 3
`;

/** Finished requests per model and outcome, summed over the report's steps. */
function outcomesOf(rep: Report): Record<string, Record<string, number>> {
  const out: Record<string, Record<string, number>> = {};
  for (const m of rep.models) {
    const o: Record<string, number> = (out[m.model] = {});
    for (const s of m.steps) for (const [k, v] of Object.entries(s.outcomes)) if (v > 0) o[k] = (o[k] ?? 0) + v;
  }
  return out;
}

async function runSearch(rec: Receiver | string, extraEnv: Record<string, string> = {}) {
  const dir = tmpDir();
  const out = path.join(dir, 'out');
  const url = typeof rec === 'string' ? rec : rec.url;
  const r = await dsprobe(['run', writeScenario(dir, 's.yaml', search), '--out', out, '--quiet', '--no-html', '--otlp', url, '--otlp-interval', '2s'], {
    env: { OTEL_EXPORTER_OTLP_HEADERS: `authorization=Bearer%20${SECRET}`, ...extraEnv },
  });
  return { r, out, dir };
}

describe('--otlp: live metrics over OTLP/HTTP', () => {
  it('the mapping keeps the registry\'s figures: counters without _total, per-bucket histogram counts, a unit for every metric', async () => {
    const m = new LiveMetrics();
    const base = { id: 0, model: FLASH, step: 0, target_inflight: 1, key_index: 0, intended_us: 0, sent_us: 0, keepalives: 0, inflight_at_send: 1 };
    m.sample({ ...base, end_us: 300_000, outcome: 'ok', status: 200, first_token_us: 30_000 }, 0.001);
    m.sample({ ...base, end_us: 900_000, outcome: 'ok', status: 200, first_token_us: 200_000 }, 0.001);
    m.sample({ ...base, end_us: 1_000, outcome: 'rate_limited', status: 429 }, 0);
    m.cap(FLASH, { low: 12, high: 13, estimate: 12, server_reported: null, documented: 2500 });
    m.probe(FLASH, 'found', 1_700_000_000);
    m.thresholds([{ expression: 'cap(x) >= 1', passed: true }]);
    m.loop({ delay_p50_ms: 1, delay_p99_ms: 2, delay_max_ms: 3, warning: null });
    m.hostSteal(0.2);
    const families = await m.registry.getMetricsAsJSON();
    for (const f of families) expect(OTLP_UNITS[f.name], `unit of ${f.name}`).toBeDefined();
    const data = toOtlpMetrics(families, { startMs: 1000, nowMs: 2500 });
    const by = new Map(data.map((d) => [d.descriptor.name, d]));
    expect(by.has('dsprobe_requests_total')).toBe(false);
    expect(by.get('dsprobe_requests')?.dataPoints.map((p) => [p.attributes, p.value])).toEqual([
      [{ model: FLASH, outcome: 'ok' }, 2],
      [{ model: FLASH, outcome: 'rate_limited' }, 1],
    ]);
    // server_reported unknown: absent, not 0 (as on /metrics).
    expect(by.has('dsprobe_cap_server_reported')).toBe(false);
    const ttft = by.get('dsprobe_ttft_seconds')!;
    expect(ttft.descriptor.unit).toBe('s');
    const h = ttft.dataPoints[0]!.value as { buckets: { boundaries: number[]; counts: number[] }; count: number; sum: number };
    // 30 ms in (0.025, 0.05], 200 ms in (0.1, 0.25]: one each, not cumulative; one more bucket than boundaries.
    expect(h.buckets.counts.length).toBe(h.buckets.boundaries.length + 1);
    expect(h.buckets.counts[h.buckets.boundaries.indexOf(0.05)]).toBe(1);
    expect(h.buckets.counts[h.buckets.boundaries.indexOf(0.25)]).toBe(1);
    expect(h.buckets.counts.reduce((a, b) => a + b, 0)).toBe(2);
    expect(h.count).toBe(2);
    expect(h.sum).toBeCloseTo(0.23, 9);
    // Through an OpenTelemetry-to-Prometheus translation (the Collector's prometheus exporter, default suffixes;
    // the rule of the OpenTelemetry compatibility spec, written out here) every name comes back as /metrics has it.
    const promNames = new Set(families.map((f) => f.name));
    for (const d of data) {
      const tokens = d.descriptor.name.split('_');
      const unit = d.descriptor.unit.includes('{') ? '' : ({ s: 'seconds', '1': '' } as Record<string, string>)[d.descriptor.unit] ?? d.descriptor.unit;
      if (unit && !tokens.includes(unit)) tokens.push(unit);
      if (d.dataPointType === 3 && (d as { isMonotonic?: boolean }).isMonotonic) tokens.push('total');
      if (d.descriptor.unit === '1' && d.dataPointType === 2) tokens.push('ratio');
      expect(promNames, d.descriptor.name).toContain(tokens.join('_'));
    }
    expect(ttft.dataPoints[0]!.startTime).toEqual([1, 0]);
    expect(ttft.dataPoints[0]!.endTime).toEqual([2, 500_000_000]);
  });

  it('failed pushes: the first is one line at once, then at most one line a minute, a count at the end; no secret, no query', () => {
    const clock = manualClock();
    const lines: string[] = [];
    const url = otlpShownUrl('https://collector.example:4318/v1/metrics?token=abc123secret');
    expect(url).toBe('https://collector.example:4318/v1/metrics?…');
    const log = new ExportLog(url, clock, (l) => lines.push(l), makeScrubber([SECRET]).scrub);
    log.result(true);
    // A collector down for ten minutes, pushed every 10 s: 60 failures.
    for (let i = 0; i < 60; i++) {
      log.result(false, Object.assign(new Error(`denied ${SECRET}\r\nInjected: line`), { code: 403 }));
      clock.advance(10_000_000);
    }
    log.close();
    log.result(false, new Error('late'));
    // At 0 s, then a line a minute (60 s ... 540 s, each for 6 failures), then the count: 11 lines for 60 failures.
    expect(lines.length).toBe(11);
    expect(lines[0]).toBe(`otlp: export to ${url} failed (HTTP 403 denied [redacted] Injected: line); the run goes on, later failures are summarised at most once a minute`);
    expect(lines.slice(1, -1).every((l) => /^otlp: \d+ more export\(s\) failed/.test(l))).toBe(true);
    expect(lines.slice(1, -1).map((l) => Number(/: (\d+) more/.exec(l)![1]))).toEqual(Array(9).fill(6));
    expect(lines.at(-1)).toBe(`otlp: 60 of 61 export(s) to ${url} failed (last: HTTP 403 denied [redacted] Injected: line)`);
    expect(lines.join('\n')).not.toContain('abc123secret');
  });

  it('run --otlp: the receiver gets the report\'s cap estimates, its request counts by outcome, histograms in seconds, and the resource', async () => {
    const rec = await receiver('ok');
    const { r, out } = await runSearch(rec);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(/warning: otlp/);
    const rep = readReport(out);
    expect(rep.models.map((m) => [m.model, m.cap.estimate])).toEqual([[FLASH, 12], [PRO, 5]]);
    expect(rec.payloads.length).toBeGreaterThan(0);
    // The header from OTEL_EXPORTER_OTLP_HEADERS reached the collector (the SDK reads it), percent-decoded.
    expect(rec.headers[0]!['authorization']).toBe(`Bearer ${SECRET}`);
    expect(rec.headers[0]!['content-type']).toMatch(/application\/json/);
    // The last push is the final flush: the run's final figures.
    const last = rec.payloads.at(-1)!;
    expect(resourceOf(last)).toMatchObject({ 'service.name': 'dsprobe', 'service.version': VERSION });
    const ms = metricsOf(last);
    for (const m of rep.models) {
      expect(pointValue(ms.get('dsprobe_cap_estimate'), { model: m.model }), m.model).toBe(m.cap.estimate);
      expect(pointValue(ms.get('dsprobe_cap_low'), { model: m.model })).toBe(m.cap.low);
      expect(pointValue(ms.get('dsprobe_cap_high'), { model: m.model })).toBe(m.cap.high);
    }
    expect(ms.get('dsprobe_cap_estimate')!.unit).toBe('{request}');
    const requests = ms.get('dsprobe_requests')!;
    expect(requests.sum!.isMonotonic).toBe(true);
    expect(requests.sum!.aggregationTemporality).toBe(2); // cumulative
    expect(requests.unit).toBe('{request}');
    const pushed: Record<string, Record<string, number>> = {};
    for (const [a, v] of points(requests)) (pushed[a['model']!] ??= {})[a['outcome']!] = v;
    expect(pushed).toEqual(outcomesOf(rep));
    expect(pointValue(ms.get('dsprobe_rate_limited'), { model: FLASH })).toBe(outcomesOf(rep)[FLASH]!['rate_limited']);
    expect(ms.has('dsprobe_requests_total')).toBe(false);
    for (const name of ['dsprobe_ttft_seconds', 'dsprobe_request_duration_seconds']) {
      const m = ms.get(name)!;
      expect(m.unit, name).toBe('s');
      const h = histogramPoint(m, { model: FLASH })!;
      const { ok = 0, aborted = 0 } = outcomesOf(rep)[FLASH]!;
      // End-to-end: successful requests only. TTFT also counts requests dsprobe cut after their first token.
      if (name === 'dsprobe_request_duration_seconds') expect(h.count, name).toBe(ok);
      else expect(h.count >= ok && h.count <= ok + aborted, `${name}: ${h.count} of ok ${ok} + aborted ${aborted}`).toBe(true);
      expect(h.counts.reduce((a, b) => a + b, 0)).toBe(h.count);
      expect(h.counts.length).toBe(h.bounds.length + 1);
      // Seconds, not milliseconds: the mock at time scale 0.1 answers well inside a second.
      expect(h.sum / h.count).toBeLessThan(1);
    }
    expect(ms.get('dsprobe_probe_cost_usd')!.unit).toBe('{USD}');
    expect(r.stderr + r.stdout).not.toContain(SECRET);
  }, 60_000);

  it('a collector answering 500 or hanging changes neither the exit code nor the report, and yields a warning, not a flood', async () => {
    for (const mode of ['fail', 'hang'] as const) {
      const rec = await receiver(mode);
      // A hanging collector: each export gives up after 300 ms (the SDK's own timeout variable).
      const { r, out, dir } = await runSearch(rec, mode === 'hang' ? { OTEL_EXPORTER_OTLP_TIMEOUT: '300' } : {});
      expect(r.code, `${mode}: ${r.stderr}`).toBe(0);
      const rep = readReport(out);
      expect(rep.status).toBe('completed');
      expect(rep.models.map((m) => [m.model, m.cap.status, m.cap.estimate])).toEqual([[FLASH, 'found', 12], [PRO, 'found', 5]]);
      expect(rec.payloads.length, mode).toBeGreaterThan(0);
      const warnings = r.stderr.split('\n').filter((l) => l.startsWith('warning: otlp:'));
      expect(warnings[0], r.stderr).toMatch(mode === 'fail' ? /export to http:\/\/127\.0\.0\.1:\d+\/v1\/metrics failed \(HTTP 500 .*\)/ : /failed \((Request timed out|no answer within 300 ms)\)/);
      // The first failure at once; later ones only as a count at the end (at most one line a minute between).
      expect(warnings.length, r.stderr).toBeLessThanOrEqual(3);
      if (rec.payloads.length > 1) expect(warnings.at(-1)).toMatch(/export\(s\) .*failed/);
      // The failing collector put the token into its status line: it is never printed.
      expect(r.stderr + r.stdout).not.toContain(SECRET);
      expect(fs.readFileSync(path.join(out, 'report.json'), 'utf8')).not.toContain(SECRET);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);

  it('a bad --otlp URL or interval is exit 2 before anything is sent, without echoing credentials', async () => {
    const dir = tmpDir();
    const file = writeScenario(dir, 's.yaml', search);
    const cases: [string[], RegExp][] = [
      [['--otlp', 'ftp://127.0.0.1/v1/metrics'], /--otlp: expected an http:\/\/ or https:\/\/ URL/],
      [['--otlp', 'not a url'], /--otlp: expected an http/],
      [['--otlp', 'http://127.0.0.1:4318'], /--otlp: expected the full metrics endpoint/],
      [['--otlp', 'http://me:hunter2secret@127.0.0.1:4318/v1/metrics'], /credentials in the URL are not accepted/],
      [['--otlp', 'http://127.0.0.1:4318/v1/metrics', '--otlp-interval', 'soon'], /--otlp-interval: expected a duration/],
      [['--otlp-interval', '5s'], /--otlp-interval needs --otlp/],
    ];
    for (const [args, msg] of cases) {
      const out = path.join(dir, 'out');
      const r = await dsprobe(['run', file, '--out', out, ...args]);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(msg);
      expect(r.stderr).not.toContain('hunter2secret');
      expect(r.stderr).not.toMatch(/\n\s+at /);
      expect(fs.existsSync(out)).toBe(false);
    }
    const w = await dsprobe(['watch', file, '--out', path.join(dir, 'w'), '--otlp', 'http://127.0.0.1:4318/']);
    expect(w.code).toBe(2);
    expect(w.stderr).toMatch(/--otlp: expected the full metrics endpoint/);
  }, 60_000);

  it('Ctrl-C (exit 130): the final push carries the partial report\'s counts', async () => {
    const rec = await receiver('ok');
    const dir = tmpDir();
    const out = path.join(dir, 'out');
    const file = writeScenario(dir, 'long.yaml', `name: otlp-long
target: { url: mock }
models:
  ${FLASH}: {}
load: { mode: ramp, start: 4, step: 4, max: 8, hold: 60s }
mock: { time_scale: 0.1 }
`);
    // No periodic push within the test (1 h): whatever arrives is the final flush.
    const r = await dsprobe(['run', file, '--out', out, '--quiet', '--no-html', '--otlp', rec.url, '--otlp-interval', '1h'], {
      onSpawn: (child) => {
        const poll = setInterval(() => {
          const p = path.join(out, 'samples.ndjson');
          if (fs.existsSync(p) && fs.readFileSync(p, 'utf8').split('\n').length > 20) {
            clearInterval(poll);
            child.kill('SIGINT');
          }
        }, 100);
        child.on('exit', () => clearInterval(poll));
      },
    });
    expect(r.code, r.stderr).toBe(130);
    const rep = readReport(out);
    expect(rep.status).toBe('interrupted');
    expect(rec.payloads.length).toBe(1);
    const pushed: Record<string, number> = {};
    for (const [a, v] of points(metricsOf(rec.payloads[0]!).get('dsprobe_requests'))) pushed[a['outcome']!] = v;
    expect(pushed).toEqual(outcomesOf(rep)[FLASH]);
  }, 60_000);

  it('watch --otlp pushes after every probe, whatever the interval, and once more on Ctrl-C', async () => {
    const rec = await receiver('ok');
    const dir = tmpDir();
    const file = writeScenario(dir, 'w.yaml', `name: otlp-watch
target: { url: mock }
models:
  ${FLASH}: {}
  ${PRO}: {}
load: { mode: search, start: 2, max: 100, hold: 5s }
probe: cheap
mock: { time_scale: 0.25, caps: { ${FLASH}: 12, ${PRO}: 5 } }
`);
    const out = path.join(dir, 'out');
    let probes = 0;
    const r = await dsprobe(['watch', file, '--every', '1s', '--for', '2m', '--out', out, '--otlp', rec.url, '--otlp-interval', '1h'], {
      onOutput: (chunk, child) => {
        probes += (chunk.match(/^watch #\d+ .*deepseek-v4-pro/gm) ?? []).length;
        if (probes >= 2 && child.exitCode === null) child.kill('SIGINT');
      },
    });
    expect(r.code, r.stderr).toBe(130);
    expect(r.stderr).not.toMatch(/warning: otlp/);
    const recs = fs.readFileSync(path.join(out, 'watch.ndjson'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { probe: number; model: string; status: string; estimate: number | null });
    const finished = recs.filter((x) => x.status !== 'interrupted');
    const finishedProbes = new Set(finished.map((x) => x.probe)).size;
    expect(finishedProbes).toBeGreaterThanOrEqual(2);
    // One push per finished probe (the interval never came round), each with that probe counted, plus the last one.
    const probeCounts = rec.payloads.map((p) => points(metricsOf(p).get('dsprobe_probes')).filter(([a]) => a['model'] === FLASH).reduce((s, [, v]) => s + v, 0));
    for (let n = 1; n <= finishedProbes; n++) expect(probeCounts, `a push after probe ${n}`).toContain(n);
    expect(rec.payloads.length).toBeGreaterThanOrEqual(finishedProbes + 1);
    const last = metricsOf(rec.payloads.at(-1)!);
    for (const model of [FLASH, PRO]) {
      const lastRec = finished.filter((x) => x.model === model).at(-1)!;
      expect(pointValue(last.get('dsprobe_cap_estimate'), { model }), model).toBe(lastRec.estimate);
    }
    expect(last.get('dsprobe_last_probe_timestamp_seconds')!.unit).toBe('s');
  }, 120_000);
});

/**
 * Faults through the whole pipeline: a run against a mock injecting every kind of failure completes, counts each
 * failure as its outcome class in the report (error table included), and keeps failures out of the latency figures.
 * (Each fault's exact outcome and detail is pinned at the prober level in test/transport/mock.test.ts.)
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { dsprobe, readReport, tmpDir, writeScenario } from '../helpers/cli.js';
import type { Report } from '../../src/types.js';

describe('a run through injected faults', () => {
  test('every fault becomes data in the report, never a crash', async () => {
    const dir = tmpDir();
    const file = writeScenario(
      dir,
      'faults.yaml',
      `
name: faults
target: { url: mock }
models:
  deepseek-v4-flash: {}
request: { prompt_tokens: 50, max_tokens: 30, stream: true, timeout: 2s }
load: { mode: ramp, stages: [{ inflight: 20, hold: 4s }] }
mock:
  latency: { answer_tokens: 30, inter_token: 5ms, prefill_overhead: 20ms }
  faults:
    - { kind: http_error, status: 503, rate: 0.08 }
    - { kind: html_gateway, rate: 0.08 }
    - { kind: error_after_headers, rate: 0.08, message: "boom <script>x</script>" }
    - { kind: blank_only, duration: 50ms, rate: 0.08 }
    - { kind: disconnect, after_tokens: 3, rate: 0.08 }
    - { kind: malformed_chunk, after_tokens: 2, rate: 0.08 }
    - { kind: mid_stream_error, after_tokens: 2, rate: 0.08 }
    - { kind: stall, duration: 1h, after_tokens: 1, rate: 0.04 }
    - { kind: http_error, status: 429, rate: 0.05 }
`,
    );
    const out = path.join(dir, 'out');
    const r = await dsprobe(['run', file, '--out', out, '--quiet'], {});
    expect(r.stderr).not.toMatch(/internal error/);
    expect(r.code).toBe(0);
    const rep = readReport(out);
    const st = rep.models[0]!.steps[0]!;
    for (const o of ['ok', 'server_error', 'protocol', 'network', 'timeout', 'rate_limited'] as const) {
      expect(st.outcomes[o], o).toBeGreaterThan(0);
    }
    const details = new Set(st.errors.map((e) => e.detail));
    for (const d of ['http_503', 'http_502', 'mid_stream_error', 'empty_body', 'cut_mid_stream', 'bad_json', 'deadline']) {
      expect(details.has(d), d).toBe(true);
    }
    // Only successes feed the latency histograms.
    expect(st.latency_ms.count).toBe(st.ok);
    expect(st.error_rate).toBeGreaterThan(0.2);
    // Server text is kept as data (escaped only when rendered).
    expect(st.errors.some((e) => e.message.includes('<script>'))).toBe(true);
    const html = fs.readFileSync(path.join(out, 'report.html'), 'utf8');
    expect(html).not.toContain('boom <script>x</script>');
  });
});

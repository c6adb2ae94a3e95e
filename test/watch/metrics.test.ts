import { describe, expect, it } from 'vitest';
import { LiveMetrics } from '../../src/report/metrics.js';
import { parseExposition, valueOf } from '../helpers/exposition.js';
import type { Report, Sample } from '../../src/types.js';
import { metricsFeed } from '../../src/cli/live-metrics.js';
import type { Scenario } from '../../src/scenario/types.js';
import type { RunView } from '../../src/run/runner.js';

const sample = (over: Partial<Sample>): Sample => ({
  id: 0, model: 'deepseek-v4-flash', step: 0, target_inflight: 1, key_index: 0, intended_us: 0, sent_us: 0, end_us: 2_000_000,
  keepalives: 0, outcome: 'ok', inflight_at_send: 1, ...over,
});

describe('live metrics (prom-client) under a strict exposition parser', () => {
  it('follows the conventions: dsprobe_ prefix, base units, _total counters, model label, valid histograms', async () => {
    const m = new LiveMetrics();
    m.sample(sample({ status: 200, first_token_us: 150_000 }), 0.001);
    m.sample(sample({ status: 429, outcome: 'rate_limited' }), 0);
    m.sample(sample({ model: 'deepseek-v4-pro', status: 200, keepalives: 2, first_keepalive_us: 1_000, first_data_us: 501_000, first_token_us: 600_000 }), 0.002);
    m.cap('deepseek-v4-flash', { low: 2500, high: 2501, estimate: 2500, server_reported: 2500, documented: 2500 });
    m.cap('deepseek-v4-pro', { low: null, high: null, estimate: null, server_reported: null });
    m.inflightNow('deepseek-v4-flash', 100, 98);
    m.loop({ delay_p50_ms: 1, delay_p99_ms: 12.5, delay_max_ms: 30, warning: null });
    m.thresholds([{ expression: 'cap(deepseek-v4-flash) >= 1800 "quoted"\\', passed: true }]);
    const fams = parseExposition(await m.render());
    for (const f of fams.values()) {
      expect(f.name).toMatch(/^dsprobe_/);
      if (f.type === 'counter') expect(f.name).toMatch(/_total$/);
      expect(f.help.length).toBeGreaterThan(0);
    }
    expect(valueOf(fams, 'dsprobe_cap_estimate', { model: 'deepseek-v4-flash' })).toBe(2500);
    expect(valueOf(fams, 'dsprobe_cap_band', { model: 'deepseek-v4-flash' })).toBe(1);
    // Unknown figures are absent, not zero.
    expect(valueOf(fams, 'dsprobe_cap_estimate', { model: 'deepseek-v4-pro' })).toBeUndefined();
    expect(valueOf(fams, 'dsprobe_requests_total', { model: 'deepseek-v4-flash', outcome: 'rate_limited' })).toBe(1);
    expect(valueOf(fams, 'dsprobe_rate_limited_total', { model: 'deepseek-v4-flash' })).toBe(1);
    // Seconds, not ms: TTFT 150 ms lands in the 0.25 s bucket and not the 0.1 s one.
    expect(valueOf(fams, 'dsprobe_ttft_seconds_bucket', { model: 'deepseek-v4-flash', le: '0.1' })).toBe(0);
    expect(valueOf(fams, 'dsprobe_ttft_seconds_bucket', { model: 'deepseek-v4-flash', le: '0.25' })).toBe(1);
    expect(valueOf(fams, 'dsprobe_keepalive_wait_seconds_sum', { model: 'deepseek-v4-pro' })).toBeCloseTo(0.5, 6);
    expect(valueOf(fams, 'dsprobe_probe_cost_usd_total', { model: 'deepseek-v4-pro' })).toBeCloseTo(0.002, 9);
    expect(valueOf(fams, 'dsprobe_loop_delay_seconds', { quantile: '0.99' })).toBeCloseTo(0.0125, 9);
    expect(valueOf(fams, 'dsprobe_inflight', { model: 'deepseek-v4-flash' })).toBe(98);
    // A label value with quotes and backslashes is escaped so the parser reads it back unchanged.
    expect(valueOf(fams, 'dsprobe_threshold_passing', { expression: 'cap(deepseek-v4-flash) >= 1800 "quoted"\\' })).toBe(1);
  });

  it("exports the host's CPU steal over the last interval, from the run's own reader", async () => {
    const m = new LiveMetrics();
    let t = 0;
    // 25 of every 100 ticks stolen.
    const feed = metricsFeed(m, {} as Scenario, { snapshot: () => ({ delay_p50_ms: 1, delay_p99_ms: 2, delay_max_ms: 3, warning: null }), stop: () => ({ delay_p50_ms: 1, delay_p99_ms: 2, delay_max_ms: 3, warning: null }) }, { hostCpu: () => ((t += 1), { steal: 25 * t, total: 100 * t }) });
    feed.watch({ models: () => [] } as unknown as RunView);
    feed.report({ models: [] } as unknown as Report);
    feed.stop();
    expect(valueOf(parseExposition(await m.render()), 'dsprobe_host_cpu_steal_ratio', {})).toBeCloseTo(0.25, 9);
    // Nothing read (not Linux): no figure at all, never a false zero.
    const none = new LiveMetrics();
    const quiet = metricsFeed(none, {} as Scenario, { snapshot: () => ({ delay_p50_ms: 1, delay_p99_ms: 2, delay_max_ms: 3, warning: null }), stop: () => ({ delay_p50_ms: 1, delay_p99_ms: 2, delay_max_ms: 3, warning: null }) }, { hostCpu: () => null });
    quiet.watch({ models: () => [] } as unknown as RunView);
    quiet.report({ models: [] } as unknown as Report);
    quiet.stop();
    expect(valueOf(parseExposition(await none.render()), 'dsprobe_host_cpu_steal_ratio', {})).toBeUndefined();
  });

  it('the parser rejects what Prometheus would', () => {
    expect(() => parseExposition('x_total 1\n')).toThrow(/no TYPE/);
    expect(() => parseExposition('# TYPE a gauge\na{m="x} 1\n')).toThrow();
    expect(() => parseExposition('# TYPE a gauge\na 1\na 2\n')).toThrow(/duplicate/);
    expect(() => parseExposition('# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1\n')).toThrow(/increasing/);
  });
});

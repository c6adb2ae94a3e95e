import { describe, expect, it } from 'vitest';
import { parseThreshold, checkThresholdsEarly } from '../../src/measure/thresholds.js';

describe('parseThreshold: valid expressions', () => {
  it.each([
    ['cap(deepseek-v4-flash) >= 2000', { metric: 'cap', model: 'deepseek-v4-flash', op: '>=', value: 2000, unit: 'requests' }],
    ['rate_429(deepseek-v4-pro, inflight <= 400) < 0.01', { metric: 'rate_429', model: 'deepseek-v4-pro', scope: { op: '<=', value: 400 }, op: '<', value: 0.01, unit: 'fraction' }],
    ['rate_429 < 1%', { metric: 'rate_429', op: '<', value: 0.01, unit: 'fraction' }],
    ['rate_429() <= 0.5 %', { metric: 'rate_429', op: '<=', value: 0.005, unit: 'fraction' }],
    ['error_rate(inflight > 10) == 0', { metric: 'error_rate', scope: { op: '>', value: 10 }, op: '==', value: 0 }],
    ['p99(ttft, deepseek-v4-flash, inflight <= 1500) < 2.5s', { metric: 'p99', field: 'ttft', model: 'deepseek-v4-flash', scope: { op: '<=', value: 1500 }, op: '<', value: 2500, unit: 'ms' }],
    ['p95(keepalive_wait) < 1s', { metric: 'p95', field: 'keepalive_wait', op: '<', value: 1000 }],
    ['p50(latency)<800ms', { metric: 'p50', field: 'latency', op: '<', value: 800 }],
    ['max(tpot, m) != 250us', { metric: 'max', field: 'tpot', model: 'm', op: '!=', value: 0.25 }],
    ['p90(ttft) > 120', { metric: 'p90', field: 'ttft', op: '>', value: 120 }],
    ['p99(ttft, "odd model") < 1s', { metric: 'p99', field: 'ttft', model: 'odd model', value: 1000 }],
    ['mean(latency, inflight >= 5) < .5s', { metric: 'mean', field: 'latency', scope: { op: '>=', value: 5 }, value: 500 }],
  ])('%s', (expr, expected) => {
    const r = parseThreshold(expr);
    expect(r.error).toBeUndefined();
    expect(r.ast).toMatchObject(expected);
  });
});

describe('parseThreshold: errors with their column and a hint', () => {
  it.each([
    ['p98(ttft) < 1s', 1, /unknown metric `p98`/, /supported percentiles: p50, p90, p95, p99, max, mean/],
    ['cpa(m) > 1', 1, /unknown metric `cpa`/, /did you mean `cap`\?/],
    ['p99(ttf) < 1s', 5, /unknown field `ttf`/, /did you mean `ttft`\?/],
    ['p99(deepseek-v4-flash) < 1s', 5, /unknown field `deepseek-v4-flash`/, /fields: ttft, latency, keepalive_wait, tpot/],
    ['p99 < 1s', 5, /`p99` needs arguments in parentheses/, /p99\(ttft, deepseek-v4-flash/],
    ['cap(m) >= 5s', 12, /`cap` is a number of requests and takes no unit \(got `s`\)/, /cap\(deepseek-v4-flash\) >= 2000/],
    ['cap() >= 5', 1, /`cap` needs a model/, /cap\(deepseek-v4-flash\)/],
    ['cap(m, inflight < 5) >= 5', 8, /`cap` takes no in-flight scope/, null],
    ['rate_429(m) < 1s', 16, /`s` is not a unit of a rate/, /0\.01.*1%/],
    ['rate_429(m) < 5', 15, /a rate is at most 1 \(got 5\)/, /did you mean 5%\?/],
    ['p99(ttft) < 2min', 14, /unknown time unit `min`/, /120s/],
    ['p99(ttft) 2s', 11, /expected a comparison .* \(got `2s`\)/, /p99\(ttft\) < 2.5s/],
    ['p99(ttft) = 2s', 11, /`=` is not a comparison/, /use ==/],
    ['p99(ttft) < fast', 13, /expected a number \(got `fast`\)/, /2\.5s, 800ms/],
    ['p99(ttft) <', 12, /expected a number \(got the end\)/, null],
    ['p99(ttft, m < 2s', 11, /unknown scope `m`/, null],
    ['p99(ttft, m', 12, /expected `,` or `\)` \(got the end\)/, /close the `\(` opened at column 4/],
    ['p99(ttft, level <= 5) < 1s', 11, /unknown scope `level`/, /inflight <= N/],
    ['p99(ttft, inflite <= 5) < 1s', 11, /unknown scope `inflite`/, /did you mean `inflight`\?/],
    ['p99(ttft, inflight <= 2.5) < 1s', 23, /expected a whole number of requests after `inflight <=`/, null],
    ['p99(ttft, a, b) < 1s', 14, /unexpected second model `b`/, null],
    ['p99(ttft, inflight < 5, a) < 1s', 25, /the model goes before the in-flight scope/, null],
    ['rate_429(ttft) < 1%', 10, /`ttft` is a latency field, not a model/, /p99\(ttft\) < 2s/],
    ['p99(ttft) < 1s and cap(m) > 1', 16, /unexpected `and` after the threshold/, /several thresholds/],
    ['p99(ttft) < 1s #', 16, /unexpected `#`/, null],
    ['', 1, /expected a metric .* \(got the end\)/, /metrics: cap/],
    ['p99(ttft, "m) < 1', 11, /unterminated quoted name/, null],
  ])('%j -> column %d', (expr, col, message, hint) => {
    const r = parseThreshold(expr);
    expect(r.ast).toBeUndefined();
    expect(r.error!.message).toMatch(message);
    expect(r.error!.col).toBe(col);
    if (hint) expect(r.error!.hint).toMatch(hint);
  });
});

describe('checkThresholdsEarly', () => {
  it('reports parse errors and unknown models, with the source position', () => {
    const problems = checkThresholdsEarly(
      [
        { expression: 'cap(deepseek-v4-flash) >= 1', abort_on_fail: false, source: 'a.yaml:3:5' },
        { expression: 'cap(deepseek-v4-flsh) >= 1', abort_on_fail: false, source: 'a.yaml:4:5' },
        { expression: 'p99(ttft) << 1', abort_on_fail: false, source: '--expect' },
      ],
      { models: [{ name: 'deepseek-v4-flash', weight: 1 }, { name: 'deepseek-v4-pro', weight: 1 }] },
    );
    expect(problems).toHaveLength(2);
    expect(problems[0]).toMatchObject({ path: 'expect[1]', where: 'a.yaml:4:5', hint: 'did you mean `deepseek-v4-flash`?' });
    expect(problems[0]!.message).toMatch(/model `deepseek-v4-flsh` is not in the scenario's models \(column 5 of/);
    expect(problems[1]).toMatchObject({ path: '--expect' });
    expect(problems[1]!.where).toBeUndefined();
    expect(problems[1]!.message).toMatch(/column 12/);
  });
});

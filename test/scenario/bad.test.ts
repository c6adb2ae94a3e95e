import { describe, expect, it } from 'vitest';
import { parseScenario } from '../../src/scenario/index.js';

const BASE = `target: { url: mock }\nmodels: { deepseek-v4-flash: {} }\n`;

/** [case, yaml, expected problems: [line:col, path, message pattern, hint pattern or null]] */
const CASES: [string, string, [string, string, RegExp, RegExp | null][]][] = [
  ['unknown top-level key names the nearest', BASE + 'laod: { start: 5 }\n', [['3:1', 'laod', /unknown key `laod`/, /did you mean `load`\?/]]],
  ['unknown nested key names the nearest', BASE + 'load: { hodl: 5s }\n', [['3:9', 'load.hodl', /unknown key `hodl`/, /did you mean `hold`\?/]]],
  ['unknown key far from any lists the known ones', BASE + 'stop: { zzzzzz: 1 }\n', [['3:9', 'stop.zzzzzz', /unknown key/, /known keys here: max_429_rate, max_error_rate/]]],
  ['unknown model option', 'target: { url: mock }\nmodels:\n  deepseek-v4-flash: { wieght: 4 }\n', [['3:24', 'models.deepseek-v4-flash.wieght', /unknown key/, /did you mean `weight`\?/]]],
  ['missing target and models', 'seed: 1\n', [['1:1', 'target', /is required/, /add `target:`/], ['1:1', 'models', /is required/, /add `models:`/]]],
  ['missing url', 'target: { protocol: openai }\nmodels: { m: {} }\n', [['1:9', 'target.url', /is required/, /add `url:` under target/]]],
  ['empty models', 'target: { url: mock }\nmodels: {}\n', [['2:9', 'models', /at least 1 entry/, null]]],
  ['bad enum names the nearest', BASE + 'load: { mode: serach }\n', [['3:15', 'load.mode', /expected one of: search, ramp, rate \(got "serach"\)/, /did you mean `search`\?/]]],
  ['bad protocol', 'target: { url: mock, protocol: anthropc }\nmodels: { m: {} }\n', [['1:32', 'target.protocol', /one of: openai, anthropic/, /did you mean `anthropic`\?/]]],
  ['bad url', 'target: { url: "ftp://x" }\nmodels: { m: {} }\n', [['1:16', 'target.url', /expected `mock` or an http\(s\) URL/, /https:\/\/api\.deepseek\.com/]]],
  ['credentials in the url are refused, not echoed', 'target: { url: "https://bob:hunter2@api.example.test" }\nmodels: { m: {} }\n', [['1:16', 'target.url', /must not carry credentials/, /api_key_env/]]],
  ['a key in the url query is refused', 'target: { url: "https://api.example.test/?api_key=abc" }\nmodels: { m: {} }\n', [['1:16', 'target.url', /must not carry credentials/, null]]],
  ['unset url variable', 'target: { url: "${NOPE_URL}" }\nmodels: { m: {} }\n', [['1:16', 'target.url', /environment variable NOPE_URL is not set/, /\$\{VAR:-default\}/]]],
  ['negative integer', BASE + 'request: { max_tokens: -5 }\n', [['3:24', 'request.max_tokens', /expected an integer >= 1 and <= 384000 \(got -5\)/, null]]],
  ['fractional integer', BASE + 'load: { start: 2.5 }\n', [['3:16', 'load.start', /expected an integer >= 1/, null]]],
  ['string where a number goes', BASE + 'seed: abc\n', [['3:7', 'seed', /expected an integer >= 0 \(got "abc"\)/, null]]],
  ['yes is not a boolean', BASE + 'request: { stream: yes }\n', [['3:20', 'request.stream', /expected true or false \(got "yes"\)/, /write true or false/]]],
  ['bad duration', BASE + 'load: { hold: 10 minutes }\n', [['3:15', 'load.hold', /expected a duration like 10s/, /10s, 500ms or 2m/]]],
  ['zero hold', BASE + 'load: { hold: 0s }\n', [['3:15', 'load.hold', /must be longer than 0/, /hold: 10s/]]],
  ['rate above 1 suggests a percentage', BASE + 'stop: { max_429_rate: 5 }\n', [['3:23', 'stop.max_429_rate', /rate between 0 and 1/, /did you mean 5%\?/]]],
  ['max below start', BASE + 'load: { start: 50, max: 10 }\n', [['3:25', 'load.max', /must be >= load.start \(got 10 < 50\)/, /raise load.max or lower load.start/]]],
  ['per-model max below start', 'target: { url: mock }\nmodels: { m: { max: 5 } }\nload: { start: 50 }\npricing: { m: { input_cache_hit: 0, input_cache_miss: 0, output: 0 } }\n', [['2:21', 'models.m.max', /must be >= load.start \(got 5 < 50\)/, /models.m.inflight/]]],
  ['model inflight above its max', 'target: { url: mock }\nmodels: { m: { inflight: 9, max: 5 } }\n', [['2:34', 'models.m.max', /must be >= models.m.inflight \(got 5 < 9\)/, null]]],
  ['a backoff cap below its base', BASE + 'load: { on_429: { base: 5s, cap: 1s } }\n', [['3:34', 'load.on_429.cap', /must be >= load.on_429.base/, null]]],
  ['stage without inflight', BASE + 'load: { stages: [{ hold: 1s }] }\n', [['3:18', 'load.stages[0].inflight', /is required/, null]]],
  ['growth must exceed 1', BASE + 'load: { growth: 1 }\n', [['3:17', 'load.growth', /expected a number > 1 and <= 16/, null]]],
  ['reasoning_effort without thinking', BASE + 'request: { reasoning_effort: max }\n', [['3:30', 'request.reasoning_effort', /only applies in thinking mode/, /thinking: true/]]],
  ['prefix longer than the prompt', BASE + 'request: { prompt_tokens: 100, system_prefix_tokens: 200 }\n', [['3:54', 'request.system_prefix_tokens', /must be <= request.prompt_tokens \(got 200 > 100\)/, null]]],
  ['context overflow', BASE + 'request: { prompt_tokens: 900000, max_tokens: 200000 }\n', [['3:47', 'request.max_tokens', /1,000,000-token context/, null]]],
  ['fixed user_id without value', BASE + 'request: { user_id: { strategy: fixed } }\n', [['3:21', 'request.user_id.value', /is required with strategy fixed/, /value: team-a/]]],
  ['user_id with bad characters', BASE + 'request: { user_id: { strategy: fixed, value: "a b" } }\n', [['3:47', 'request.user_id.value', /letters, digits, _ and -/, null]]],
  ['count with a fixed id', BASE + 'request: { user_id: { strategy: fixed, value: a, count: 3 } }\n', [['3:57', 'request.user_id.count', /only applies to strategy rotating/, null]]],
  ['unknown user_id strategy', BASE + 'request: { user_id: { strategy: rotate } }\n', [['3:33', 'request.user_id.strategy', /none, fixed, rotating/, /did you mean `rotating`\?/]]],
  ['user_id of the wrong shape', BASE + 'request: { user_id: 5 }\n', [['3:21', 'request.user_id', /expected one of: none, or a mapping/, null]]],
  ['api_key_env holding a key is not echoed', 'target: { url: mock, api_key_env: sk-live0123456789abcdef }\nmodels: { m: {} }\n', [['1:35', 'target.api_key_env', /environment variable name\) \(got a string \(not shown\)\)/, /looks like a secret itself/]]],
  ['api_key_env list with a bad entry', 'target: { url: mock, api_key_env: [GOOD, "bad name"] }\nmodels: { m: {} }\n', [['1:42', 'target.api_key_env[1]', /environment variable name/, null]]],
  ['header values are never echoed', 'target: { url: mock, headers: { X-A: 12345 } }\nmodels: { m: {} }\n', [['1:38', 'target.headers.X-A', /expected a string \(got a number \(not shown\)\)/, null]]],
  ['bad header name', 'target: { url: mock, headers: { "X A": v } }\nmodels: { m: {} }\n', [['1:33', 'target.headers.X A', /valid HTTP header name/, null]]],
  ['threshold with a bad field, position inside the expression', BASE + 'expect:\n  - p99(ttf) < 2s\n', [['4:9', 'expect[0]', /unknown field `ttf`/, /did you mean `ttft`\?/]]],
  ['threshold in quotes, position inside the expression', BASE + 'expect:\n  - "cap(deepseek-v4-flsh) >= 5"\n', [['4:10', 'expect[0]', /model `deepseek-v4-flsh` is not in the scenario's models/, /did you mean `deepseek-v4-flash`\?/]]],
  ['threshold object without expr', BASE + 'expect:\n  - { abort_on_fail: true }\n', [['4:5', 'expect[0].expr', /is required/, null]]],
  ['threshold expr with a unit error', BASE + 'expect:\n  - { expr: "rate_429 < 2s" }\n', [['4:26', 'expect[0].expr', /`s` is not a unit of a rate/, /1%/]]],
  ['price of an unknown model must be complete', BASE + 'pricing: { other: { output: 1 } }\n', [['3:19', 'pricing.other.input_cache_hit', /is required: dsprobe has no default price for other/, null], ['3:19', 'pricing.other.input_cache_miss', /is required/, null]]],
  ['negative price', BASE + 'pricing: { deepseek-v4-flash: { output: -1 } }\n', [['3:41', 'pricing.deepseek-v4-flash.output', /expected a number >= 0/, null]]],
  ['budget must be positive', BASE + 'budget: { max_usd: 0 }\n', [['3:20', 'budget.max_usd', /expected a number > 0/, null]]],
  ['safety_margin below 1', BASE + 'safety_margin: 1\n', [['3:16', 'safety_margin', /expected a number >= 0 and < 1/, null]]],
  ['mock caps must be whole numbers', BASE + 'mock: { caps: { deepseek-v4-flash: -1 } }\n', [['3:36', 'mock.caps.deepseek-v4-flash', /must be >= 0 \(got -1\)/, null]]],
  ['mock time_scale must be positive', BASE + 'mock: { time_scale: 0 }\n', [['3:21', 'mock.time_scale', /must be > 0 \(got 0\)/, null]]],
  ['unknown mock option (checked by the mock\'s own parser)', BASE + 'mock:\n  latency: { itl_ms: 5 }\n', [['4:14', 'mock.latency.itl_ms', /unknown key/, /inter_token/]]],
  ['bad scenario name', 'name: "my scenario/1"\n' + BASE, [['1:7', 'name', /letters, digits, \., _ and -/, /flash-vs-pro-headroom/]]],
  ['YAML syntax error', 'target: { url: mock\nmodels: [\n', [['2:1', '', /^YAML: Flow map .* end with a \}/, /not closed/], ['3:1', '', /^YAML: Flow sequence .* end with a \]/, /not closed/]]],
  ['duplicate key', BASE + 'seed: 1\nseed: 2\n', [['4:1', '', /YAML: Map keys must be unique/, /each key may appear once/]]],
  ['tab indentation', 'target:\n\turl: mock\n', [['2:1', '', /^YAML: /, null]]],
  ['empty file', '', [['1:1', '', /the file is empty/, /quickstart/]]],
  ['top level is a list', '- a\n- b\n', [['1:1', '', /expected a mapping of keys \(got a list\)/, null]]],
  ['two documents', BASE + '---\n' + BASE, [['3:1', '', /expected one YAML document/, /its own file/]]],
];

describe('parseScenario: every problem, positioned, with a hint', () => {
  it.each(CASES)('%s', (_name, text, expected) => {
    const r = parseScenario(text, 'bad.yaml');
    expect(r.scenario).toBeUndefined();
    const got = r.problems.map((p) => ({ where: p.where, path: p.path, message: p.message, hint: p.hint ?? null }));
    expect(got, JSON.stringify(got, null, 1)).toHaveLength(expected.length);
    expected.forEach(([where, path, message, hint], i) => {
      const p = got[i]!;
      expect(p.where, JSON.stringify(p)).toBe(`bad.yaml:${where}`);
      expect(p.path, JSON.stringify(p)).toBe(path);
      expect(p.message, JSON.stringify(p)).toMatch(message);
      if (hint) expect(p.hint, JSON.stringify(p)).toMatch(hint);
    });
  });

  it('reports all problems of a file at once, in file order', () => {
    const r = parseScenario(
      `target:
  url: mock
  protocl: openai
models:
  deepseek-v4-flash: { weight: -1 }
load:
  mode: ramp
  start: 100
  max: 10
  hold: soon
stop: { max_429_rate: 2 }
`,
      'many.yaml',
    );
    expect(r.problems.map((p) => `${p.where} ${p.path}`)).toEqual([
      'many.yaml:3:3 target.protocl',
      'many.yaml:5:32 models.deepseek-v4-flash.weight',
      'many.yaml:9:8 load.max',
      'many.yaml:10:9 load.hold',
      'many.yaml:11:23 stop.max_429_rate',
    ]);
    expect(r.problems[0]!.hint).toBe('did you mean `protocol`?');
  });

  it('never echoes URL credentials, even in an invalid URL', () => {
    const r = parseScenario('target: { url: "htps://bob:hunter2@x" }\nmodels: { m: {} }\n', 'u.yaml');
    expect(r.problems).toHaveLength(1);
    expect(JSON.stringify(r)).not.toContain('hunter2');
  });

  it('never prints a secret-looking value it was given', () => {
    const key = 'sk-0123456789abcdef0123456789abcdef';
    const r = parseScenario(`target: { url: mock, api_key_env: ${key}, headers: { Authorization: [${key}] } }\nmodels: { m: {} }\n`, 'k.yaml');
    expect(r.problems.length).toBe(2);
    expect(JSON.stringify(r)).not.toContain('0123456789abcdef');
  });
});

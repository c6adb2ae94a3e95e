import { describe, expect, it } from 'vitest';
import { readFileSync, readdirSync, writeFileSync, mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { parseScenario, readScenario, parseDuration, expandEnv } from '../../src/scenario/index.js';
import { DsprobeError, EXIT } from '../../src/errors.js';

const ISSUE_EXAMPLE = `name: flash-vs-pro-headroom
target:
  url: mock                 # the built-in mock, started for the run; or http(s)://host[:port] of an OpenAI- or Anthropic-compatible API
  protocol: openai          # openai | anthropic
  api_key_env: DEEPSEEK_API_KEY
models:
  deepseek-v4-flash: { weight: 4 }
  deepseek-v4-pro: { weight: 1 }
request:
  prompt_tokens: 1200       # a seeded synthetic prompt of about this many tokens
  max_tokens: 200
  stream: true
load:
  mode: search              # search: find each model's cap; ramp: fixed steps
  start: 50
  max: 4000
  hold: 10s                 # how long a level is held at most
stop:
  max_429_rate: 0.05
seed: 1
`;

function ok(text: string, env: Record<string, string> = {}) {
  const r = parseScenario(text, 's.yaml', { env });
  expect(r.problems).toEqual([]);
  return { s: r.scenario!, warnings: r.warnings };
}

const MIN = `target: { url: mock }\nmodels: { deepseek-v4-flash: {} }\n`;

describe('parseScenario: valid scenarios', () => {
  it('parses the issue example as written, with every default filled', () => {
    const { s, warnings } = ok(ISSUE_EXAMPLE);
    // Issue 14: a key that does nothing in the chosen mode is a warning with the reason.
    expect(warnings).toEqual([
      expect.stringMatching(/^s\.yaml:7:32: models\.deepseek-v4-flash\.weight: ignored in search mode: each model searches its own cap/),
      expect.stringMatching(/^s\.yaml:8:30: models\.deepseek-v4-pro\.weight: ignored in search mode/),
    ]);
    expect(s.name).toBe('flash-vs-pro-headroom');
    expect(s.target).toEqual({ url: 'mock', protocol: 'openai', api_key_env: ['DEEPSEEK_API_KEY'], headers: {} });
    expect(s.models).toEqual([
      { name: 'deepseek-v4-flash', weight: 4 },
      { name: 'deepseek-v4-pro', weight: 1 },
    ]);
    expect(s.request).toMatchObject({ prompt_tokens: 1200, max_tokens: 200, stream: true, system_prefix_tokens: 0, thinking: false, user_id: { strategy: 'none' }, timeout_ms: 600_000 });
    expect(s.load).toEqual({
      mode: 'search', start: 50, max: 4000, hold_ms: 10_000, precision: 1, growth: 2, recheck: true,
      on_429: { enabled: true, base_ms: 1000, factor: 2, cap_ms: 30_000 }, drain_ms: 30_000,
    });
    expect(s.stop).toEqual({ max_429_rate: 0.05 });
    expect(s.seed).toBe(1);
    expect(s.expect).toEqual([]);
    expect(s.pricing['deepseek-v4-pro']).toEqual({ input_cache_hit: 0.145, input_cache_miss: 1.74, output: 3.48 });
  });

  it('the repository copy of the example is the issue example, without the weights search mode ignores', () => {
    const file = readFileSync('scenarios/flash-vs-pro-headroom.yaml', 'utf8');
    expect(file.replace(/^#.*\n/, '')).toBe(ISSUE_EXAMPLE.replace('{ weight: 4 }', '{}').replace('{ weight: 1 }', '{}'));
  });

  it('every file in scenarios/ is valid and warning-free', async () => {
    const files = readdirSync('scenarios').filter((f) => f.endsWith('.yaml'));
    expect(files).toEqual(expect.arrayContaining(['quickstart.yaml', 'flash-vs-pro-headroom.yaml', 'ramp.yaml', 'ci-check.yaml']));
    for (const f of files) {
      const s = await readScenario(join('scenarios', f));
      expect(s.warnings ?? [], f).toEqual([]);
    }
  });

  it('fills defaults for a minimal scenario, naming it after the file', () => {
    const r = parseScenario(MIN, 'dir/My Check.yaml');
    const s = r.scenario!;
    expect(s.name).toBe('My-Check');
    expect(s.load).toMatchObject({ mode: 'search', start: 10, max: 3000, hold_ms: 10_000 });
    expect(s.request).toMatchObject({ prompt_tokens: 256, max_tokens: 64, stream: true });
    expect(s.models[0]).toEqual({ name: 'deepseek-v4-flash', weight: 1 });
    expect(s.stop).toEqual({});
  });

  it('accepts every option of issue 3 section 1', () => {
    const { s } = ok(`name: everything
target:
  url: \${BASE:-http://127.0.0.1:9999/}
  protocol: anthropic
  api_key_env: [KEY_A, KEY_B]
  headers: { X-Team: "\${TEAM_TOKEN}" }
models:
  deepseek-v4-flash: { weight: 2, inflight: 30, max: 90 }
  deepseek-v4-pro:
request:
  prompt_tokens: 2000
  system_prefix_tokens: 1500
  max_tokens: 300
  stream: false
  thinking: true
  reasoning_effort: max
  user_id: { strategy: rotating, count: 8, prefix: u- }
  timeout: 1m30s
  temperature: 0.7
load:
  mode: ramp
  stages:
    - { inflight: 10, hold: 500ms }
    - { inflight: 40 }
    - inflight: 20
      hold: 2
  hold: 3s
stop: { max_429_rate: 5%, max_error_rate: 0.1 }
expect:
  - cap(deepseek-v4-flash) >= 20
  - { expr: "p99(ttft, deepseek-v4-pro, inflight <= 40) < 2.5s", abort_on_fail: true }
budget: { max_usd: 1.5, max_tokens: 100000 }
pricing:
  deepseek-v4-flash: { output: 0.5 }
  my-model: { input_cache_hit: 0, input_cache_miss: 1, output: 2 }
safety_margin: 0.1
seed: 42
`);
    expect(s.target).toEqual({ url: 'http://127.0.0.1:9999', protocol: 'anthropic', api_key_env: ['KEY_A', 'KEY_B'], headers: { 'X-Team': '${TEAM_TOKEN}' } });
    expect(s.models).toEqual([
      { name: 'deepseek-v4-flash', weight: 2, inflight: 30, max: 90 },
      { name: 'deepseek-v4-pro', weight: 1 },
    ]);
    expect(s.request).toEqual({
      prompt_tokens: 2000,
      system_prefix_tokens: 1500,
      max_tokens: 300,
      stream: false,
      thinking: true,
      reasoning_effort: 'max',
      user_id: { strategy: 'rotating', count: 8, prefix: 'u-' },
      timeout_ms: 90_000,
      temperature: 0.7,
    });
    expect(s.load.mode).toBe('ramp');
    expect(s.load.stages).toEqual([
      { inflight: 10, hold_ms: 500 },
      { inflight: 40, hold_ms: 3000 },
      { inflight: 20, hold_ms: 2000 },
    ]);
    expect(s.load.start).toBe(10);
    expect(s.load.max).toBe(40);
    expect(s.stop).toEqual({ max_429_rate: 0.05, max_error_rate: 0.1 });
    expect(s.expect).toEqual([
      { expression: 'cap(deepseek-v4-flash) >= 20', abort_on_fail: false, source: 's.yaml:30:5' },
      { expression: 'p99(ttft, deepseek-v4-pro, inflight <= 40) < 2.5s', abort_on_fail: true, source: 's.yaml:31:13' },
    ]);
    expect(s.budget).toEqual({ max_usd: 1.5, max_tokens: 100000 });
    expect(s.pricing['deepseek-v4-flash']).toEqual({ input_cache_hit: 0.028, input_cache_miss: 0.14, output: 0.5 });
    expect(s.pricing['my-model']).toEqual({ input_cache_hit: 0, input_cache_miss: 1, output: 2 });
    expect(s.safety_margin).toBe(0.1);
    expect(s.seed).toBe(42);
  });

  it('ramp with a step; fixed user_id; the string `none`; inline mock options', () => {
    const { s } = ok(`target: { url: mock }
models: { deepseek-v4-pro: { weight: 1 } }
request: { user_id: { strategy: fixed, value: team_a-1 } }
load: { mode: ramp, start: 5, step: 5, max: 20, hold: 250ms }
mock: { caps: { deepseek-v4-pro: 12 }, time_scale: 0.01, seed: 3, latency: { inter_token: 5ms } }
`);
    expect(s.load).toMatchObject({ mode: 'ramp', start: 5, step: 5, max: 20, hold_ms: 250 });
    expect(s.stop.max_429_rate).toBe(0.05); // the ramp default
    expect(s.request.user_id).toEqual({ strategy: 'fixed', value: 'team_a-1' });
    expect(s.mock).toEqual({ caps: { 'deepseek-v4-pro': 12 }, time_scale: 0.01, seed: 3, latency: { inter_token: '5ms' } });
    expect(ok(MIN + 'request: { user_id: none }\n').s.request.user_id).toEqual({ strategy: 'none' });
  });

  it('a ramp step without a mode means ramp; step defaults to start', () => {
    expect(ok(MIN + 'load: { step: 10 }\n').s.load.mode).toBe('ramp');
    expect(ok(MIN + 'load: { mode: ramp, start: 7 }\n').s.load.step).toBe(7);
  });

  it('warns (never fails) on retired model ids', () => {
    const r = parseScenario('target: { url: mock }\nmodels: { deepseek-chat: {}, deepseek-reasoner: {} }\n', 'r.yaml');
    expect(r.problems).toEqual([]);
    expect(r.warnings).toHaveLength(2);
    expect(r.warnings[0]).toMatch(/deepseek-chat.*retired on 2026-07-24.*deepseek-v4-flash/);
    expect(r.warnings[1]).toMatch(/deepseek-reasoner.*retired/);
    expect(r.scenario!.warnings).toEqual(r.warnings);
  });

  it('reads ${VAR} in target.url from the given environment', () => {
    expect(ok('target: { url: "${DS_URL}" }\nmodels: { m: {} }\npricing: { m: { input_cache_hit: 0, input_cache_miss: 0, output: 0 } }\n', { DS_URL: 'https://api.example.test/' }).s.target.url).toBe('https://api.example.test');
    expect(expandEnv('${A}-${B:-b}-${C}', { A: 'a' })).toEqual({ value: 'a-b-', missing: ['C'] });
  });
});

describe('durations', () => {
  it.each([
    [10, 10_000],
    ['10s', 10_000],
    ['500ms', 500],
    ['2m', 120_000],
    ['1m30s', 90_000],
    ['1.5h', 5_400_000],
    ['250us', 0.25],
    ['0.5', 500],
    [' 3 s ', 3000],
  ])('%j = %d ms', (input, ms) => {
    expect(parseDuration(input)).toEqual({ ms });
  });
  it.each([['10 minutes'], ['-1'], [-2], ['s'], [''], [true], ['10sec']])('%j is not a duration', (input) => {
    expect(parseDuration(input)).toHaveProperty('error');
  });
});

describe('readScenario', () => {
  it('throws a usage error (exit 2) listing every problem', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dsprobe-scn-'));
    const f = join(dir, 'bad.yaml');
    writeFileSync(f, 'target: { url: mock }\nmodels: { m: { weight: 0 } }\nload: { hold: fast }\n');
    const err = await readScenario(f).catch((e) => e);
    expect(err).toBeInstanceOf(DsprobeError);
    expect(err.exitCode).toBe(EXIT.USAGE);
    expect(err.message).toBe('scenario has 2 problem(s)');
    expect(err.problems.map((p: { where: string }) => p.where)).toEqual([`${f}:2:24`, `${f}:3:15`]);
  });
  it('says so when the file does not exist', async () => {
    const err = await readScenario('/nonexistent/x.yaml').catch((e) => e);
    expect(err).toBeInstanceOf(DsprobeError);
    expect(err.exitCode).toBe(EXIT.USAGE);
    expect(err.message).toMatch(/no such file/);
  });
});

describe('expandHeaders', () => {
  it('expands ${VAR} in header values and lists unset variables', async () => {
    const { expandHeaders } = await import('../../src/scenario/index.js');
    expect(expandHeaders({ 'X-Team': 'team ${TEAM}', 'X-Tok': '${TOK}', Plain: 'p' }, { TEAM: 'a' })).toEqual({
      headers: { 'X-Team': 'team a', 'X-Tok': '', Plain: 'p' },
      missing: ['TOK'],
    });
  });
});

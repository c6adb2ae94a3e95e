/**
 * dsprobe against an independent misbehaving server (./server.ts, not the mock): every fault ends in its
 * documented outcome (docs/outcomes.md), memory stays bounded (the CLI runs with a 96 MB heap while the server
 * sends endless lines and bodies at loopback speed, against a 64 KiB `request.max_body`), the report is written
 * and samples.ndjson holds one line per request. Every configured secret stays out of every file and line
 * printed, even when the server echoes every request header.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { dsprobe, readReport, readSamples, readTree, tmpDir, writeScenario } from '../helpers/cli.js';
import { startHostile, type ChatFault, type HostileOptions, type HostileServer } from './server.js';

const KEY = 'sk-canary-key-0123456789';
const TEAM_TOKEN = 'canary-team-token-abcdef';
const TEAM_ID = 'canary-team-id-778899';
const servers: HostileServer[] = [];
afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

/**
 * One CLI run against a fresh hostile server. `timeout` is generous by default (faults that end by themselves
 * must not be mistaken for stalls on a loaded machine); stall cases pass a short one and a hold as long, so the
 * deadline, not the end of the run, ends their requests.
 */
async function runAgainst(opts: HostileOptions, stream: boolean, timeout = '5s', hold = '1s') {
  const server = await startHostile(opts);
  servers.push(server);
  const dir = tmpDir('dsprobe-hostile-');
  const file = writeScenario(
    dir,
    'h.yaml',
    `name: hostile
target:
  url: "${server.url}"
  api_key_env: HOSTILE_KEY
  headers:
    Authorization: "Bearer \${TEAM_TOKEN}"
    X-Team: "\${TEAM_ID}"
models:
  deepseek-v4-flash: {}
request: { prompt_tokens: 10, max_tokens: 5, stream: ${stream}, timeout: ${timeout}, max_body: 65536 }
load: { mode: ramp, start: 2, step: 2, max: 2, hold: ${hold} }
`,
  );
  const out = path.join(dir, 'out');
  const r = await dsprobe(['run', file, '--yes', '--quiet', '--out', out], {
    env: { HOSTILE_KEY: KEY, TEAM_TOKEN, TEAM_ID, NODE_OPTIONS: '--max-old-space-size=96' },
  });
  return { r, out, server };
}

function expectNoSecret(text: string): void {
  for (const secret of [KEY, TEAM_TOKEN, TEAM_ID]) expect(text).not.toContain(secret);
}

/** fault, stream, outcome, detail. */
const CASES: [ChatFault, boolean, string, string][] = [
  ['endless_line', true, 'protocol', 'line_too_long'],
  ['huge_line', true, 'protocol', 'line_too_long'],
  ['endless_event', true, 'protocol', 'event_too_large'],
  ['endless_body', false, 'protocol', 'body_too_large'],
  ['endless_error', true, 'server_error', 'http_500'],
  ['endless_error', false, 'server_error', 'http_500'],
  ['huge_429', true, 'rate_limited', 'http_429'],
  ['huge_headers', true, 'protocol', 'headers_too_large'],
  ['reset_after_headers', true, 'network', 'cut_mid_stream'],
  ['reset_before_headers', true, 'network', 'reset'],
  ['short_body', false, 'network', 'cut_mid_stream'],
  ['not_http', true, 'protocol', 'bad_http'],
  ['bad_chunk', true, 'protocol', 'bad_http'],
  ['bad_json', true, 'protocol', 'bad_json'],
  ['bad_json', false, 'protocol', 'bad_json'],
  ['html_body', false, 'protocol', 'html_body'],
  ['http_503', true, 'server_error', 'http_503'],
  ['blank_only', false, 'protocol', 'empty_body'],
  ['stall', true, 'timeout', 'deadline'],
  ['stall', false, 'timeout', 'deadline'],
  ['trickle', true, 'timeout', 'deadline'],
  ['trickle', false, 'timeout', 'deadline'],
  ['echo_headers', true, 'client_error', 'http_400'],
];

// Concurrent (vitest runs at most 5 at once): each case mostly waits on deadlines and holds.
describe.concurrent('every chat fault ends in its documented outcome; the run goes on and writes its report', () => {
  test.each(CASES)('%s (stream: %s) -> %s/%s', async (fault, stream, outcome, detail) => {
    const slow = fault === 'stall' || fault === 'trickle';
    const { r, out } = await runAgainst({ chat: fault }, stream, slow ? '2s' : '5s', '2s');
    // Not a crash, not "unreachable": a completed run (no thresholds), whatever the server did; except that a 400
    // to every first request is a fatal answer (issue 10): the run stops after a handful, exit 3, the server quoted.
    expect(r.stderr).not.toMatch(/internal error|heap out of memory|unreachable/);
    expect(r.code, r.stderr).toBe(outcome === 'client_error' ? 3 : 0);
    const rep = readReport(out);
    const samples = readSamples(out);
    expect(samples.length).toBeGreaterThan(0);
    expect(samples.length).toBe(rep.cost.requests);
    const all = samples.map((s) => `${s.outcome}/${s.detail ?? ''}`);
    const classes = new Set(all);
    // The run's cut-off at its end may abort what is still open (the drain waits for admitted requests only: one
    // with no answer after the grace is cut, recorded as such); everything else is the fault's outcome.
    classes.delete('aborted/drain_timeout');
    classes.delete('aborted/drain_timeout_before_any_answer');
    classes.delete('aborted/stopped');
    expect([...classes], all.join(' ')).toEqual([`${outcome}/${detail}`]);
    if (fault === 'huge_429') expect(samples[0]!.server_concurrency).toBe(7);
    for (const f of readTree(out)) expectNoSecret(f.text);
    expectNoSecret(r.stdout + r.stderr);
  });
});

describe.concurrent('pre-flight endpoints have deadlines and say which one stalled', () => {
  test.each(['stall', 'trickle', 'endless_body'] as const)('GET /models %s', async (fault) => {
    const { r, out } = await runAgainst({ models: fault }, true, '2s');
    if (fault === 'endless_body') {
      // Bounded, read and refused as too large: the run goes on.
      expect(r.code).toBe(0);
      expect(r.stderr).toMatch(/GET \/models answered HTTP 200 \(body_too_large\)/);
      return;
    }
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/GET http:\/\/127\.0\.0\.1:\d+\/models stalled: no complete answer within 2s/);
    expect(r.stderr.trim().split('\n').length).toBeLessThan(25);
    expect(fs.existsSync(path.join(out, 'report.json'))).toBe(false);
  });

  test.each(['stall', 'trickle', 'endless_body'] as const)('GET /user/balance %s: a warning, and the run goes on', async (fault) => {
    const { r, out } = await runAgainst({ balance: fault }, true, '2s');
    expect(r.code).toBe(0);
    if (fault !== 'endless_body') {
      expect(r.stderr).toMatch(/pre-flight: GET \/user\/balance stalled: no complete answer within 2s/);
      expect(readReport(out).warnings.join('\n')).toMatch(/user\/balance stalled/);
    }
  });

  test('a stalled chat endpoint: the pre-flight requests end at the deadline, named in the warnings', async () => {
    const { r, out } = await runAgainst({ chat: 'stall' }, true, '2s', '2s');
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/3 of 3 requests to \/chat\/completions stalled: no complete answer within 2s/);
    expect(readReport(out).warnings.join('\n')).toMatch(/stalled past the 2s deadline/);
  });
});

describe('secrets', () => {
  test('one Authorization is sent (target.headers replaces the key\'s, names merged case-insensitively)', async () => {
    const { r, out } = await runAgainst({ chat: 'echo_headers' }, false);
    // Every request gets a 400 (the echo): a fatal answer, exit 3 (issue 10); the samples are written all the same.
    expect(r.code, r.stderr).toBe(3);
    // The sample lines (the header line holds the scenario, whose header names stay as written).
    const raw = fs.readFileSync(path.join(out, 'samples.ndjson'), 'utf8').split('\n').slice(1).join('\n');
    // The echo shows one authorization header, all of it redacted; two would arrive joined ("a, b").
    expect(raw).toContain('\\"authorization\\":\\"[redacted]\\"');
    expect(raw).toContain('\\"x-team\\":\\"[redacted]\\"');
    expect(raw).not.toMatch(/Authorization/);
  });
});

/**
 * Hostile input: every scenario value has a documented maximum (docs/scenario.md "Limits"), and an alias bomb, a
 * binary file, a huge list or a 10^12-step ramp is a clean validation error (exit 2) in a few lines.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { dsprobe, tmpDir, writeScenario } from '../helpers/cli.js';

const BASE = 'target: { url: mock }\nmodels: { deepseek-v4-flash: {} }\n';

function bomb(): string {
  const lines = ['a0: &a0 [x, x, x, x, x, x, x, x, x, x]'];
  for (let i = 1; i < 9; i++) lines.push(`a${i}: &a${i} [${Array(10).fill(`*a${i - 1}`).join(', ')}]`);
  return lines.map((l) => '  ' + l).join('\n');
}

const CASES: [string, string, RegExp][] = [
  ['an alias bomb in mock:', `${BASE}mock:\n${bomb()}\n`, /mock\.a0/],
  ['a ramp of 10^12 steps', `${BASE}load: { mode: ramp, start: 1, step: 1, max: 1000000000000 }\n`, /load\.max: must be at most 1,000,000 in flight/],
  ['a ramp of a million steps', `${BASE}load: { mode: ramp, start: 1, step: 1, max: 1000000 }\n`, /load\.step: makes 1,000,000 ramp steps; at most 10,000/],
  ['hold: 1e9h', `${BASE}load: { hold: 1000000000h }\n`, /load\.hold: expected at most 7 days/],
  ['timeout: 1e9h', `${BASE}request: { timeout: 1000000000h }\n`, /request\.timeout: expected at most 7 days/],
  ['2,000 stages', `${BASE}load:\n  mode: ramp\n  stages:\n${'    - { inflight: 1 }\n'.repeat(2000)}`, /load\.stages: expected at most 1000 items \(got 2000\)/],
];

describe.concurrent('hostile scenario values', () => {
  test.each(CASES)('%s: exit 2, a few lines, no internal error', async (_name, yaml, message) => {
    const dir = tmpDir();
    const file = writeScenario(dir, 's.yaml', yaml);
    for (const cmd of ['validate', 'plan']) {
      const r = await dsprobe([cmd, file]);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toMatch(/internal error|TimeoutOverflowWarning|at .*\.js:\d+/);
      expect(r.stderr.split('\n').length).toBeLessThan(25);
    }
  });

  test('an alias bomb as `dsprobe mock --config`: exit 2, one line', async () => {
    const dir = tmpDir();
    const file = writeScenario(dir, 'bomb.yaml', `${bomb().replace(/^  /gm, '')}\ncaps: *a8\n`);
    const r = await dsprobe(['mock', '--config', file]);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/cannot expand the YAML/);
    expect(r.stderr).not.toMatch(/internal error/);
  });

  test('a binary file: one problem, not a flood', async () => {
    const dir = tmpDir();
    const file = path.join(dir, 'bin.yaml');
    fs.writeFileSync(file, Buffer.from(Array.from({ length: 200_000 }, (_, i) => (i * 7919) % 256)));
    for (const cmd of ['validate', 'run']) {
      const r = await dsprobe([cmd, file]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/binary data/);
      expect(r.stderr.length).toBeLessThan(1000);
    }
  });

  test('a file over 1 MiB is refused without being read', async () => {
    const dir = tmpDir();
    const file = writeScenario(dir, 'big.yaml', BASE + '#'.repeat(2 * 1024 * 1024) + '\n');
    const r = await dsprobe(['plan', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/larger than 1048576 bytes/);
  });

  test('many YAML errors: the first 20, then a count', async () => {
    const dir = tmpDir();
    const file = writeScenario(dir, 'junk.yaml', `${BASE}pricing:\n${Array.from({ length: 50 }, (_, i) => `  m${i}: { output: -1 }`).join('\n')}\n`);
    const r = await dsprobe(['validate', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/\.\.\. and \d+ more problem\(s\) not shown/);
  });
});

/**
 * Disk and output failures are documented failures: an unwritable output is found before the run (exit 2), a
 * write that fails mid-run (ENOSPC via /dev/full) stops with exit 3 and one line naming the file, never a
 * stack trace; reports are written atomically. And nothing measured is lost: a torn last line of
 * samples.ndjson is tolerated by `dsprobe report`, with a warning.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { dsprobe, readSamples, tmpDir, writeScenario } from '../helpers/cli.js';

const SCENARIO = `name: disk
target: { url: mock }
models: { deepseek-v4-flash: {} }
request: { prompt_tokens: 10, max_tokens: 5 }
load: { mode: ramp, start: 2, step: 2, max: 2, hold: 300ms }
mock: { time_scale: 0.05 }
`;
const full = fs.existsSync('/dev/full');

describe.concurrent('output failures', () => {
  test('an unwritable --junit path is refused before the run (exit 2)', async () => {
    const dir = tmpDir();
    const file = writeScenario(dir, 's.yaml', SCENARIO);
    fs.writeFileSync(path.join(dir, 'a-file'), 'x');
    const r = await dsprobe(['run', file, '--out', path.join(dir, 'out'), '--quiet', '--junit', path.join(dir, 'a-file', 'junit.xml')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--junit: .*a-file\/junit\.xml: cannot write the output file: .*a-file is a file/);
    expect(fs.existsSync(path.join(dir, 'out', 'samples.ndjson'))).toBe(false);
  });

  test('an unwritable GITHUB_STEP_SUMMARY is refused before the run (exit 2)', async () => {
    const dir = tmpDir();
    const file = writeScenario(dir, 's.yaml', SCENARIO);
    const r = await dsprobe(['run', file, '--out', path.join(dir, 'out'), '--quiet'], { env: { GITHUB_STEP_SUMMARY: path.join(dir, 'nope', 'sum.md') } });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/GITHUB_STEP_SUMMARY/);
  });

  test.skipIf(!full)('a full disk under the step summary: exit 3, one line naming the file, the report kept whole', async () => {
    const dir = tmpDir();
    const file = writeScenario(dir, 's.yaml', SCENARIO);
    const out = path.join(dir, 'out');
    const r = await dsprobe(['run', file, '--out', out, '--quiet'], { env: { GITHUB_STEP_SUMMARY: '/dev/full' } });
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/^dsprobe: cannot write \/dev\/full: ENOSPC \(no space left on the device\)$/m);
    expect(r.stderr).not.toMatch(/internal error|\n\s+at /);
    expect(JSON.parse(fs.readFileSync(path.join(out, 'report.json'), 'utf8')).name).toBe('disk');
    expect(fs.readdirSync(out).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  test.skipIf(!full)('samples.ndjson on a full disk: exit 3, one line naming the file', async () => {
    const dir = tmpDir();
    const file = writeScenario(dir, 's.yaml', SCENARIO);
    const out = path.join(dir, 'out');
    fs.mkdirSync(out);
    fs.symlinkSync('/dev/full', path.join(out, 'samples.ndjson'));
    // The folder is not empty (the trap is in it): --overwrite lets the run use it.
    const r = await dsprobe(['run', file, '--out', out, '--quiet', '--overwrite']);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/cannot write .*samples\.ndjson: ENOSPC/);
    expect(r.stderr).not.toMatch(/internal error|\n\s+at /);
  });
});

describe('nothing lost', () => {
  test('a torn last line is tolerated by `dsprobe report`, with a printed warning', async () => {
    const dir = tmpDir();
    const file = writeScenario(dir, 's.yaml', SCENARIO);
    const out = path.join(dir, 'out');
    const r = await dsprobe(['run', file, '--out', out, '--quiet']);
    expect(r.code).toBe(0);
    const n = readSamples(out).length;
    fs.rmSync(path.join(out, 'report.json'));
    fs.appendFileSync(path.join(out, 'samples.ndjson'), '{"id":999999,"model":"deepseek-v4-fl');
    const rr = await dsprobe(['report', path.join(out, 'samples.ndjson')]);
    expect(rr.code).toBe(0);
    expect(rr.stderr).toMatch(/warning: 1 unreadable line\(s\) of samples\.ndjson were skipped/);
    const rebuilt = JSON.parse(fs.readFileSync(path.join(out, 'report.json'), 'utf8'));
    expect(rebuilt.cost.requests).toBe(n);
  });
});

describe('a run whose mock died', () => {
  test('ends as failed, exit 3, never as completed', async () => {
    const { execFileSync } = await import('node:child_process');
    const dir = tmpDir();
    const file = writeScenario(dir, 's.yaml', SCENARIO.replace('hold: 300ms', 'hold: 20s').replace('max_tokens: 5', 'max_tokens: 200'));
    const out = path.join(dir, 'out');
    let killed = false;
    const r = await dsprobe(['run', file, '--out', out, '--quiet'], {
      onSpawn: (child) => {
        // Once the run is under way (samples.ndjson exists), kill the mock child (the run's only child process).
        const poll = setInterval(() => {
          if (killed || !fs.existsSync(path.join(out, 'samples.ndjson'))) return;
          let pids: string[] = [];
          try {
            pids = execFileSync('pgrep', ['-P', String(child.pid)], { encoding: 'utf8' }).trim().split('\n').filter(Boolean);
          } catch {
            return;
          }
          if (pids.length !== 1) return;
          killed = true;
          clearInterval(poll);
          process.kill(Number(pids[0]), 'SIGKILL');
        }, 100);
        child.on('close', () => clearInterval(poll));
      },
    });
    expect(killed).toBe(true);
    expect(r.code).toBe(3);
    const rep = JSON.parse(fs.readFileSync(path.join(out, 'report.json'), 'utf8'));
    expect(rep.status).toBe('failed');
    expect(rep.status_reason).toMatch(/the built-in mock exited during the run/);
  });
});

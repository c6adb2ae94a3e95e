/**
 * Nothing lost on the way down: near the heap limit dsprobe stops the run as failed (exit 3) with the samples flushed
 * and a report written, rather than letting V8 abort the process (no report, no samples). Two halves: the guard
 * fires before V8 gives up in a process whose heap really fills, and the CLI's way down from the guard works.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, test } from 'vitest';
import { ROOT, dsprobe, readReport, readSamples, tmpDir, writeScenario } from '../helpers/cli.js';

describe('heap guard', () => {
  test('fires before the heap is exhausted in a process whose heap keeps growing', async () => {
    const guard = pathToFileURL(path.join(ROOT, 'dist', 'cli', 'heap-guard.js')).href;
    const code = `
      const { startHeapGuard } = await import(${JSON.stringify(guard)});
      const keep = [];
      startHeapGuard((why) => { keep.length = 0; console.log('FIRED ' + why); process.exit(0); }, 20);
      const grow = () => { for (let i = 0; i < 8; i++) keep.push(new Array(4096).fill(keep.length)); setTimeout(grow, 1); };
      grow();`;
    const r = await new Promise<{ code: number | null; signal: string | null; out: string; err: string }>((resolve) => {
      const child = spawn(process.execPath, ['--max-old-space-size=64', '--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stdout.on('data', (d) => (out += d));
      child.stderr.on('data', (d) => (err += d));
      child.on('close', (c, s) => resolve({ code: c, signal: s, out, err }));
    });
    // Without the guard this process dies with "JavaScript heap out of memory" (SIGABRT).
    expect(r.err).not.toMatch(/heap out of memory/);
    expect(r.signal).toBeNull();
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^FIRED memory nearly exhausted \(heap \d+ of \d+ MB\): stopped to keep what was measured/);
  }, 60_000);

  test('the run it stops ends as failed (exit 3) with its samples on disk and a report', async () => {
    const dir = tmpDir();
    const file = writeScenario(
      dir,
      's.yaml',
      `name: heap\ntarget: { url: mock }\nmodels: { deepseek-v4-flash: {} }\nrequest: { prompt_tokens: 10, max_tokens: 20 }\n` +
        `load: { mode: ramp, start: 4, step: 4, max: 4, hold: 20s }\nmock: { latency: { inter_token: 20ms, answer_tokens: 20 } }\n`,
    );
    const out = path.join(dir, 'out');
    const r = await dsprobe(['run', file, '--out', out, '--quiet'], { env: { DSPROBE_TEST_HEAP_STOP_SHARE: '0.0001' } });
    expect(r.code).toBe(3);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    const report = readReport(out);
    expect(report.status).toBe('failed');
    expect(report.status_reason).toMatch(/memory nearly exhausted/);
    const samples = readSamples(out);
    expect(samples.length).toBe(report.cost.requests);
  }, 60_000);
});

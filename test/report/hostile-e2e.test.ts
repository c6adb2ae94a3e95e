/**
 * Escaping, end to end: the real mock injects `<script>` and `"><img src=x onerror=...>` into error messages
 * (fault `message`), the real run records them, and the HTML report opened in Chromium stays inert: no dialog,
 * no element made from server text, the payloads visible as text. (Model names cannot carry markup through a
 * scenario, whose validator only takes model ids; html-browser.test.ts covers hostile model names with fixtures.)
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CHROMIUM, checkPage } from './browser.js';

const ROOT = join(import.meta.dirname, '..', '..');
const ready = existsSync(CHROMIUM) && existsSync(join(ROOT, 'dist', 'cli', 'main.js'));

const SCENARIO = `name: hostile-e2e
target:
  url: mock
models:
  deepseek-v4-flash: { weight: 1 }
  deepseek-v4-pro: { weight: 1 }
request:
  prompt_tokens: 50
  max_tokens: 20
  stream: true
load:
  mode: ramp
  start: 2
  step: 2
  max: 8
  hold: 1s
mock:
  caps:
    deepseek-v4-flash: 4
    deepseek-v4-pro: 6
  latency:
    answer_tokens: 20
  faults:
    - kind: http_error
      status: 500
      rate: 0.3
      message: '<script>alert(1)</script> "><img src=x onerror=alert(1)>'
    - kind: mid_stream_error
      rate: 0.2
      message: '"><img src=x onerror=alert(2)><script>alert(3)</script>'
seed: 3
`;

describe.skipIf(!ready)('server text injected by the mock', () => {
  it('renders inert in the real report', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dsprobe-hostile-'));
    writeFileSync(join(dir, 's.yaml'), SCENARIO);
    const out = join(dir, 'out');
    const r = spawnSync(process.execPath, [join(ROOT, 'bin', 'dsprobe.js'), 'run', join(dir, 's.yaml'), '--out', out, '--quiet'], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
    expect(r.stderr + r.stdout).toContain('report.html');
    // The payloads really reached the report...
    expect(readFileSync(join(out, 'report.json'), 'utf8')).toContain('<script>alert(1)</script>');
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    // ...and not the page's markup.
    expect(html).not.toContain('<script>alert');
    expect(html).not.toContain('<img src=x');
    mkdirSync(join(ROOT, 'test-results'), { recursive: true });
    const res = await checkPage(join(out, 'report.html'), join(ROOT, 'test-results', 'report-hostile-e2e.png'));
    expect(res.dialogs).toEqual([]);
    expect([res.consoleErrors, res.pageErrors, res.requests]).toEqual([[], [], []]);
    expect(res.imgCount).toBe(0);
    expect(res.scriptCount).toBe(3);
    expect(res.bodyText).toContain('<script>alert(1)</script> "><img src=x onerror=alert(1)>');
  }, 180_000);
});

/**
 * The acceptance path through the real CLI: `node bin/dsprobe.js mock ...` (needs `npx tsc -p tsconfig.json`).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import { fetchText } from './helpers.js';

const ROOT = join(import.meta.dirname, '..', '..');
const children: ChildProcess[] = [];

afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
});

function cli(args: string[]) {
  const child = spawn(process.execPath, [join(ROOT, 'bin', 'dsprobe.js'), ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  const listening = new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', () => {
      const m = /^dsprobe mock listening on (http:\/\/\S+)\n/.exec(stdout);
      if (m) resolve(m[1]!);
    });
    child.on('exit', () => reject(new Error(`exited: ${stderr}`)));
  });
  listening.catch(() => {});
  return { child, listening, exited, out: () => stdout, err: () => stderr };
}

describe('dsprobe mock (CLI)', () => {
  it('serves with --cap: seven streams in flight, the eighth gets 429 quoting 7; SIGTERM exits 0', async () => {
    const p = cli(['mock', '--cap', 'deepseek-v4-flash=7', '--port', '0']);
    const url = await p.listening;
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const client = new OpenAI({ apiKey: 'sk-any', baseURL: url, maxRetries: 0 });
    const controllers = Array.from({ length: 7 }, () => new AbortController());
    const streams = await Promise.all(
      controllers.map((c) =>
        client.chat.completions.create(
          { model: 'deepseek-v4-flash', messages: [{ role: 'user', content: 'hi' }], stream: true },
          { signal: c.signal },
        ),
      ),
    );
    // Headers of all seven arrived: all seven are in flight (default answers take over a second).
    const err = await client.chat.completions
      .create({ model: 'deepseek-v4-flash', messages: [{ role: 'user', content: 'hi' }], stream: true })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.RateLimitError);
    expect((err as Error).message).toContain('Your current concurrency: 7');
    // The first stream still parses to the end.
    let last: OpenAI.Chat.Completions.ChatCompletionChunk | undefined;
    for await (const ch of streams[0]!) last = ch;
    expect(last!.choices[0]!.finish_reason).toBe('stop');
    controllers.forEach((c) => c.abort());
    p.child.kill('SIGTERM');
    expect(await p.exited).toBe(0);
    expect(p.out()).toBe(`dsprobe mock listening on ${url}\n`);
  });

  it('exits 2 naming the key and its file:line:col for a bad config file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dsprobe-mock-'));
    const file = join(dir, 'mock.yaml');
    writeFileSync(file, 'time_scale: 0.5\ncaps:\n  deepseek-v4-flash: -2\nqueue_timout: 10s\n');
    const p = cli(['mock', '--config', file]);
    expect(await p.exited).toBe(2);
    expect(p.err()).toContain(`${file}:3:22: caps.deepseek-v4-flash: must be >= 0 (got -2)`);
    expect(p.err()).toContain(`${file}:4:15: queue_timout: unknown key\n  hint: did you mean \`queue_timeout\`?`);
    expect(p.err()).not.toMatch(/\n\s+at /);
    expect(p.out()).toBe('');
  });

  it('exits 2 for a bad --cap flag and for a port in use', async () => {
    const bad = cli(['mock', '--cap', 'deepseek-v4-flash']);
    expect(await bad.exited).toBe(2);
    expect(bad.err()).toContain('--cap: expected MODEL=N');
    const first = cli(['mock', '--port', '0']);
    const url = await first.listening;
    const taken = cli(['mock', '--port', new URL(url).port]);
    expect(await taken.exited).toBe(2);
    expect(taken.err()).toContain('already in use');
    expect(taken.err()).toContain('hint: pick another --port');
    first.child.kill('SIGINT');
    expect(await first.exited).toBe(0);
  });

  it('reads a config file and lets flags override it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dsprobe-mock-'));
    const file = join(dir, 'mock.yaml');
    writeFileSync(file, 'caps:\n  deepseek-v4-flash: 3\nmodels: [deepseek-v4-flash, my-model]\n');
    const p = cli(['mock', '--config', file, '--cap', 'deepseek-v4-pro=4', '--time-scale', '0.5', '--seed', '9']);
    const url = await p.listening;
    const s = JSON.parse((await fetchText(url, '/_mock/state')).body);
    expect(s.time_scale).toBe(0.5);
    expect(s.models).toEqual(['deepseek-v4-flash', 'my-model', 'deepseek-v4-pro']);
    expect(s.accounts[0].models['deepseek-v4-flash'].cap).toBe(3);
    expect(s.accounts[0].models['deepseek-v4-pro'].cap).toBe(4);
    p.child.kill('SIGINT');
    expect(await p.exited).toBe(0);
  });
});

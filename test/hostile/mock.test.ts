/**
 * The mock against hostile clients and a dying parent: every control request is validated (400, never a
 * crash), oversized uploads are refused as they arrive, and an isolated mock child leaves quietly when its
 * parent is killed.
 */
import { spawn } from 'node:child_process';
import http from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { request } from 'undici';
import { startMock, type MockHandle } from '../../src/mock/index.js';
import { ROOT } from '../helpers/cli.js';

describe('mock control requests', () => {
  let mock: MockHandle;
  beforeAll(async () => {
    mock = await startMock({});
  });
  afterAll(async () => {
    await mock.close();
  });

  test.each(['null', '[]', '42', '"x"', '{"account": 5, "model": "m", "cap": 1}', '{"balance": "lots"}', '{'])('POST /_mock/caps and /_mock/balance with %s: 400 with a message', async (body) => {
    for (const p of ['/_mock/caps', '/_mock/balance']) {
      const r = await request(`${mock.url}${p}`, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
      expect(r.statusCode).toBe(400);
      const j = (await r.body.json()) as { error: { message: string } };
      expect(j.error.message.length).toBeGreaterThan(0);
    }
    // Still alive.
    const st = await request(`${mock.url}/_mock/state`);
    expect(st.statusCode).toBe(200);
    await st.body.dump();
  });

  test('a declared oversized upload is refused before its body is read', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const u = new URL(`${mock.url}/chat/completions`);
      const req = http.request({ host: u.hostname, port: u.port, path: u.pathname, method: 'POST', headers: { 'content-type': 'application/json', 'content-length': String(200 * 1024 * 1024) } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.write('{"model":"');
    });
    expect(status).toBe(413);
  });
});

describe('isolated mock child', () => {
  test('SIGKILL of the parent: the child exits quietly (no stack trace)', async () => {
    const script = `
      import { startMock } from ${JSON.stringify(path.join(ROOT, 'dist', 'mock', 'index.js'))};
      const m = await startMock({}, { isolate: true });
      console.log('ready ' + m.url);
      setInterval(() => {}, 1000);
    `;
    const parent = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    parent.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const url = await new Promise<string>((resolve) => {
      parent.stdout.setEncoding('utf8').on('data', (d: string) => {
        const m = /ready (\S+)/.exec(d);
        if (m) resolve(m[1] as string);
      });
    });
    parent.kill('SIGKILL');
    await new Promise((r) => parent.on('close', r));
    // The child shares the parent's stderr pipe; it closes once the child is gone too.
    await new Promise<void>((resolve) => {
      const poll = () =>
        request(`${url}/_mock/state`)
          .then((r) => r.body.dump().then(() => setTimeout(poll, 50)))
          .catch(() => resolve());
      poll();
    });
    await new Promise((r) => setTimeout(r, 200));
    expect(stderr).not.toMatch(/ERR_IPC_DISCONNECTED|Error|\n\s+at /);
  });
});

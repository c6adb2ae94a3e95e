/**
 * HTTPS end to end, as against the real API: the CLI's own HTTP/1.1 connections over TLS (the connector's handshake,
 * then every request and stream read over the TLS socket) against the independent cap server serving a
 * self-signed certificate (test/fixtures/tls, trusted through NODE_EXTRA_CA_CERTS as a user would). The cap is
 * found exactly; an untrusted certificate is "unreachable" (tls), with no stack trace.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startCapServer, type CapServer } from '../helpers/cap-server.js';
import { dsprobe, ROOT, tmpDir, writeScenario } from '../helpers/cli.js';

const TLS_DIR = path.join(ROOT, 'test', 'fixtures', 'tls');
const CERT = path.join(TLS_DIR, 'cert.pem');

describe('HTTPS target', () => {
  let server: CapServer;
  beforeAll(async () => {
    server = await startCapServer({
      caps: { 'deepseek-v4-flash': 12 },
      tokens: 5,
      tokenMs: 20,
      tls: { key: fs.readFileSync(path.join(TLS_DIR, 'key.pem'), 'utf8'), cert: fs.readFileSync(CERT, 'utf8') },
    });
  });
  afterAll(async () => server?.close());

  const scenario = (dir: string) =>
    writeScenario(
      dir,
      'tls.yaml',
      `
name: tls
target: { url: "${server.url}", api_key_env: K }
models:
  deepseek-v4-flash: {}
request: { prompt_tokens: 20, max_tokens: 5 }
load: { mode: search, start: 4, max: 40, hold: 1s }
`,
    );

  test('a search over TLS finds the cap exactly; every answer the server logged is a sample', async () => {
    const dir = tmpDir();
    const out = path.join(dir, 'out');
    const before = server.answers.length;
    const r = await dsprobe(['run', scenario(dir), '--yes', '--quiet', '--out', out], { env: { K: 'sk-tls-test-key', NODE_EXTRA_CA_CERTS: CERT } });
    expect(r.code, r.stderr).toBe(0);
    const rep = JSON.parse(fs.readFileSync(path.join(out, 'report.json'), 'utf8'));
    expect(rep.models[0].cap.estimate).toBe(12);
    const samples = fs
      .readFileSync(path.join(out, 'samples.ndjson'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      .filter((s) => s.type === undefined || s.type === 'sample');
    const answered = samples.filter((s) => s.status !== undefined);
    // Every status the server sent to the run (the pre-flight's small requests ask for max_tokens 1) is a sample.
    const logged = server.answers.slice(before).filter((a) => a.max_tokens !== 1);
    expect(answered.length).toBe(logged.length);
    expect(answered.filter((s) => s.status === 429).length).toBe(logged.filter((a) => a.status === 429).length);
    expect(samples.filter((s) => s.outcome === 'network')).toEqual([]);
    expect(samples.filter((s) => s.status === 200 && s.outcome === 'ok').length).toBeGreaterThan(0);
  });

  test('an untrusted certificate: unreachable (tls), one clear line, exit 3', async () => {
    const dir = tmpDir();
    const r = await dsprobe(['run', scenario(dir), '--yes', '--quiet', '--out', path.join(dir, 'out')], { env: { K: 'sk-tls-test-key', NODE_EXTRA_CA_CERTS: '' } });
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/tls|certificate/i);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});

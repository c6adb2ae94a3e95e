/**
 * Safety before paid traffic: the pre-flight against a "real" target (a mock on loopback that dsprobe did not
 * start) checks the key and the balance, and notices an account already throttled by other traffic sharing its cap.
 */
import fs from 'node:fs';
import path from 'node:path';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { dsprobe, readReport, tmpDir, writeScenario } from '../helpers/cli.js';
import { startMock, type MockHandle } from '../../src/mock/index.js';
import type { Report } from '../../src/types.js';

describe('pre-flight against a real target', () => {
  let mock: MockHandle;
  const held: { destroy(): void }[] = [];
  beforeAll(async () => {
    mock = await startMock(
      {
        strict_auth: true,
        accounts: [{ name: 'team', keys: ['sk-team-good-key-1', 'sk-team-other-service'], caps: { 'deepseek-v4-flash': 6 }, balance: 3 }],
        latency: { answer_tokens: 2000, inter_token: '20ms', chunk_tokens: 20 },
      },
      { isolate: true },
    );
    // Another service on the same account holds every slot with long streams.
    for (let i = 0; i < 6; i++) {
      const res = await request(`${mock.url}/chat/completions`, {
        method: 'POST',
        headers: { authorization: 'Bearer sk-team-other-service', 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'deepseek-v4-flash', stream: true, max_tokens: 2000, messages: [{ role: 'user', content: 'hold' }] }),
      });
      expect(res.statusCode).toBe(200);
      res.body.on('data', () => {});
      res.body.on('error', () => {});
      held.push(res.body);
    }
  });
  afterAll(async () => {
    for (const h of held) h.destroy();
    await mock?.close();
  });

  const scenario = (dir: string) =>
    writeScenario(
      dir,
      'real.yaml',
      `
name: shared-account
target: { url: "${mock.url}", api_key_env: TEAM_KEY }
models:
  deepseek-v4-flash: {}
request: { prompt_tokens: 20, max_tokens: 20, stream: true }
load: { mode: search, start: 2, max: 16, hold: 2s }
`,
    );

  test('a bad key stops the run before any load: exit 3, no key in the output', async () => {
    const dir = tmpDir();
    const r = await dsprobe(['run', scenario(dir), '--yes', '--out', path.join(dir, 'out')], { env: { TEAM_KEY: 'sk-wrong-key-9999' } });
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/authentication failed/);
    expect(r.stdout + r.stderr).not.toContain('sk-wrong-key-9999');
    expect(fs.existsSync(path.join(dir, 'out', 'report.json'))).toBe(false);
  });

  test('an account already at its cap is noticed and recorded; the balance is reported', async () => {
    const dir = tmpDir();
    const out = path.join(dir, 'out');
    const r = await dsprobe(['run', scenario(dir), '--yes', '--quiet', '--out', out], { env: { TEAM_KEY: 'sk-team-good-key-1' } });
    expect(r.stderr).toMatch(/pre-flight: key accepted/);
    expect(r.stderr).toMatch(/pre-flight: balance: 3/);
    expect(r.stderr).toMatch(/pre-flight: deepseek-v4-flash: 0\/3 small requests ok, 3 got 429/);
    const rep = readReport(out);
    expect(rep.warnings.join('\n')).toMatch(/share its cap/);
    expect(rep.warnings.join('\n')).toMatch(/low balance/);
    // Every level drew a 429: the cap is taken by other traffic, and the report says so rather than inventing one.
    expect(rep.models[0]!.cap.status).toBe('unclear');
    expect(rep.models[0]!.cap.server_reported).toBe(6);
  });
});

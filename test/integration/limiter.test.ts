/**
 * Acceptance: a scenario pointed at an unrelated, real concurrency limiter on loopback finds its limit within 1 %.
 * The limiter is Debian's nginx (`limit_conn ... ; limit_conn_status 429;`) in front of an uncapped mock:
 * nothing of dsprobe's decides who gets a 429.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { dsprobe, readReport, tmpDir, writeScenario } from '../helpers/cli.js';
import { NGINX, startNginxLimiter, type Limiter } from '../helpers/nginx.js';
import { startMock, type MockHandle } from '../../src/mock/index.js';
import type { Report } from '../../src/types.js';

const LIMIT = 150;

describe.skipIf(!NGINX)('an unrelated concurrency limiter (nginx limit_conn)', () => {
  let mock: MockHandle;
  let limiter: Limiter;
  beforeAll(async () => {
    mock = await startMock(
      { caps: { 'deepseek-v4-flash': 100_000 }, latency: { answer_tokens: 500, inter_token: '10ms', chunk_tokens: 10 } },
      { isolate: true },
    );
    limiter = await startNginxLimiter(mock.url, LIMIT);
  });
  afterAll(async () => {
    await limiter?.stop();
    await mock?.close();
  });

  test(`finds a limit of ${LIMIT} within 1 %`, async () => {
    const dir = tmpDir();
    const file = writeScenario(
      dir,
      'nginx.yaml',
      `
name: nginx-limiter
target: { url: "${limiter.url}", protocol: openai, api_key_env: LIMITER_KEY }
models:
  deepseek-v4-flash: {}
request: { prompt_tokens: 50, max_tokens: 500, stream: true }
load: { mode: search, start: 10, max: 1000, hold: 10s }
`,
    );
    const out = path.join(dir, 'out');
    const r = await dsprobe(['run', file, '--out', out, '--yes', '--quiet', '--no-html'], { env: { LIMITER_KEY: 'sk-limiter' } });
    expect(r.stderr).not.toMatch(/internal error/);
    const rep = readReport(out);
    const cap = rep.models[0]!.cap;
    expect(cap.status).toBe('found');
    expect(Math.abs((cap.estimate ?? 0) - LIMIT)).toBeLessThanOrEqual(LIMIT * 0.01);
    expect(r.code).toBe(0);
  });
});

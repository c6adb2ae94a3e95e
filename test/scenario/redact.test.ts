import { describe, expect, it } from 'vitest';
import { parseScenario, redactScenario } from '../../src/scenario/index.js';
import { looksSecret } from '../../src/scenario/redact.js';

describe('redactScenario', () => {
  it('redacts header values and secret-looking strings, keeps env var names', () => {
    const key = 'sk-abcdef0123456789abcdef0123456789';
    const r = parseScenario(
      `target: { url: mock, api_key_env: [DEEPSEEK_API_KEY, OTHER_KEY], headers: { X-Team: plain-value, Authorization: "Bearer ${key}" } }
models: { deepseek-v4-flash: {} }
mock: { accounts: [{ name: a, keys: [${key}, short-test-key], caps: { deepseek-v4-flash: 5 } }] }
`,
      's.yaml',
    );
    expect(r.problems).toEqual([]);
    // Fields a future mock option might add: redacted by name or by look.
    Object.assign(r.scenario!.mock!, { api_token: 'short', note: key });
    const red = redactScenario(r.scenario!) as any; // eslint-disable-line @typescript-eslint/no-explicit-any
    const text = JSON.stringify(red);
    expect(text).not.toContain('abcdef0123456789');
    expect(text).not.toContain('plain-value');
    expect(text).not.toContain('short-test-key');
    expect(red.target.headers).toEqual({ 'X-Team': '[redacted]', Authorization: '[redacted]' });
    expect(red.target.api_key_env).toEqual(['DEEPSEEK_API_KEY', 'OTHER_KEY']);
    expect(red.mock.accounts[0]).toEqual({ name: 'a', keys: ['[redacted]', '[redacted]'], caps: { 'deepseek-v4-flash': 5 } });
    expect(red.mock.api_token).toBe('[redacted]');
    expect(red.request.max_tokens).toBe(64); // numbers named *_tokens are not secrets
    expect(red.models).toEqual([{ name: 'deepseek-v4-flash', weight: 1 }]);
    // The input is untouched.
    expect(r.scenario!.target.headers['X-Team']).toBe('plain-value');
  });

  it.each([
    ['sk-abc123def456', true],
    ['Bearer xyz', true],
    ['QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo0NTY3ODk', true],
    ['deepseek-v4-flash', false],
    ['DEEPSEEK_API_KEY', false],
    ['https://api.deepseek.com', false],
  ])('looksSecret(%j) = %j', (s, expected) => {
    expect(looksSecret(s)).toBe(expected);
  });
});

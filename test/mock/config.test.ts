import { describe, expect, it } from 'vitest';
import { parseMockConfig, startMock } from '../../src/mock/index.js';
import { DsprobeError } from '../../src/errors.js';

describe('parseMockConfig', () => {
  it('fills every default (DeepSeek caps, one default account, 10-minute queue timeout)', () => {
    const { config, problems } = parseMockConfig(undefined);
    expect(problems).toEqual([]);
    expect(config.caps).toEqual({ 'deepseek-v4-flash': 2500, 'deepseek-v4-pro': 500 });
    expect(config.accounts.map((a) => a.name)).toEqual(['default']);
    expect(config.queue_timeout_ms).toBe(600_000);
    expect(config.queue_timeout_mode).toBe('cut');
    expect(config.host).toBe('127.0.0.1');
  });

  it('reads durations, rates and nested knobs', () => {
    const { config, problems } = parseMockConfig({
      time_scale: 0.01,
      queue_timeout: '15m',
      keepalive_interval: 2,
      latency: { inter_token: '30ms', answer_tokens: 10, chunk_tokens: 4 },
      faults: [{ kind: 'stall', rate: '5%', duration: '1m30s', match: { model: 'deepseek-v4-pro' } }],
      schedules: [{ kind: 'steps', steps: [{ at: '1m', cap: 5 }, { at: 0, cap: 9 }], repeat: '2m' }],
      caps: { custom: 3 },
    });
    expect(problems).toEqual([]);
    expect(config.queue_timeout_ms).toBe(900_000);
    expect(config.keepalive_interval_ms).toBe(2000);
    expect(config.latency).toMatchObject({ inter_token_ms: 30, answer_tokens: { min: 10, max: 10 }, chunk_tokens: 4 });
    expect(config.faults[0]).toMatchObject({ kind: 'stall', rate: 0.05, duration_ms: 90_000, match: { model: 'deepseek-v4-pro' } });
    expect(config.schedules[0]).toEqual({ kind: 'steps', steps: [{ at_ms: 0, cap: 9 }, { at_ms: 60_000, cap: 5 }], repeat_ms: 120_000 });
    expect(config.models).toContain('custom');
  });

  it('reports every problem with its key path, what was expected and a hint', () => {
    const { problems } = parseMockConfig(
      {
        cpas: { x: 1 },
        caps: { 'deepseek-v4-flash': -1, 'deepseek-v4-pro': 'lots' },
        time_scale: 0,
        queue_timeout_mode: 'cutt',
        faults: [{ kind: 'disconect' }, { kind: 'stall', rate: 2 }],
        latency: { inter_tokn: '1ms' },
        accounts: [{ name: 'a', keys: ['k'] }, { name: 'b', keys: ['k'] }],
      },
      'mock',
    );
    const by = Object.fromEntries(problems.map((p) => [p.path, p]));
    expect(by['mock.cpas']).toMatchObject({ message: 'unknown key', hint: 'did you mean `caps`?' });
    expect(by['mock.caps.deepseek-v4-flash']!.message).toBe('must be >= 0 (got -1)');
    expect(by['mock.caps.deepseek-v4-pro']!.message).toMatch(/expected a number/);
    expect(by['mock.time_scale']!.message).toBe('must be > 0 (got 0)');
    expect(by['mock.queue_timeout_mode']).toMatchObject({ hint: 'did you mean `cut`?' });
    expect(by['mock.faults[0].kind']).toMatchObject({ hint: 'did you mean `disconnect`?' });
    expect(by['mock.faults[1].rate']!.message).toBe('must be <= 1 (got 2)');
    expect(by['mock.faults[1].rate']!.hint).toBe('did you mean 2%? (a bare number is a fraction: 0.05 = 5%)');
    expect(by['mock.latency.inter_tokn']).toMatchObject({ hint: 'did you mean `inter_token`?' });
    expect(by['mock.accounts[1].keys[0]']!.message).toBe('this key already belongs to account "a"');
    expect(problems).toHaveLength(9);
  });

  it('startMock refuses a bad config with a usage error (exit 2) listing the problems', async () => {
    const err = await startMock({ caps: { 'deepseek-v4-flash': -3 } } as never).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DsprobeError);
    expect((err as DsprobeError).exitCode).toBe(2);
    expect((err as DsprobeError).problems[0]!.path).toBe('caps.deepseek-v4-flash');
  });

  it('startMock refuses a port in use with DSP_PORT_IN_USE (exit 2)', async () => {
    const a = await startMock({ port: 0 });
    const port = Number(new URL(a.url).port);
    const err = await startMock({ port }).catch((e: unknown) => e);
    await a.close();
    expect(err).toBeInstanceOf(DsprobeError);
    expect((err as DsprobeError).code).toBe('DSP_PORT_IN_USE');
    expect((err as DsprobeError).exitCode).toBe(2);
    expect((err as DsprobeError).message).toContain('already in use');
  });
});

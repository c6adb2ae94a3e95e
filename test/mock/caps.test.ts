import { describe, expect, it } from 'vitest';
import { manualClock } from '../../src/time/clock.js';
import { FAST, HOLD, chat, counts, fetchText, mock, send, until, type Opened } from './helpers.js';

const stream = (extra: Record<string, unknown> = {}, model = 'deepseek-v4-flash') => chat(model, { stream: true, ...extra });
const key = (k: string) => ({ authorization: `Bearer ${k}` });

/** Opens n streaming requests that stay in flight (headers arrive at admission). */
async function hold(url: string, n: number, body = stream(), headers = key('sk-a')): Promise<Opened[]> {
  const out: Opened[] = [];
  for (let i = 0; i < n; i++) {
    const o = await send(url, '/chat/completions', body, headers);
    expect(o.status).toBe(200);
    out.push(o);
  }
  return out;
}

describe('concurrency caps', () => {
  it('admits exactly N and answers request N+1 with 429 quoting N', async () => {
    const h = await mock({ caps: { 'deepseek-v4-flash': 5 }, latency: HOLD });
    const held = await hold(h.url, 5);
    const r = await fetchText(h.url, '/chat/completions', stream(), key('sk-a'));
    expect(r.status).toBe(429);
    expect(JSON.parse(r.body)).toEqual({
      error: {
        message: 'Too many requests. Please pace your requests reasonably. Your current concurrency: 5.',
        type: 'rate_limit_error',
        param: null,
        code: null,
      },
    });
    expect(counts(await h.state()).in_flight).toBe(5);
    // The other model has its own cap.
    const pro = await send(h.url, '/chat/completions', stream({}, 'deepseek-v4-pro'));
    expect(pro.status).toBe(200);
    [...held, pro].forEach((o) => o.abort());
  });

  it('shares the cap between two keys of one account, not between accounts', async () => {
    const h = await mock({
      strict_auth: true,
      caps: { 'deepseek-v4-flash': 2 },
      latency: HOLD,
      accounts: [
        { name: 'team', keys: ['sk-one', 'sk-two'] },
        { name: 'other', keys: ['sk-three'] },
      ],
    });
    await hold(h.url, 1, stream(), key('sk-one'));
    await hold(h.url, 1, stream(), key('sk-two'));
    expect((await fetchText(h.url, '/chat/completions', stream(), key('sk-one'))).status).toBe(429);
    expect((await fetchText(h.url, '/chat/completions', stream(), key('sk-two'))).status).toBe(429);
    const other = await send(h.url, '/chat/completions', stream(), key('sk-three'));
    expect(other.status).toBe(200);
    other.abort();
    const s = await h.state();
    expect(counts(s, 'deepseek-v4-flash', 'team').in_flight).toBe(2);
  });

  it('rejects unknown keys with 401 under strict auth, and accepts any key by default', async () => {
    const strict = await mock({ strict_auth: true, accounts: [{ name: 'a', keys: ['sk-known'] }] });
    const r = await fetchText(strict.url, '/chat/completions', chat(), key('sk-unknown-wxyz'));
    expect(r.status).toBe(401);
    expect(JSON.parse(r.body).error.message).toBe('Authentication Fails, Your api key: ****wxyz is invalid');
    expect(JSON.parse(r.body).error.type).toBe('authentication_error');
    const open = await mock({ latency: FAST });
    expect((await fetchText(open.url, '/chat/completions', chat(), key('anything'))).status).toBe(200);
    expect((await fetchText(open.url, '/chat/completions', chat(), {})).status).toBe(401);
  });

  it('releases the slot when the response ends', async () => {
    const h = await mock({ caps: { 'deepseek-v4-flash': 1 }, latency: FAST });
    for (let i = 0; i < 3; i++) {
      const r = await fetchText(h.url, '/chat/completions', stream());
      expect(r.status).toBe(200);
      expect(r.body.endsWith('data: [DONE]\n\n')).toBe(true);
    }
    expect(counts(await h.state()).in_flight).toBe(0);
  });

  it('releases the slot when the client aborts, queued or running, and records an abort event', async () => {
    const h = await mock({ caps: { 'deepseek-v4-flash': 2 }, slots: { 'deepseek-v4-flash': 1 }, latency: HOLD });
    const events: string[] = [];
    await h.events.subscribe((e) => events.push(`${e.type}:${e.reason ?? ''}`));
    const [running, queued] = await hold(h.url, 2);
    let s = await until(h, (x) => x.servers['deepseek-v4-flash']!.queued === 1);
    expect(counts(s)).toMatchObject({ in_flight: 2, queued: 1 });
    expect((await fetchText(h.url, '/chat/completions', stream())).status).toBe(429);
    queued!.abort();
    s = await until(h, (x) => counts(x).in_flight === 1, 'queued abort released');
    expect(counts(s).queued).toBe(0);
    running!.abort();
    await until(h, (x) => counts(x).in_flight === 0 && x.servers['deepseek-v4-flash']!.running === 0, 'running abort released');
    expect(events).toContain('abort:queued');
    expect(events).toContain('abort:prefill');
    const again = await send(h.url, '/chat/completions', stream());
    expect(again.status).toBe(200);
    again.abort();
  });

  it('counts queued requests against the account cap', async () => {
    const h = await mock({ caps: { 'deepseek-v4-flash': 3 }, slots: { 'deepseek-v4-flash': 1 }, latency: HOLD });
    const held = await hold(h.url, 3);
    const s = await h.state();
    expect(counts(s)).toMatchObject({ in_flight: 3, queued: 2 });
    expect(s.servers['deepseek-v4-flash']).toEqual({ slots: 1, running: 1, queued: 2 });
    const r = await fetchText(h.url, '/chat/completions', stream());
    expect(r.status).toBe(429);
    expect(r.body).toContain('Your current concurrency: 3.');
    held.forEach((o) => o.abort());
  });

  it('enforces per-user_id caps on raised accounts; an empty user_id is a user of its own', async () => {
    const h = await mock({
      latency: HOLD,
      caps: { 'deepseek-v4-flash': 10 },
      accounts: [{ name: 'default', raised: true, user_caps: { 'deepseek-v4-flash': 2 } }],
    });
    await hold(h.url, 2, stream({ user_id: 'alice' }));
    const third = await fetchText(h.url, '/chat/completions', stream({ user_id: 'alice' }));
    expect(third.status).toBe(429);
    expect(third.body).toContain('Your current concurrency: 2.');
    await hold(h.url, 2, stream({ user_id: 'bob' }));
    await hold(h.url, 2, stream());
    expect((await fetchText(h.url, '/chat/completions', stream())).status).toBe(429);
    const s = await h.state();
    expect(counts(s)).toMatchObject({ in_flight: 6, user_cap: 2, users: { alice: 2, bob: 2, '': 2 } });
  });

  it('shares the account cap between all user_ids on a regular account', async () => {
    const h = await mock({ latency: HOLD, caps: { 'deepseek-v4-flash': 2 } });
    await hold(h.url, 1, stream({ user_id: 'alice' }));
    await hold(h.url, 1, stream({ user_id: 'bob' }));
    expect((await fetchText(h.url, '/chat/completions', stream({ user_id: 'carol' }))).status).toBe(429);
  });

  it('applies a cap schedule change to the next admission', async () => {
    const clock = manualClock(1_000_000);
    const h = await mock(
      {
        latency: HOLD,
        schedules: [{ kind: 'steps', model: 'deepseek-v4-flash', steps: [{ at: 0, cap: 3 }, { at: '10s', cap: 1 }] }],
      },
      { clock },
    );
    await hold(h.url, 2);
    expect(counts(await h.state())).toMatchObject({ cap: 3, cap_source: 'schedule' });
    clock.advance(10_000_000);
    expect(counts(await h.state()).cap).toBe(1);
    const r = await fetchText(h.url, '/chat/completions', stream());
    expect(r.status).toBe(429);
    expect(r.body).toContain('Your current concurrency: 2.');
  });

  it('follows a sine schedule between min and max', async () => {
    const clock = manualClock(0);
    const h = await mock({ schedules: [{ kind: 'sine', min: 10, max: 30, period: '40s' }] }, { clock });
    const caps: number[] = [];
    for (let i = 0; i < 4; i++) {
      caps.push(counts(await h.state()).cap);
      clock.advance(10_000_000);
    }
    expect(caps).toEqual([20, 30, 20, 10]);
  });

  it('shrinks the cap with the balance and says so in the 429 text; an empty balance gets 402', async () => {
    const h = await mock({
      latency: HOLD,
      accounts: [{ name: 'default', balance: 0.5 }],
      schedules: [{ kind: 'balance', tiers: [{ below: 1, cap: 2 }, { below: 5, cap: 200 }] }],
    });
    await hold(h.url, 2);
    const r = await fetchText(h.url, '/chat/completions', stream());
    expect(r.status).toBe(429);
    expect(JSON.parse(r.body).error.message).toBe(
      'Too many requests. Your current concurrency is 2, which exceeds your concurrency limit of 2 based on your remaining balance. Please top up your account.',
    );
    await fetchText(h.url, '/_mock/balance', { balance: 3 });
    expect(counts(await h.state()).cap).toBe(200);
    await fetchText(h.url, '/_mock/balance', { balance: 0 });
    const broke = await fetchText(h.url, '/chat/completions', stream());
    expect(broke.status).toBe(402);
    expect(JSON.parse(broke.body).error.message).toBe('Insufficient Balance');
  });
});

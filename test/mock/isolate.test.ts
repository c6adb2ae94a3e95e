/** startMock({isolate: true}) runs the mock in a child process (needs `npx tsc -p tsconfig.json`). */
import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { DsprobeError } from '../../src/errors.js';
import { startMock, type MockEvent } from '../../src/mock/index.js';

describe('an isolated mock', () => {
  it('serves from another process, with state and events, and closes', async () => {
    const h = await startMock({ caps: { 'deepseek-v4-flash': 1 }, latency: { prefill_overhead: '1ms', inter_token: '1ms', answer_tokens: 3 } }, { isolate: true });
    try {
      expect(h.isolated).toBe(true);
      const events: MockEvent[] = [];
      const off = await h.events.subscribe((e) => events.push(e));
      const client = new OpenAI({ apiKey: 'k', baseURL: h.url, maxRetries: 0 });
      const r = await client.chat.completions.create({ model: 'deepseek-v4-flash', messages: [{ role: 'user', content: 'x' }] });
      expect(r.usage!.completion_tokens).toBe(3);
      const s = await h.state();
      expect(s.totals.admitted).toBe(1);
      expect(s.accounts[0]!.models['deepseek-v4-flash']!.cap).toBe(1);
      expect(s.event_loop.count).toBeGreaterThanOrEqual(0);
      expect(s.memory.rss_bytes).toBeGreaterThan(0);
      for (let i = 0; i < 200 && !events.some((e) => e.type === 'finish'); i++) await new Promise((res) => setTimeout(res, 5));
      expect(events.map((e) => e.type)).toEqual(['admit', 'start', 'first_token', 'finish']);
      off();
    } finally {
      await h.close();
    }
    await expect(h.state()).rejects.toThrow('closed');
  });

  it('reports a start failure from the child (port in use) as a DsprobeError', async () => {
    const a = await startMock({});
    try {
      const err = await startMock({ port: Number(new URL(a.url).port) }, { isolate: true }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DsprobeError);
      expect((err as DsprobeError).code).toBe('DSP_PORT_IN_USE');
    } finally {
      await a.close();
    }
  });
});

/**
 * An in-process stand-in for a capped server, behind the Prober seam: admission with a hard cap per model
 * (429 at once over it), long requests that hold their slot until they end or are aborted. Lets the runner's
 * logic be tested exactly, without sockets; the real mock over HTTP is tested in test/integration.
 */
import type { Sample } from '../../src/types.js';
import type { Clock } from '../../src/time/clock.js';
import type { Prober, ProbeRequest, ProbeHooks } from '../../src/transport/prober.js';

export interface FakeServerOptions {
  caps: Record<string, number>;
  /** How long an admitted request lasts, ms (real time). */
  durationMs: number;
  clock: Clock;
}

export function fakeServer(opts: FakeServerOptions): Prober & { inflight: Record<string, number>; maxSeen: Record<string, number> } {
  const inflight: Record<string, number> = {};
  const maxSeen: Record<string, number> = {};
  const { clock } = opts;
  return {
    inflight,
    maxSeen,
    send(req: ProbeRequest, signal?: AbortSignal, hooks?: ProbeHooks): Promise<Sample> {
      const sent = clock.nowUs();
      const base: Sample = {
        id: req.id, model: req.model, step: req.step, target_inflight: req.target_inflight, key_index: req.key_index,
        intended_us: req.intended_us, sent_us: sent, keepalives: 0, end_us: sent, outcome: 'ok', inflight_at_send: req.inflight_at_send,
      };
      return new Promise((resolve) => {
        setImmediate(() => {
          const cap = opts.caps[req.model] ?? Infinity;
          const cur = inflight[req.model] ?? 0;
          if (cur >= cap) {
            hooks?.onHeaders?.(req, 429, clock.nowUs());
            resolve({ ...base, status: 429, headers_us: clock.nowUs(), end_us: clock.nowUs(), outcome: 'rate_limited', detail: 'http_429', server_concurrency: cur });
            return;
          }
          inflight[req.model] = cur + 1;
          maxSeen[req.model] = Math.max(maxSeen[req.model] ?? 0, cur + 1);
          const headers = clock.nowUs();
          hooks?.onHeaders?.(req, 200, headers);
          const release = (outcome: Sample['outcome']) => {
            clearTimeout(t);
            signal?.removeEventListener('abort', onAbort);
            inflight[req.model] = (inflight[req.model] ?? 1) - 1;
            const end = clock.nowUs();
            resolve({
              ...base, status: 200, headers_us: headers, first_byte_us: headers, first_data_us: headers, first_token_us: headers + 1000,
              end_us: end, outcome, usage: { prompt_tokens: 10, completion_tokens: 5, cache_hit_tokens: 0, cache_miss_tokens: 10, reasoning_tokens: 0 },
            });
          };
          const onAbort = () => release('aborted');
          const t = setTimeout(() => release('ok'), opts.durationMs);
          if (signal?.aborted) onAbort();
          else signal?.addEventListener('abort', onAbort, { once: true });
        });
      });
    },
    async close() {},
  };
}

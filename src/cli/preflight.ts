/**
 * Pre-flight against a real target, before the run: is the key good (GET /models), what is the balance
 * (GET /user/balance, DeepSeek only), and is the account already throttled by other traffic sharing its cap
 * (a few requests at low concurrency)? Everything seen is recorded as warnings in the report.
 */
import type { Scenario } from '../scenario/types.js';
import { getJson, createProber } from '../transport/prober.js';
import { monotonicClock } from '../time/clock.js';
import { makePromptFactory } from '../protocol/prompt.js';
import { seededRandom } from '../time/random.js';
import { redactSecrets } from '../run/fatal.js';
import type { Scrubber } from '../secrets.js';
import { formatDuration } from '../scenario/duration.js';

/** Requests sent at once by the throttle check. */
export const PREFLIGHT_REQUESTS = 3;

/**
 * The deadline of every pre-flight request (`GET /models`, `GET /user/balance`, the small chat requests): the
 * scenario's `request.timeout`, but at most this long. Absolute from send, enforced like a load request's.
 */
export const PREFLIGHT_TIMEOUT_MS = 30_000;

/** The pre-flight deadline for a scenario, ms. */
export function preflightTimeoutMs(s: Scenario): number {
  return Math.min(s.request.timeout_ms, PREFLIGHT_TIMEOUT_MS);
}

export interface PreflightResult {
  /** Set when the run must not start (exit 3). */
  fatal: string | null;
  lines: string[];
  warnings: string[];
}

export async function runPreflight(
  s: Scenario,
  baseUrl: string,
  keys: string[],
  headers: Record<string, string>,
  signal?: AbortSignal,
  scrubber?: Scrubber,
): Promise<PreflightResult> {
  const clock = monotonicClock();
  const lines: string[] = [];
  const warnings: string[] = [];
  const key = keys[0] ?? '';
  // DeepSeek's Anthropic surface lives under /anthropic; /models and /user/balance live at the root.
  const root = baseUrl.replace(/\/anthropic\/?$/, '');

  const timeoutMs = preflightTimeoutMs(s);
  const within = formatDuration(timeoutMs);
  const getOpts = () => ({ headers, protocol: s.target.protocol, scrubber, signal, deadlineUs: clock.nowUs() + timeoutMs * 1000 });
  const models = await getJson(root, '/models', key, clock, getOpts());
  if (models.detail === 'timeout') {
    return { fatal: `pre-flight: GET ${root}/models stalled: no complete answer within ${within} (the pre-flight deadline: request.timeout, at most ${formatDuration(PREFLIGHT_TIMEOUT_MS)})`, lines, warnings };
  }
  if (!models.ok && models.status === undefined) {
    return { fatal: `target unreachable: ${root} (${models.error})`, lines, warnings };
  }
  // Every key, not only the first: keys rotate per request, so one refused key fails a share of the whole run.
  for (let i = 0; i < keys.length; i++) {
    const answer = i === 0 ? models : await getJson(root, '/models', keys[i] ?? '', clock, getOpts());
    if (answer.status === 401 || answer.status === 403) {
      const said = answer.error;
      return {
        fatal: `authentication failed at ${root}/models (HTTP ${answer.status}) for the key in ${s.target.api_key_env[i] ?? `key #${i}`}${said ? `; the server said: ${scrubber ? scrubber.scrub(redactSecrets(said, keys)) : redactSecrets(said, keys)}` : ''}`,
        lines,
        warnings,
      };
    }
    if (i > 0 && answer.status !== 200) lines.push(`GET /models with the key in ${s.target.api_key_env[i] ?? `key #${i}`} answered HTTP ${answer.status ?? '-'}; going on`);
  }
  if (keys.length > 1) lines.push(`all ${keys.length} keys accepted by /models`);
  if (models.ok && models.status === 200) {
    const ids = extractModelIds(models.body);
    lines.push(`key accepted; ${ids.length} model(s) listed`);
    for (const m of s.models) {
      if (ids.length && !ids.includes(m.name)) warnings.push(`model ${m.name} is not in the server's /models list`);
    }
  } else {
    lines.push(`GET /models answered HTTP ${models.status ?? '-'}${models.ok ? '' : ` (${models.detail})`}; going on`);
  }

  const bal = await getJson(root, '/user/balance', key, clock, getOpts());
  if (bal.detail === 'timeout') {
    lines.push(`GET /user/balance stalled: no complete answer within ${within}; going on`);
    warnings.push(`pre-flight: GET ${root}/user/balance stalled (no complete answer within ${within}); the balance is unknown`);
  } else if (bal.ok && bal.status === 200) {
    const info = (bal.body as { is_available?: boolean; balance_infos?: { currency?: string; total_balance?: string }[] } | undefined);
    const first = info?.balance_infos?.[0];
    lines.push(`balance: ${first?.total_balance ?? '?'} ${first?.currency ?? ''} (available: ${String(info?.is_available)})`);
    if (info?.is_available === false) warnings.push('the account balance is not available: expect 402 Insufficient Balance');
    const total = Number(first?.total_balance);
    if (Number.isFinite(total) && total < 5) {
      warnings.push(`low balance (${first?.total_balance} ${first?.currency ?? ''}): DeepSeek shrinks the concurrency cap near an empty balance`);
    }
  }

  // Throttle check: a few small requests at once per model; any 429 means something else already uses the cap.
  const prober = createProber({ baseUrl, protocol: s.target.protocol, headers, clock, maxConnections: 16, maxBody: s.request.max_body, scrubber });
  const prompts = makePromptFactory({ prompt_tokens: 16, system_prefix_tokens: 0, random: seededRandom(s.seed).fork('preflight') });
  try {
    let id = 0;
    for (const m of s.models) {
      const sends = Array.from({ length: PREFLIGHT_REQUESTS }, () => {
        const p = prompts(id);
        const now = clock.nowUs();
        return prober.send(
          {
            id: id++, model: m.name, step: -1, target_inflight: PREFLIGHT_REQUESTS, inflight_at_send: PREFLIGHT_REQUESTS,
            key_index: 0, apiKey: key, system: p.system, prompt: p.prompt, max_tokens: 1, stream: s.request.stream,
            thinking: false, intended_us: now, deadline_us: now + timeoutMs * 1000,
          },
          signal,
        );
      });
      const out = await Promise.all(sends);
      const limited = out.filter((o) => o.outcome === 'rate_limited');
      const ok = out.filter((o) => o.outcome === 'ok').length;
      lines.push(`${m.name}: ${ok}/${out.length} small requests ok, ${limited.length} got 429`);
      const stalled = out.filter((o) => o.outcome === 'timeout').length;
      if (stalled) {
        const path = s.target.protocol === 'anthropic' ? '/v1/messages' : '/chat/completions';
        lines.push(`${m.name}: ${stalled} of ${out.length} requests to ${path} stalled: no complete answer within ${within}`);
        warnings.push(`pre-flight: ${stalled} of ${out.length} small requests to ${baseUrl}${path} (${m.name}) stalled past the ${within} deadline`);
      }
      if (limited.length) {
        const said = limited.find((o) => o.server_concurrency !== undefined)?.server_concurrency;
        warnings.push(
          `${m.name}: ${limited.length} of ${out.length} requests at concurrency ${PREFLIGHT_REQUESTS} got 429 before the run` +
            (said !== undefined ? ` (server counted ${said} in flight)` : '') +
            ': other keys, services or CI jobs on this account share its cap.',
        );
      }
      const auth = out.find((o) => o.status === 401 || o.status === 403);
      if (auth) return { fatal: `authentication failed for ${m.name} (HTTP ${auth.status})`, lines, warnings };
      const broke = out.find((o) => o.status === 402);
      if (broke) return { fatal: `insufficient balance (HTTP 402) for ${m.name}: top up before running`, lines, warnings };
    }
  } finally {
    await prober.close();
  }
  return { fatal: null, lines, warnings };
}

function extractModelIds(body: unknown): string[] {
  const data = (body as { data?: { id?: unknown }[] } | undefined)?.data;
  return Array.isArray(data) ? data.map((d) => String(d?.id ?? '')).filter(Boolean) : [];
}

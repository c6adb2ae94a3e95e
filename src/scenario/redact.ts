/**
 * The scenario as reports show it: header values and anything that looks like a secret replaced.
 * API keys never reach a scenario (only the names of the variables holding them), but a user may still
 * paste a key into a header or into the mock's account list; reports must not carry it.
 */
import type { Scenario } from './types.js';

/** What replaces a secret. */
export const REDACTED = '[redacted]';

/** Key names whose values are secrets wherever they appear. `api_key_env` holds names, not keys. */
const SECRET_KEY = /(secret|password|passwd|authorization|cookie|credential|token$|^keys?$|api[_-]?keys?$)/i;

/**
 * True for strings that look like credentials: `sk-...`, `Bearer ...`, or a long opaque run of
 * base64/hex characters (32+). Used to keep such strings out of messages and reports.
 */
export function looksSecret(s: string): boolean {
  const t = s.trim();
  return /^sk-[A-Za-z0-9_-]{6,}/.test(t) || /^(bearer|basic)\s+\S/i.test(t) || /^[A-Za-z0-9+/_=-]{32,}$/.test(t);
}

/** Copies `v`; under a secret-named key every scalar is redacted, elsewhere only secret-looking strings. */
function walk(v: unknown, secret: boolean): unknown {
  if (Array.isArray(v)) return v.map((x) => walk(x, secret));
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = walk(x, secret || (k !== 'api_key_env' && SECRET_KEY.test(k)));
    return out;
  }
  if (v === null || v === undefined) return v;
  if (secret || (typeof v === 'string' && looksSecret(v))) return REDACTED;
  return v;
}

/** A deep copy of the scenario for reports, with every header value and secret-looking string redacted. */
export function redactScenario(s: Scenario): unknown {
  const copy = walk(s, false) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  const headers = copy.target?.headers as Record<string, unknown> | undefined;
  if (headers) for (const k of Object.keys(headers)) headers[k] = REDACTED;
  return copy;
}

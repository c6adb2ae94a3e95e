/**
 * Secrets never stored: every configured secret (API keys, `target.headers` values, values filled in from the
 * environment) is replaced with `[redacted]` in anything dsprobe writes or prints, server text included (a
 * gateway that echoes request headers in its error body must not put a token into a report).
 */

/** Values shorter than this are not scrubbed: too short to be a secret, and scrubbing them would mangle text. */
export const MIN_SECRET_CHARS = 8;

/** What a secret is replaced with. */
export const REDACTED = '[redacted]';

/** Replaces secrets in text. `scrub` is cheap when nothing matches (one `includes` per secret form). */
export interface Scrubber {
  scrub(text: string): string;
  /** Scrubs every string inside a JSON-like value, in place (keys too); returns it. */
  scrubValue<T>(value: T): T;
  /** How many distinct forms are searched (0: scrubbing is a no-op). */
  readonly size: number;
}

/**
 * A scrubber for `values`. Each secret is searched as is, JSON-escaped (as it appears inside a serialised
 * string) and URL-encoded; the longest forms are replaced first so a secret inside another is not left half done.
 */
export function makeScrubber(values: Iterable<string | undefined>): Scrubber {
  const forms = new Set<string>();
  for (const v of values) {
    if (typeof v !== 'string' || v.length < MIN_SECRET_CHARS) continue;
    forms.add(v);
    forms.add(JSON.stringify(v).slice(1, -1));
    forms.add(encodeURIComponent(v));
    const trimmed = v.replace(/^(Bearer|Basic|Token)\s+/i, '');
    if (trimmed !== v && trimmed.length >= MIN_SECRET_CHARS) forms.add(trimmed);
  }
  const list = [...forms].sort((a, b) => b.length - a.length);
  const scrub = (text: string): string => {
    if (list.length === 0 || typeof text !== 'string') return text;
    let out = text;
    for (const f of list) if (out.includes(f)) out = out.split(f).join(REDACTED);
    return out;
  };
  const scrubValue = <T>(value: T): T => {
    if (list.length === 0) return value;
    const walk = (v: unknown): unknown => {
      if (typeof v === 'string') return scrub(v);
      if (Array.isArray(v)) {
        for (let i = 0; i < v.length; i++) v[i] = walk(v[i]);
        return v;
      }
      if (v !== null && typeof v === 'object') {
        const o = v as Record<string, unknown>;
        for (const k of Object.keys(o)) {
          const nk = scrub(k);
          const nv = walk(o[k]);
          if (nk !== k) delete o[k];
          o[nk] = nv;
        }
      }
      return v;
    };
    return walk(value) as T;
  };
  return { scrub, scrubValue, size: list.length };
}

/**
 * Merges header maps case-insensitively (HTTP header names are): names are lowercased and a later map's value
 * replaces an earlier one's, so a `target.headers` `Authorization` replaces the key's own, never joins it.
 */
export function mergeHeaders(...maps: (Record<string, string> | undefined)[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of maps) if (m) for (const [k, v] of Object.entries(m)) out[k.toLowerCase()] = v;
  return out;
}

/**
 * Durations as users write them in scenarios: `10s`, `500ms`, `2m`, `1m30s`, `1.5h`, `250us`,
 * or a bare number, which means seconds (YAML `hold: 10` is ten seconds).
 */

/** Milliseconds per unit. `us`/`µs` are microseconds. */
const UNIT_MS: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1, us: 0.001, 'µs': 0.001 };

/** The pattern the JSON Schema publishes for duration strings (same language as parseDuration). */
export const DURATION_PATTERN = '^\\s*(\\d+(\\.\\d+)?\\s*(h|m|s|ms|us|µs)\\s*)+$|^\\s*\\d+(\\.\\d+)?\\s*$';

const PART = /(\d+(?:\.\d+)?)\s*(ms|us|µs|h|m|s)/gy;

/**
 * Parses a duration to milliseconds. Numbers are seconds. Returns an error text (what was expected) when
 * the input is not a duration; negative durations are errors.
 */
export function parseDuration(v: unknown): { ms: number } | { error: string } {
  if (typeof v === 'number') {
    if (!Number.isFinite(v) || v < 0) return { error: 'a duration >= 0' };
    return { ms: v * 1000 };
  }
  if (typeof v !== 'string') return { error: 'a duration like 10s, 500ms, 2m or a number of seconds' };
  const s = v.trim();
  if (/^\d+(\.\d+)?$/.test(s)) return { ms: Number(s) * 1000 };
  if (s === '') return { error: 'a duration like 10s, 500ms, 2m or a number of seconds' };
  PART.lastIndex = 0;
  let total = 0;
  let pos = 0;
  while (pos < s.length) {
    while (s[pos] === ' ') pos++;
    if (pos >= s.length) break;
    PART.lastIndex = pos;
    const m = PART.exec(s);
    if (!m) return { error: 'a duration like 10s, 500ms, 2m or a number of seconds' };
    total += Number(m[1]) * (UNIT_MS[m[2]!] ?? NaN);
    pos = PART.lastIndex;
  }
  if (!Number.isFinite(total)) return { error: 'a duration like 10s, 500ms, 2m or a number of seconds' };
  return { ms: total };
}

/** Formats milliseconds for humans: `850ms`, `2.5s`, `3m20s`, `1h5m`. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return String(ms);
  if (ms < 1000) return `${Math.round(ms * 1000) / 1000}ms`;
  if (ms < 60_000) return `${Math.round(ms / 10) / 100}s`;
  const totalS = Math.round(ms / 1000);
  const h = Math.floor(totalS / 3600);
  const m = Math.floor((totalS % 3600) / 60);
  const sec = totalS % 60;
  if (h > 0) return `${h}h${m ? m + 'm' : ''}${sec ? sec + 's' : ''}`;
  return `${m}m${sec ? sec + 's' : ''}`;
}

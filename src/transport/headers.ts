/**
 * The few response headers dsprobe records, read from a raw header list
 * (alternating name, value buffers) without building a header object.
 */

/** Headers of interest in one response. */
export interface RecordedHeaders {
  contentType: string;
  /** `retry-after` as sent; else `retry-after-ms` as `<n>ms`. */
  retryAfter?: string;
  /** `x-ratelimit-*`, `ratelimit-*` and `anthropic-ratelimit-*` headers, lowercased names. */
  ratelimit?: Record<string, string>;
  /** `x-ds-trace-id` (DeepSeek); else `x-request-id` / `request-id` (other servers). */
  traceId?: string;
}

function str(v: Buffer | string): string {
  return typeof v === 'string' ? v : v.toString('latin1');
}

/** Reads the recorded headers out of a raw header list (`[name, value, name, value, ...]`). */
export function readHeaders(raw: ReadonlyArray<Buffer | string> | null | undefined): RecordedHeaders {
  const out: RecordedHeaders = { contentType: '' };
  if (!raw) return out;
  let retryAfterMs: string | undefined;
  let fallbackTrace: string | undefined;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = str(raw[i] as Buffer | string).toLowerCase();
    const c = name.charCodeAt(0);
    // Cheap first-letter filter: only c(ontent-type), r(etry/atelimit/equest), x-, a(nthropic) matter.
    if (c !== 99 && c !== 114 && c !== 120 && c !== 97) continue;
    if (name === 'content-type') out.contentType = str(raw[i + 1] as Buffer | string).toLowerCase();
    else if (name === 'retry-after') out.retryAfter = str(raw[i + 1] as Buffer | string);
    else if (name === 'retry-after-ms') retryAfterMs = str(raw[i + 1] as Buffer | string);
    else if (name === 'x-ds-trace-id') out.traceId = str(raw[i + 1] as Buffer | string);
    else if (name === 'x-request-id' || name === 'request-id') fallbackTrace ??= str(raw[i + 1] as Buffer | string);
    else if (name.startsWith('x-ratelimit-') || name.startsWith('ratelimit') || name.startsWith('anthropic-ratelimit-')) {
      (out.ratelimit ??= {})[name] = str(raw[i + 1] as Buffer | string);
    }
  }
  if (out.retryAfter === undefined && retryAfterMs !== undefined) out.retryAfter = `${retryAfterMs}ms`;
  if (out.traceId === undefined && fallbackTrace !== undefined) out.traceId = fallbackTrace;
  return out;
}

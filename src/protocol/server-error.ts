/**
 * Reading what a server says went wrong: error envelopes (OpenAI and Anthropic), DeepSeek's 429 figures,
 * the 900-second queue-timeout body, HTML gateway pages. All pure; never throws.
 */

/** Longest error message kept in a Sample (characters). */
export const MAX_ERROR_CHARS = 300;

/** An error reported by the server inside a response (a 200 body, a `data:` line, an `event: error`). */
export interface ServerError {
  /** True when the error's type is `rate_limit_error` (or its code is 429). */
  rateLimited: boolean;
  /** `queue_timeout` when it is DeepSeek's "unable to start processing ... timeout" body, else the caller's default. */
  detail: string;
  message: string;
}

function obj(v: unknown): Record<string, unknown> | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

/** Truncates to MAX_ERROR_CHARS. */
export function clip(s: string): string {
  return s.length > MAX_ERROR_CHARS ? s.slice(0, MAX_ERROR_CHARS - 1) + '…' : s;
}

const QUEUE_TIMEOUT = /unable to start processing|second timeout limit/i;

/** True for DeepSeek's queue-timeout message ("...within the 900-second timeout limit..."). */
export function isQueueTimeout(message: string): boolean {
  return QUEUE_TIMEOUT.test(message);
}

/**
 * The error carried by a parsed JSON value, if it is an error envelope:
 * OpenAI `{"error":{"message","type","code"}}`, Anthropic `{"type":"error","error":{"type","message"}}`,
 * or a bare `{"error":"text"}`. Returns null for anything else.
 */
export function errorOf(json: unknown, defaultDetail: string): ServerError | null {
  const o = obj(json);
  if (!o) return null;
  const e = o.error;
  let message: string | undefined;
  let type: unknown;
  let code: unknown;
  if (typeof e === 'string') message = e;
  else {
    const eo = obj(e);
    if (!eo) {
      if (o.type === 'error' && typeof o.message === 'string') message = o.message;
      else return null;
    } else {
      message = typeof eo.message === 'string' ? eo.message : JSON.stringify(eo);
      type = eo.type;
      code = eo.code;
    }
  }
  message ??= '';
  const rateLimited = type === 'rate_limit_error' || code === 429 || code === '429' || code === 'rate_limit_exceeded';
  return { rateLimited, detail: isQueueTimeout(message) ? 'queue_timeout' : defaultDetail, message: clip(message) };
}

/** The figures in DeepSeek's 429 messages (both variants in DEEPSEEK-API.md). */
export interface ConcurrencyFigures {
  /** "Your current concurrency: N" / "Your current concurrency is N". */
  concurrency?: number;
  /** "... exceeds your concurrency limit of N ...". */
  limit?: number;
}

const CURRENT = /current concurrency(?:\s*:|\s+is)\s*(\d+)/i;
const LIMIT = /concurrency limit of\s*(\d+)/i;

/** Parses the concurrency figures out of a 429 message. */
export function concurrencyFigures(message: string): ConcurrencyFigures {
  const out: ConcurrencyFigures = {};
  const c = CURRENT.exec(message);
  if (c) out.concurrency = Number(c[1]);
  const l = LIMIT.exec(message);
  if (l) out.limit = Number(l[1]);
  return out;
}

/** True when a body looks like an HTML page (a gateway or proxy error page). */
export function looksLikeHtml(text: string): boolean {
  const t = text.trimStart().slice(0, 64).toLowerCase();
  return t.startsWith('<!doctype') || t.startsWith('<html') || t.startsWith('<head') || t.startsWith('<body') || t.startsWith('<');
}

/** A short readable message from an HTML page: its <title>, else its text with tags and spaces collapsed. */
export function htmlMessage(html: string): string {
  const title = /<title[^>]*>([^<]*)<\/title>/i.exec(html);
  const text = title?.[1]?.trim() || html.replace(/<[^>]*>/g, ' ');
  return clip(text.replace(/\s+/g, ' ').trim());
}

/**
 * The message of a non-2xx body: the JSON error envelope's message, else `message`/`detail` fields,
 * else the HTML title, else the raw text (clipped).
 */
export function messageOfBody(text: string): string {
  const t = text.trim();
  if (t.length === 0) return '';
  if (t.charCodeAt(0) === 123 /* { */) {
    try {
      const j: unknown = JSON.parse(t);
      const e = errorOf(j, '');
      if (e) return e.message;
      const o = obj(j);
      if (o) {
        if (typeof o.message === 'string') return clip(o.message);
        if (typeof o.detail === 'string') return clip(o.detail);
      }
    } catch {
      // not JSON: fall through to raw text
    }
  }
  if (looksLikeHtml(t)) return htmlMessage(t);
  return clip(t.replace(/\s+/g, ' '));
}

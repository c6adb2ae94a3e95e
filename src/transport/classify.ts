/**
 * Outcome classification rules that do not depend on the exchange's timing (docs/outcomes.md).
 * Pure functions over what was received; the exchange applies them and fills in the Sample.
 */
import type { Outcome } from '../types.js';
import { asObj, type Dialect, type ResponseFacts } from '../protocol/dialect.js';
import { clip, concurrencyFigures, errorOf, htmlMessage, looksLikeHtml, messageOfBody, type ServerError } from '../protocol/server-error.js';

/** An outcome with its detail and, when there is one, the server's message and 429 figures. */
export interface Verdict {
  outcome: Outcome;
  detail: string;
  error?: string;
  server_concurrency?: number;
  server_limit?: number;
}

/** A non-2xx status: 429 -> rate_limited, 4xx -> client_error, 5xx -> server_error, else protocol. */
export function verdictForStatus(status: number, bodyText: string): Verdict {
  const message = messageOfBody(bodyText);
  const v: Verdict = { outcome: 'protocol', detail: `http_${status}` };
  if (message.length > 0) v.error = message;
  if (status === 429) {
    v.outcome = 'rate_limited';
    const fig = concurrencyFigures(message);
    if (fig.concurrency !== undefined) v.server_concurrency = fig.concurrency;
    if (fig.limit !== undefined) v.server_limit = fig.limit;
  } else if (status >= 400 && status < 500) v.outcome = 'client_error';
  else if (status >= 500 && status < 600) v.outcome = 'server_error';
  return v;
}

/** An error reported inside a 2xx response (body, data line, event: error). */
export function verdictForServerError(e: ServerError): Verdict {
  const v: Verdict = { outcome: e.rateLimited ? 'rate_limited' : 'server_error', detail: e.detail, error: e.message };
  if (e.rateLimited) {
    const fig = concurrencyFigures(e.message);
    if (fig.concurrency !== undefined) v.server_concurrency = fig.concurrency;
    if (fig.limit !== undefined) v.server_limit = fig.limit;
  }
  return v;
}

/**
 * A 2xx event stream that ended cleanly (the connection closed normally). `sawData`: any frame other than
 * keep-alives arrived; a stream of keep-alives only is `empty_body`, one cut short of its end marker `truncated`.
 */
export function verdictForStreamEnd(f: ResponseFacts, sawData: boolean): Verdict {
  if (f.error) return verdictForServerError(f.error);
  if (f.fault) return faultVerdict(f);
  if (f.complete) return { outcome: 'ok', detail: 'ok' };
  return { outcome: 'protocol', detail: sawData ? 'truncated' : 'empty_body' };
}

function faultVerdict(f: ResponseFacts): Verdict {
  const v: Verdict = { outcome: 'protocol', detail: f.fault as string };
  if (f.fault_text !== undefined) v.error = clip(f.fault_text);
  return v;
}

function isJsonType(ct: string): boolean {
  return ct.includes('json');
}

/**
 * A 2xx non-stream body, complete. `text` is the body after its leading keep-alive blank lines.
 * Order: empty -> error envelope -> HTML -> wrong content type -> bad JSON -> the dialect's reading.
 */
export function verdictForBody(contentType: string, text: string, dialect: Dialect, f: ResponseFacts): Verdict {
  const t = text.trim();
  if (t.length === 0) return { outcome: 'protocol', detail: 'empty_body' };
  let json: unknown;
  let parsed = false;
  if (t.charCodeAt(0) === 123 /* { */ || t.charCodeAt(0) === 91 /* [ */) {
    try {
      json = JSON.parse(t);
      parsed = true;
    } catch {
      parsed = false;
    }
  }
  if (parsed) {
    const e = errorOf(json, 'error_body');
    if (e) return verdictForServerError(e);
  }
  if (contentType.includes('html') || (!parsed && looksLikeHtml(t))) {
    return { outcome: 'protocol', detail: 'html_body', error: htmlMessage(t) };
  }
  if (contentType.length > 0 && !isJsonType(contentType)) {
    return { outcome: 'protocol', detail: 'bad_content_type', error: clip(`content-type ${contentType}: ${t.slice(0, 200)}`) };
  }
  if (!parsed) return { outcome: 'protocol', detail: 'bad_json', error: clip(t.slice(0, 200)) };
  if (!asObj(json)) return { outcome: 'protocol', detail: 'unexpected_body', error: clip(t.slice(0, 200)) };
  dialect.readBody(json, f);
  if (f.fault) return faultVerdict(f);
  return { outcome: 'ok', detail: 'ok' };
}

/** Detail for a connection failure before any response headers, from the error's code. */
export function networkDetail(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  switch (code) {
    case 'ECONNREFUSED':
      return 'refused';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'dns';
    case 'UND_ERR_CONNECT_TIMEOUT':
    case 'ETIMEDOUT':
      return 'connect_timeout';
    case 'EMFILE':
    case 'ENFILE':
      return 'fd_limit';
    default:
      return typeof code === 'string' && TLS_CODE.test(code) ? 'tls' : 'reset';
  }
}

/** TLS handshake and certificate failures (node's and OpenSSL's codes). */
const TLS_CODE = /^(ERR_TLS_|ERR_SSL_|CERT_|UNABLE_TO_|DEPTH_ZERO_|SELF_SIGNED_|EPROTO$)/;

/**
 * Details of a request that never got a connection to talk over (refused, DNS, TLS, connect timeout, no file
 * descriptor). Only these make a target "unreachable"; a reset, a cut or a short body came after a connection.
 */
export const NO_CONNECTION_DETAILS: ReadonlySet<string> = new Set(['refused', 'dns', 'tls', 'connect_timeout', 'fd_limit', 'dispatch']);

/** A short message for a network error (its code and message; never contains request headers). */
export function networkMessage(err: unknown): string {
  const e = err as { code?: unknown; message?: unknown } | null;
  const code = typeof e?.code === 'string' ? e.code + ': ' : '';
  const msg = typeof e?.message === 'string' ? e.message : String(err);
  return clip(code + msg);
}

/**
 * One Sample as its samples.ndjson line: the same JSON as `JSON.stringify(s)`, written field by field.
 *
 * Why: a line is made for every request, on the thread that reads the streams. `JSON.stringify` of a finished
 * stream's Sample cost 4.6-5.0 µs on this machine against 1.3-1.6 µs for this (300,000 lines, alternated), a few per
 * cent of all dsprobe does for a short request. A Sample holding anything this does not write (a key it does not
 * know, a key set to `undefined`, a required key missing) is written by `JSON.stringify` instead: the count of keys
 * written must equal the object's own. A value of another type than its field's is written as JSON writes it.
 */
import type { Sample } from '../types.js';

/** A number as JSON writes it (`null` for NaN and the infinities; anything else as JSON.stringify has it). */
function num(v: unknown): string {
  return typeof v === 'number' && Number.isFinite(v) ? `${v}` : (JSON.stringify(v) ?? 'null');
}

/** A string as JSON writes it. */
function str(v: unknown): string {
  return JSON.stringify(v) ?? 'null';
}

/** The line (no newline) for `s`. */
export function sampleLine(s: Sample): string {
  if (s.id === undefined || s.model === undefined || s.step === undefined || s.target_inflight === undefined || s.key_index === undefined || s.intended_us === undefined || s.sent_us === undefined || s.keepalives === undefined || s.end_us === undefined || s.outcome === undefined || s.inflight_at_send === undefined) return JSON.stringify(s);
  let n = 11;
  let t = `{"id":${num(s.id)},"model":${str(s.model)},"step":${num(s.step)},"target_inflight":${num(s.target_inflight)},"key_index":${num(s.key_index)}`;
  if (s.user_id !== undefined) (t += `,"user_id":${str(s.user_id)}`), n++;
  t += `,"intended_us":${num(s.intended_us)},"sent_us":${num(s.sent_us)}`;
  if (s.headers_us !== undefined) (t += `,"headers_us":${num(s.headers_us)}`), n++;
  if (s.status !== undefined) (t += `,"status":${num(s.status)}`), n++;
  if (s.first_byte_us !== undefined) (t += `,"first_byte_us":${num(s.first_byte_us)}`), n++;
  t += `,"keepalives":${num(s.keepalives)}`;
  if (s.first_keepalive_us !== undefined) (t += `,"first_keepalive_us":${num(s.first_keepalive_us)}`), n++;
  if (s.last_keepalive_us !== undefined) (t += `,"last_keepalive_us":${num(s.last_keepalive_us)}`), n++;
  if (s.first_data_us !== undefined) (t += `,"first_data_us":${num(s.first_data_us)}`), n++;
  if (s.first_token_us !== undefined) (t += `,"first_token_us":${num(s.first_token_us)}`), n++;
  t += `,"end_us":${num(s.end_us)},"outcome":${str(s.outcome)}`;
  if (s.detail !== undefined) (t += `,"detail":${str(s.detail)}`), n++;
  if (s.error !== undefined) (t += `,"error":${str(s.error)}`), n++;
  if (s.finish_reason !== undefined) (t += `,"finish_reason":${str(s.finish_reason)}`), n++;
  const u = s.usage;
  if (u !== undefined) {
    // The five fields every usage has (protocol/usage.ts, run/driver.ts's estimate), else as JSON.stringify has it.
    const plain = typeof u === 'object' && u !== null && Object.keys(u).length === 5 && u.prompt_tokens !== undefined && u.completion_tokens !== undefined && u.cache_hit_tokens !== undefined && u.cache_miss_tokens !== undefined && u.reasoning_tokens !== undefined;
    t += plain
      ? `,"usage":{"prompt_tokens":${num(u.prompt_tokens)},"completion_tokens":${num(u.completion_tokens)},"cache_hit_tokens":${num(u.cache_hit_tokens)},"cache_miss_tokens":${num(u.cache_miss_tokens)},"reasoning_tokens":${num(u.reasoning_tokens)}}`
      : `,"usage":${JSON.stringify(u)}`;
    n++;
  }
  if (s.usage_estimated !== undefined) (t += `,"usage_estimated":${s.usage_estimated === true ? 'true' : s.usage_estimated === false ? 'false' : str(s.usage_estimated)}`), n++;
  if (s.token_events !== undefined) (t += `,"token_events":${num(s.token_events)}`), n++;
  if (s.server_concurrency !== undefined) (t += `,"server_concurrency":${num(s.server_concurrency)}`), n++;
  if (s.server_limit !== undefined) (t += `,"server_limit":${num(s.server_limit)}`), n++;
  if (s.retry_after !== undefined) (t += `,"retry_after":${str(s.retry_after)}`), n++;
  if (s.ratelimit !== undefined) (t += `,"ratelimit":${JSON.stringify(s.ratelimit)}`), n++;
  if (s.trace_id !== undefined) (t += `,"trace_id":${str(s.trace_id)}`), n++;
  t += `,"inflight_at_send":${num(s.inflight_at_send)}`;
  if (s.overtaken_by !== undefined) (t += `,"overtaken_by":${num(s.overtaken_by)}`), n++;
  if (s.policy !== undefined) (t += `,"policy":${str(s.policy)}`), n++;
  if (s.arrival_us !== undefined) (t += `,"arrival_us":${num(s.arrival_us)}`), n++;
  if (s.attempt !== undefined) (t += `,"attempt":${num(s.attempt)}`), n++;
  // Anything this does not know (or a key present but undefined): JSON.stringify's own line.
  return n === Object.keys(s).length ? `${t}}` : JSON.stringify(s);
}

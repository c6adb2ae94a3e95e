/**
 * The seam between the engine (when to send) and the wire formats (what bytes): one Dialect per surface.
 * Every method returns a string to write; none writes or keeps state outside the Flight.
 */
import type { Flight } from './flight.js';

/** One surface's bytes. */
export interface Dialect {
  /** content-type of a successful response. */
  contentType(stream: boolean): string;
  /** The JSON body of an HTTP error (DeepSeek's envelope for this surface). */
  errorBody(status: number, message: string): string;
  /** Called once when inference starts (a streaming flight): message_start for Anthropic, '' for OpenAI. */
  open(f: Flight): string;
  /** Frames for tokens [from, to), grouped `chunk` tokens per frame; the first call also opens the reply. */
  tokens(f: Flight, from: number, to: number, chunk: number): string;
  /** The closing frames: finish reason, usage, [DONE] / message_stop. */
  close(f: Flight): string;
  /** An error inside a stream after status 200. */
  streamError(f: Flight, message: string, type: string): string;
  /** A frame that is not valid JSON (the malformed_chunk fault). */
  malformed(f: Flight): string;
  /** The whole non-streaming body. */
  body(f: Flight): string;
  /** An id for a new reply. */
  newId(seq: number, seed: number): string;
}

/** A keep-alive while queued: an SSE comment when streaming, a blank line otherwise (DEEPSEEK-API.md). */
export const KEEPALIVE_STREAM = ': keep-alive\n\n';
export const KEEPALIVE_BODY = '\n';

/** OpenAI-style error `type` per status. */
export function openaiErrorType(status: number): string {
  if (status === 401) return 'authentication_error';
  if (status === 402) return 'unknown_error';
  if (status === 429) return 'rate_limit_error';
  if (status >= 500) return 'server_error';
  return 'invalid_request_error';
}

/** Anthropic-style error `type` per status. */
export function anthropicErrorType(status: number): string {
  switch (status) {
    case 401:
      return 'authentication_error';
    case 402:
      return 'billing_error';
    case 403:
      return 'permission_error';
    case 404:
      return 'not_found_error';
    case 429:
      return 'rate_limit_error';
    case 503:
    case 529:
      return 'overloaded_error';
  }
  return status >= 500 ? 'api_error' : 'invalid_request_error';
}

/** 32 hex digits from two integers (ids and trace ids: unique per mock, repeatable per seed). */
export function hexId(a: number, b: number): string {
  let out = '';
  for (let i = 0; i < 4; i++) out += (mix(a, b, i) >>> 0).toString(16).padStart(8, '0');
  return out;
}

/** A 32-bit integer hash of (a, b, i) (murmur3's finaliser). */
function mix(a: number, b: number, i: number): number {
  let x = Math.imul(a, 0x9e3779b1) ^ Math.imul(b + i, 0x85ebca6b) ^ Math.imul(i + 1, 0xc2b2ae35);
  x ^= x >>> 16;
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  return x ^ (x >>> 16);
}

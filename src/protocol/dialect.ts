/**
 * The seam between the transport (bytes, timestamps, outcomes) and an API surface (bodies, chunk meaning).
 * A Dialect builds the request and reads response payloads into ResponseFacts; it never sees sockets or clocks
 * other than the arrival time it is handed.
 */
import type { Usage } from '../types.js';
import type { ServerError } from './server-error.js';

/** The request fields a dialect turns into an HTTP body. */
export interface ChatParams {
  model: string;
  user_id?: string;
  /** Shared system prefix (may be empty: then no system message is sent). */
  system: string;
  prompt: string;
  max_tokens: number;
  stream: boolean;
  thinking: boolean;
  reasoning_effort?: 'high' | 'max';
  temperature?: number;
}

/** What a response has said so far; filled in by the dialect as payloads arrive. */
export interface ResponseFacts {
  /** Arrival time (µs) of the first chunk carrying reasoning or answer text. */
  first_token_us?: number;
  /** Chunks/deltas that carried text. */
  token_events: number;
  usage?: Usage;
  finish_reason?: string;
  /** The end marker was seen (`[DONE]`, `message_stop`) or a complete non-stream body was read. */
  complete: boolean;
  /** An error the server reported in a 2xx response. The first one wins. */
  error?: ServerError;
  /** The first protocol fault seen (`bad_json`, `unexpected_body`, ...). */
  fault?: string;
  /** The fault's evidence (clipped), e.g. the start of the malformed chunk. */
  fault_text?: string;
}

/** Fresh, empty facts. */
export function newFacts(): ResponseFacts {
  // Every field from the start: one shape, no property store added as a stream fills it in.
  return { first_token_us: undefined, token_events: 0, usage: undefined, finish_reason: undefined, complete: false, error: undefined, fault: undefined };
}

/** Records one text-bearing chunk arriving at `atUs`. */
export function tokenEvent(f: ResponseFacts, atUs: number): void {
  if (f.first_token_us === undefined) f.first_token_us = atUs;
  f.token_events++;
}

/** Records a protocol fault (the first one is kept). */
export function fault(f: ResponseFacts, detail: string, evidence: string): void {
  if (f.fault !== undefined) return;
  f.fault = detail;
  f.fault_text = evidence.length > 120 ? evidence.slice(0, 120) + '…' : evidence;
}

/** Reads one stream's SSE messages. One instance per response. */
export interface StreamReader {
  /** One dispatched SSE event (`event` is `message` when unnamed), arriving at `atUs`. */
  message(event: string, data: string, atUs: number): void;
  /**
   * Optional: a read that is exactly one unnamed `data:` event, offered as its bytes `buf[start, end)` (valid
   * during the call only) before any decoding (only while
   * the SSE parser has nothing pending). True when read (with the same effect `message` would have had); false
   * to let it take the text path.
   */
  frame?(buf: Buffer, start: number, end: number, atUs: number): boolean;
}

/** One API surface: OpenAI chat completions or Anthropic messages. */
export interface Dialect {
  readonly name: 'openai' | 'anthropic';
  /** Path appended to the base URL's path, e.g. `/chat/completions`. */
  readonly path: string;
  /** Authentication and protocol headers for one API key (the caller caches the result per key). */
  headers(apiKey: string): Record<string, string>;
  /** The JSON request body. */
  body(p: ChatParams): string;
  /** A reader for one streamed response that writes into `facts`. */
  streamReader(facts: ResponseFacts): StreamReader;
  /**
   * Reads a complete non-stream body that parsed as JSON and is not an error envelope. Sets `complete` when
   * it is a well-formed answer, else records a fault (`unexpected_body`).
   */
  readBody(json: unknown, facts: ResponseFacts): void;
}

/** Narrowing helper shared by the dialects. */
export function asObj(v: unknown): Record<string, unknown> | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

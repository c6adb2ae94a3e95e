/**
 * One admitted request's state: plain fields on a class (no closures), so the wheel and the dialects can
 * handle thousands of them cheaply. The engine moves `phase` forward; nothing else mutates a Flight.
 */
import type { ServerResponse } from 'node:http';
import type { AccountState } from './accounts.js';
import type { FaultConfig } from './config.js';
import type { Surface } from './request.js';
import type { WheelItem } from './wheel.js';

/** Where a flight is in its life. */
export const Phase = {
  /** slow_headers fault: admitted, nothing sent yet. */
  Hold: 0,
  /** Waiting for a server slot (or a forced_queue fault), sending keep-alives. */
  Queued: 1,
  /** Inference started, before the first token. */
  Prefill: 2,
  /** Sending tokens. */
  Decode: 3,
  /** A stall fault: decoding paused. */
  Stalled: 4,
  /** blank_only fault: only keep-alives until it ends. */
  Blank: 5,
  /** Ended (finished, failed, timed out or aborted). */
  Done: 6,
} as const;

/** One of Phase's values. */
export type Phase = (typeof Phase)[keyof typeof Phase];

/** An admitted request. */
export class Flight implements WheelItem {
  wheelSeq = 0;
  wheelDue = 0;
  phase: Phase = Phase.Hold;

  /** `chatcmpl-…` or `msg_…` id, constant through the stream. */
  id = '';
  /** Mock-wide sequence number (events carry it as `id`). */
  seq = 0;
  traceId = '';
  created = 0;
  surface: Surface = 'openai';
  stream = false;
  thinking = false;
  model = '';
  user = '';
  account!: AccountState;
  res!: ServerResponse;
  fault: FaultConfig | undefined;

  /** Seed for the words of this flight's text (word k is a pure function of seed and k). */
  wordSeed = 0;
  promptTokens = 0;
  hitTokens = 0;
  reasoningTokens = 0;
  answerTokens = 0;
  finishReason = 'stop';

  /** Monotonic µs. */
  admittedUs = 0;
  queuedAtUs = 0;
  startUs = 0;
  firstTokenUs = 0;
  /** Deadline of the queue wait (queue timeout or forced_queue end), µs. */
  queueDeadlineUs = 0;
  /** Whether the forced_queue deadline (not the queue timeout) ends the wait. */
  forcedQueue = false;
  /** Whether it sits in a model's wait list (and counts in `queued`). */
  inWaitList = false;
  /** Whether it holds a server slot. */
  running = false;
  /** Whether the account counted it in (released exactly once). */
  counted = true;
  /** Time since the first token per output token, µs (load slow-down applied at start). */
  itlUs = 0;
  prefillUs = 0;
  /** Tokens sent so far. */
  emitted = 0;
  /** Tokens sent before the fault strikes (Infinity when none does). */
  faultAt = Infinity;
  /** Stall: µs added to every later token's due time. */
  shiftUs = 0;
  /** Whether status and headers went out. */
  headersSent = false;
  /** OpenAI: the constant head of every chunk frame. */
  framePrefix = '';
  /** Anthropic: the content block currently open (-1: none). */
  block = -1;
}

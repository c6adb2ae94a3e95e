/**
 * Ground-truth events: what the mock did to each request, with monotonic timestamps, for tests that check
 * what dsprobe measured. Objects are built only while someone listens, so an unwatched mock pays nothing.
 */

/** The kinds of event, in the order a request meets them. */
export type MockEventType = 'admit' | 'reject' | 'queue' | 'start' | 'first_token' | 'finish' | 'abort' | 'timeout';

/** One event. Fields beyond type, t_ms and id appear where they apply. */
export interface MockEvent {
  type: MockEventType;
  /** Monotonic time of the mock's clock, ms (fractional). Comparable between events of one mock. */
  t_ms: number;
  /** The request's sequence number in this mock (rejected requests get one too). */
  id: number;
  /** The x-ds-trace-id header sent with the response. */
  trace_id: string;
  account?: string;
  model?: string;
  /** user_id, '' when none. */
  user?: string;
  stream?: boolean;
  surface?: 'openai' | 'anthropic';
  /** reject: the HTTP status; 429 also carries concurrency and cap. */
  status?: number;
  /** reject: why (`cap`, `user_cap`, `auth`, `bad_request`, `balance`, `fault`); abort: the phase it was in. */
  reason?: string;
  /** reject (429): the count the server saw and the cap it applied. */
  concurrency?: number;
  cap?: number;
  /** start, timeout, and abort of a queued request: time from admission to start of inference (or to the end), ms. */
  queued_ms?: number;
  /** finish: output tokens sent; fault: the fault that shaped the response, if any. */
  tokens?: number;
  fault?: string;
  /** finish: `ok`, or `fault` when a fault ended it early. */
  outcome?: 'ok' | 'fault';
}

/** A listener receiving every event. */
export type MockEventListener = (e: MockEvent) => void;

/** Fans events out to listeners. */
export class EventBus {
  private readonly listeners = new Set<MockEventListener>();

  /** True while at least one listener is attached (check before building an event). */
  get active(): boolean {
    return this.listeners.size > 0;
  }

  /** Adds a listener; returns its removal. */
  subscribe(l: MockEventListener): () => void {
    this.listeners.add(l);
    return () => {
      this.listeners.delete(l);
    };
  }

  emit(e: MockEvent): void {
    for (const l of this.listeners) {
      try {
        l(e);
      } catch {
        // A faulty listener must not break the mock.
      }
    }
  }
}

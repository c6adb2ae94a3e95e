/**
 * A model's open requests, and how dsprobe retires them without losing an answer (step down, refresh, stop).
 *
 * Retiring is not cutting: a request whose status line has arrived is cut at once (it keeps that status), one still
 * unanswered is cut the moment its status arrives, and one that stays unanswered for a grace is cut and recorded as
 * "before any answer". Until then it stays in flight, so nothing new is launched in its place.
 */
import type { Clock } from '../time/clock.js';
import { withoutStacks } from '../transport/quiet-abort.js';
import { AbortHandle } from '../transport/abort.js';
import type { Exchange } from '../transport/exchange.js';
import type { StepRecorder } from '../measure/recorder.js';

/** One request on the wire, as the driver tracks it. */
export interface Open {
  /**
   * Its abort: the exchange itself when an in-process prober started it (Prober.start), else the AbortHandle its
   * prober listens to (an AbortController per request cost ~9 µs with its listener); null only while it starts.
   */
  ctl: Exchange | AbortHandle | null;
  admitted: boolean;
  /** 429s in a row of the slot this request fills (0 once a request of the slot was admitted). */
  attempt: number;
  /** The status line arrived (whatever it said): from then on an abort keeps that status. */
  answered: boolean;
  /** Why dsprobe aborted it, when it did. */
  ownAbort?: string;
  /** dsprobe wants it gone (step down, stop) but waits for its status first: cut once answered, or at the grace end. */
  retiring?: string;
  /** Cut by dsprobe before the status line arrived. */
  cutUnanswered?: boolean;
  keyIndex: number;
  userId: string;
  /** Its first token already fed the live TTFT. */
  ttftLive?: boolean;
  /** Status lines seen (this model) when it was sent, and requests then open without one (itself excluded). */
  headersAtSend: number;
  unansweredAtSend: number;
  /** At least this many requests sent after it had their status line first (see Sample.overtaken_by). */
  overtakenBy?: number;
  /** The step it was sent in (its figures count there). */
  rec: StepRecorder;
  /** Its place in the model's admissions (1 for the first admitted), or 0 while not admitted. */
  admitSeq: number;
  /** Characters of its prompt (system prefix included), for a usage estimate when the server reported none. */
  promptChars: number;
}

/**
 * How long a request being retired (step down, stop) may wait for its status line before dsprobe cuts it
 * unanswered. A capped server answers (200 or 429) within a round trip; only a request stuck behind a queue that
 * sends nothing (a proxy's queue) waits the whole grace, and is then recorded as cut "before any answer".
 */
export const RETIRE_GRACE_US = 1_000_000;

/** Suffix of `detail` for requests dsprobe cut before any status line arrived (e.g. `step_down_before_any_answer`). */
export const BEFORE_ANY_ANSWER = '_before_any_answer';

/** The open requests of one model, by id (ids grow with send order). */
export class OpenRequests {
  readonly byId = new Map<number, Open>();
  private readonly clock: Clock;

  constructor(clock: Clock) {
    this.clock = clock;
  }

  /** Requests being retired but still open (waiting for their status). */
  retiringCount(): number {
    let n = 0;
    for (const o of this.byId.values()) if (o.retiring) n++;
    return n;
  }

  /**
   * Retires the newest `n` open requests without losing an answer (see the module comment). Retiring them all (a
   * stop, a cut level) also cuts the refused ones whose body is still arriving; otherwise they are left to end.
   */
  retireNewest(n: number, reason: string, graceUs: number): void {
    const all = n >= this.byId.size;
    const ids = [...this.byId.keys()].sort((a, b) => b - a);
    const waiting: Open[] = [];
    for (const id of ids) {
      if (n <= 0) break;
      const o = this.byId.get(id);
      if (!o || o.ownAbort || o.retiring) continue;
      // Refused (a 429 whose body is still arriving): it ends on its own and its slot stays the level's (refilled
      // at once or after its backoff), so retiring it would free nothing; counted, it left an admitted request
      // open in its place (a refresh then sent nothing fresh).
      if (o.answered && !o.admitted) {
        if (all) {
          o.retiring = reason;
          cut(o);
        }
        continue;
      }
      n--;
      o.retiring = reason;
      if (o.answered) cut(o);
      else if (graceUs <= 0) {
        o.cutUnanswered = true;
        cut(o);
      } else waiting.push(o);
    }
    if (!waiting.length) return;
    void this.clock.sleepUntil(this.clock.nowUs() + graceUs).then(async () => {
      // A late timer (a busy loop) may fire before the socket reads that carry the status: let two I/O phases run
      // first, so an answer already on the wire is read, not cut.
      await new Promise((r) => setImmediate(r));
      await new Promise((r) => setImmediate(r));
      for (const o of waiting) {
        if (o.answered || o.ownAbort) continue;
        o.cutUnanswered = true;
        cut(o);
      }
    });
  }

  /** Cuts what was not admitted (refused, failed, or unanswered after the grace): a drain waits for admitted requests only. */
  cutUnadmitted(reason: string, graceUs: number): void {
    const later: Open[] = [];
    const cutNow = (o: Open) => {
      if (o.admitted || o.ownAbort) return;
      o.retiring = reason;
      if (!o.answered) o.cutUnanswered = true;
      cut(o);
    };
    for (const o of this.byId.values()) {
      if (o.admitted || o.ownAbort || o.retiring) continue;
      if (o.answered) cutNow(o);
      else later.push(o);
    }
    if (!later.length) return;
    void this.clock.sleepUntil(this.clock.nowUs() + graceUs).then(() => later.forEach(cutNow));
  }
}

/** Aborts `o` with its retiring reason (once). */
export function cut(o: Open): void {
  if (o.ownAbort) return;
  o.ownAbort = o.retiring ?? 'stopped';
  // A reason of our own and no stacks: a cut level aborts thousands at once (transport/quiet-abort.ts).
  withoutStacks(() => {
    const c = o.ctl;
    if (c instanceof AbortHandle) c.abort();
    else c?.abortByCaller();
  });
}

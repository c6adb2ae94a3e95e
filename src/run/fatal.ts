/**
 * Fatal answers: a status that retrying cannot fix (400 bad model or request, 401/403 refused key, 402 balance,
 * 404 wrong path) answered to the first requests of a model (or of a key) means every further request would get
 * it too. The run stops at once with the server's own words instead of sending a flood of doomed requests.
 */
import type { Sample } from '../types.js';
import { REDACTED, looksSecret } from '../scenario/redact.js';
import { makeScrubber } from '../secrets.js';

/** Statuses that end a model (400, 404) or the whole run (401, 402, 403) when its first requests all get them. */
const FATAL = new Set([400, 401, 402, 403, 404]);
/** Statuses about the account or the key: they end the whole run. */
const RUN_WIDE = new Set([401, 402, 403]);

/** The same fatal answer this many times, with nothing else seen first, ends the model (or the run). */
export const FATAL_AFTER = 3;

/** True for a status that no retry can fix. */
export function isFatalStatus(status: number): boolean {
  return FATAL.has(status);
}

/** What to stop, and the message to print (the server's text verbatim, secrets redacted). */
export interface FatalVerdict {
  scope: 'model' | 'run';
  model: string;
  status: number;
  message: string;
}

/** Replaces every known secret (src/secrets.ts), and anything that looks like one, in a server's text. */
export function redactSecrets(text: string, secrets: readonly string[]): string {
  return makeScrubber(secrets)
    .scrub(text)
    .split(/(\s+)/)
    .map((w) => (looksSecret(w.replace(/[.,;:)"']+$/, '')) ? REDACTED : w))
    .join('');
}

interface Watch {
  /** A non-fatal answer was seen: this model (or key) works, later fatal answers are data, not a verdict. */
  cleared: boolean;
  answer: string;
  count: number;
}

/**
 * Watches the first answers of each model (400/404) and of each key (401/402/403). Feed it every sample;
 * it returns a verdict once the first answers were the same fatal one FATAL_AFTER times.
 */
export class FatalWatch {
  private readonly byModel = new Map<string, Watch>();
  private readonly byKey = new Map<number, Watch>();

  constructor(
    /** Environment variable names of the keys, by key index (named in messages; never the keys). */
    private readonly keyEnv: readonly string[],
    /** The keys themselves, only to redact them from server text. */
    private readonly secrets: readonly string[],
  ) {}

  observe(s: Sample): FatalVerdict | null {
    if (s.status === undefined) return null; // no answer (network, timeout, own abort): not evidence either way
    const fatal = isFatalStatus(s.status);
    const runWide = RUN_WIDE.has(s.status);
    const m = this.slot(this.byModel, s.model);
    const k = this.slot(this.byKey, s.key_index);
    if (!fatal) {
      m.cleared = true;
      k.cleared = true;
      return null;
    }
    const w = runWide ? k : m;
    if (w.cleared) return null;
    const answer = `${s.status}|${s.error ?? ''}`;
    if (w.answer !== answer) {
      w.answer = answer;
      w.count = 0;
    }
    if (++w.count < FATAL_AFTER) return null;
    w.cleared = true; // one verdict per model / key
    const said = s.error ? `: ${redactSecrets(s.error, this.secrets)}` : ' (no message)';
    const who = runWide
      ? `the key in ${this.keyEnv[s.key_index] ?? `key #${s.key_index}`} was refused (${s.model})`
      : `model ${s.model} was refused`;
    return {
      scope: runWide ? 'run' : 'model',
      model: s.model,
      status: s.status,
      message: `${who}: HTTP ${s.status} on its first ${FATAL_AFTER} requests, the server said${said}`,
    };
  }

  private slot<K>(map: Map<K, Watch>, key: K): Watch {
    let w = map.get(key);
    if (!w) map.set(key, (w = { cleared: false, answer: '', count: 0 }));
    return w;
  }
}

/**
 * The run's verdict, as the HTML header badge and the verdict box show it: worse news first.
 *
 * - `failed` (red): a threshold failed, or the run itself failed / ran over its budget / was aborted by a threshold;
 * - `interrupted` (amber): stopped early by the user, figures cover what ran;
 * - `client-bound` (amber): some level was limited by dsprobe itself (steps[].client_bound, when the run
 *   recorded it), so latency there may be dsprobe's, not the server's;
 * - `passed` (green): every threshold held; `completed` (green) when there were none.
 */
import type { Report, ThresholdResult } from '../types.js';

export type RunVerdict = 'failed' | 'interrupted' | 'client-bound' | 'passed' | 'completed';

export interface VerdictInfo {
  verdict: RunVerdict;
  /** `bad` red, `warn` amber, `ok` green. */
  tone: 'bad' | 'warn' | 'ok';
  failed: ThresholdResult[];
  /** `model @ level` of every client-bound step. */
  clientBound: string[];
  /** One sentence. */
  words: string;
}

/** The verdict of a report (see the module comment). */
export function runVerdict(r: Report): VerdictInfo {
  const failed = r.thresholds.filter((t) => !t.passed);
  const clientBound = r.models.flatMap((m) =>
    m.steps.filter((s) => (s as { client_bound?: unknown }).client_bound === true).map((s) => `${m.model} at ${s.target_inflight.toLocaleString('en-US')} in flight`),
  );
  const runBad = r.status === 'failed' || r.status === 'budget_exceeded' || r.status === 'aborted_by_threshold';
  const n = (k: number, w: string) => `${k} ${w}${k === 1 ? '' : 's'}`;
  if (failed.length || runBad) {
    const parts: string[] = [];
    if (runBad) parts.push(`the run ended ${r.status.replace(/_/g, ' ')}${r.status_reason ? ` (${r.status_reason})` : ''}`);
    if (failed.length) parts.push(`${failed.length} of ${n(r.thresholds.length, 'threshold')} failed`);
    return { verdict: 'failed', tone: 'bad', failed, clientBound, words: `Failed: ${parts.join('; ')}.` };
  }
  if (r.status === 'interrupted') {
    return { verdict: 'interrupted', tone: 'warn', failed, clientBound, words: `Interrupted${r.status_reason ? ` (${r.status_reason})` : ''}: the figures cover what ran before it stopped.` };
  }
  if (clientBound.length) {
    return { verdict: 'client-bound', tone: 'warn', failed, clientBound, words: `Client-bound: dsprobe itself limited ${n(clientBound.length, 'level')}; latency there may be dsprobe's, not the server's.` };
  }
  if (r.thresholds.length) return { verdict: 'passed', tone: 'ok', failed, clientBound, words: `Passed: all ${n(r.thresholds.length, 'threshold')} held.` };
  return { verdict: 'completed', tone: 'ok', failed, clientBound, words: 'Completed; no thresholds were set.' };
}

/**
 * Runs the real CLI against a truth server and pairs every request of the server's log with dsprobe's sample
 * (by trace id), so tests can assert per request that what dsprobe recorded is what the server did.
 */
import path from 'node:path';
import { dsprobe, readReport, readSamples, tmpDir, writeScenario } from '../helpers/cli.js';
import type { Report, Sample } from '../../src/types.js';
import type { LogEntry, TruthServer } from './deepseek-like.js';

export interface TruthRun {
  report: Report;
  samples: Sample[];
  /** The run's log entries (pre-flight left out). */
  log: LogEntry[];
  code: number | null;
  stderr: string;
  /** Server log entries that sent a status and the sample that holds it (undefined: the answer was lost). */
  pairs: { entry: LogEntry; sample: Sample | undefined }[];
}

/** Runs `dsprobe run` with the given scenario body (everything after `target:`), keys from env. */
export async function runAgainst(server: TruthServer, scenario: string, env: Record<string, string> = { TRUTH_KEY: 'sk-truth-0' }): Promise<TruthRun> {
  const dir = tmpDir('dsprobe-truth-');
  const file = writeScenario(dir, 'truth.yaml', scenario.replace('URL', server.url));
  const out = path.join(dir, 'out');
  // These runs judge what dsprobe says about the server; its own client-bound verdict (a 20 ms worst-interval loop
  // p99, tripped by a single pause on a shared machine) is tested apart (test/engine/client-bound-cap.test.ts).
  const r = await dsprobe(['run', file, '--out', out, '--yes', '--quiet', '--no-html'], { env: { DSPROBE_TEST_CLIENT_LAG_LIMIT_MS: '1000000', ...env } });
  if (r.code !== 0 && r.code !== 99) throw new Error(`dsprobe exited ${r.code}: ${r.stderr.slice(0, 2000)}`);
  const report = readReport(out);
  const samples = readSamples(out);
  const byTrace = new Map(samples.filter((s) => s.trace_id).map((s) => [s.trace_id as string, s]));
  const log = server.log.filter((e) => !e.preflight);
  const pairs = log.filter((e) => e.status !== undefined).map((entry) => ({ entry, sample: byTrace.get(entry.trace) }));
  return { report, samples, log, code: r.code, stderr: r.stderr, pairs };
}

/** Counts over a run: 429s the server sent vs 429s dsprobe recorded, and answers dsprobe lost or mis-recorded. */
export function tally(t: TruthRun): { sent429: number; recorded429: number; lost: number; wrong: number } {
  const sent429 = t.log.filter((e) => e.status === 429).length;
  const recorded429 = t.samples.filter((s) => s.status === 429).length;
  const lost = t.pairs.filter((p) => !p.sample).length;
  const wrong = t.pairs.filter((p) => p.sample && p.sample.status !== p.entry.status).length;
  return { sent429, recorded429, lost, wrong };
}

/**
 * Reading samples.ndjson (written by cli/samples-file.ts): the header line and one Sample per line.
 */
import type { Sample } from '../types.js';
import type { SamplesHeader, StepEndMarker, StepMarker } from './build.js';

/** Reads samples.ndjson back: the header and the samples (a torn last line is skipped, not fatal). */
export function parseSamples(text: string): { header: SamplesHeader | null; samples: Sample[]; steps: StepMarker[]; ends: StepEndMarker[]; skipped: number } {
  const lines = text.split('\n');
  let header: SamplesHeader | null = null;
  const samples: Sample[] = [];
  const steps: StepMarker[] = [];
  const ends: StepEndMarker[] = [];
  let skipped = 0;
  for (const line of lines) {
    if (!line.trim()) continue;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch {
      skipped++;
      continue;
    }
    const kind = v && typeof v === 'object' ? (v as { kind?: string }).kind : undefined;
    if (kind === 'dsprobe.samples/v1') header = v as SamplesHeader;
    else if (kind === 'step') steps.push(v as StepMarker);
    else if (kind === 'step_end') ends.push(v as StepEndMarker);
    else samples.push(v as Sample);
  }
  return { header, samples, steps, ends, skipped };
}

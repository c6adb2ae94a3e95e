/**
 * samples.ndjson as `dsprobe run` streams it: whole lines, flushed in bounded pieces (never one long synchronous
 * write that would hold the event loop), every secret scrubbed, everything on disk at close.
 */
import { describe, expect, test } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openSamplesFile } from '../../src/cli/samples-file.js';
import { makeScrubber } from '../../src/secrets.js';
import type { Sample, SamplesHeader } from '../../src/types.js';

const header = { kind: 'dsprobe.samples/v1', name: 't', started_at: '2026-12-02T00:00:00.000Z', seed: 1, mode: 'ramp', target: { url: 'x', protocol: 'openai', mock: true }, scenario: {}, models: [], pricing: {} } as unknown as SamplesHeader;
const sample = (id: number, error?: string): Sample => ({ id, model: 'm', step: 0, target_inflight: 1, key_index: 0, intended_us: 0, sent_us: 0, keepalives: 0, end_us: 1, outcome: error ? 'network' : 'ok', inflight_at_send: 1, ...(error ? { error } : {}) });

describe('samples file', () => {
  test('flushes in pieces of a few hundred lines as samples arrive, scrubs secrets, and holds every line at close', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dsprobe-samples-test-'));
    const file = path.join(dir, 'samples.ndjson');
    const secret = 'sk-test-0123456789abcdef';
    const f = openSamplesFile(file, header, { scrub: makeScrubber([secret]).scrub });
    try {
      for (let i = 0; i < 1000; i++) f.write(sample(i, i === 7 ? `refused with ${secret}` : undefined));
      // No timer has run yet (all of this is synchronous): what is on disk was flushed by count.
      const early = fs.readFileSync(file, 'utf8').split('\n').filter(Boolean);
      expect(early.length).toBeGreaterThanOrEqual(1 + 768);
      expect(early.length).toBeLessThan(1 + 1000);
      // Whole lines only, each a JSON record.
      for (const l of early) expect(() => JSON.parse(l)).not.toThrow();
      f.close();
      const all = fs.readFileSync(file, 'utf8').split('\n').filter(Boolean);
      expect(all.length).toBe(1 + 1000);
      expect(all.join('\n')).not.toContain(secret);
      expect((JSON.parse(all[8] as string) as Sample).error).toMatch(/redacted/);
    } finally {
      f.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

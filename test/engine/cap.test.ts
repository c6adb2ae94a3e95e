import { describe, expect, test } from 'vitest';
import { estimateCap } from '../../src/measure/cap.js';
import { StepRecorder } from '../../src/measure/recorder.js';
import type { Sample, StepReport } from '../../src/types.js';

/** A step at `level` where `limited` requests got 429 and the server was seen holding `held`. */
function step(index: number, level: number, limited: number, held: number, opts: { queued?: number; reported?: number; model?: string } = {}): StepReport {
  const rec = new StepRecorder(opts.model ?? 'deepseek-v4-flash', index, level, index * 1000, 0);
  rec.admitted(held);
  // The held requests were sent in this step: fresh admissions (the driver reports each one).
  if (held > 0) rec.freshAdmission(held, index * 1000 + 100);
  const base: Sample = { id: 0, model: 'm', step: index, target_inflight: level, key_index: 0, intended_us: 0, sent_us: 0, keepalives: 0, end_us: 1000, outcome: 'ok', inflight_at_send: 1 };
  for (let i = 0; i < held; i++) {
    const q = i < (opts.queued ?? 0);
    // Queued requests were sent with more in flight than the unqueued ones (queueing begins at level - queued + 1).
    rec.add({ ...base, status: 200, first_token_us: 500, keepalives: q ? 3 : 0, first_keepalive_us: q ? 10 : undefined, first_data_us: q ? 400 : undefined, inflight_at_send: q ? level - i : 1 });
  }
  for (let i = 0; i < limited; i++) rec.add({ ...base, status: 429, outcome: 'rate_limited', server_concurrency: opts.reported ?? held, error: 'Too many requests' });
  rec.endUs = index * 1000 + 900;
  return rec.report(index * 1000 + 900);
}

describe('estimateCap', () => {
  test('a clean cliff: bracket, estimate, server figure, documented headroom', () => {
    const c = estimateCap([step(0, 1000, 0, 1000), step(1, 2000, 0, 2000), step(2, 4000, 1500, 2500), step(3, 2500, 0, 2500), step(4, 2501, 1, 2500)]);
    expect(c).toMatchObject({ status: 'found', low: 2500, high: 2501, estimate: 2500, server_reported: 2500, documented: 2500, headroom: 0, edge: 'cliff', moved: false });
    expect(c.evidence.join(' ')).toMatch(/2500 in flight drew no 429; 2501 drew 1 of/);
  });

  test('a ramp with coarse steps uses what the server held on the 429 level', () => {
    const c = estimateCap([step(0, 450, 0, 450), step(1, 500, 0, 500), step(2, 550, 40, 512, { model: 'deepseek-v4-pro', reported: 9999 })]);
    expect(c).toMatchObject({ status: 'found', low: 500, high: 550, estimate: 512 });
  });

  test('inside a coarse bracket the server\'s own figure wins over the client-side held count', () => {
    // The client saw 2503 admitted at once (a freed slot is seen free a moment late); the server said 2500.
    const c = estimateCap([step(0, 2450, 0, 2450), step(1, 2500, 0, 2500), step(2, 2550, 40, 2503, { reported: 2500 })]);
    expect(c).toMatchObject({ status: 'found', low: 2500, high: 2550, estimate: 2500, server_reported: 2500 });
  });

  test('a level kept in flight for its whole step without a 429 counts as held even if never seen admitted at once', () => {
    // Non-streaming: headers only at the end, so the held count stays low; the client kept 30 in flight throughout.
    const clean = { ...step(0, 30, 0, 2), achieved_inflight: 29.9 };
    const thin = { ...step(1, 40, 0, 2), achieved_inflight: 30 };
    expect(estimateCap([clean, step(2, 31, 3, 2)])).toMatchObject({ status: 'found', low: 30, high: 31, estimate: 30 });
    // Kept only three quarters in flight: proves only what the server was seen holding.
    expect(estimateCap([thin, step(3, 50, 3, 2)]).low).toBe(2);
  });

  test('no 429 anywhere: not_reached', () => {
    expect(estimateCap([step(0, 10, 0, 10), step(1, 20, 0, 20)])).toMatchObject({ status: 'not_reached', high: null, estimate: null, low: 20 });
  });

  test('the first level already drew 429s: unclear, with what the server held', () => {
    const c = estimateCap([step(0, 100, 60, 40)]);
    expect(c).toMatchObject({ status: 'unclear', high: 100, estimate: 40 });
    expect(c.evidence[0]).toMatch(/other traffic|below it/);
  });

  test('a level that flips between runs of it marks the cap as moved and the edge noisy', () => {
    const c = estimateCap([step(0, 300, 0, 300), step(1, 301, 5, 300), step(2, 300, 0, 300), step(3, 301, 0, 301), step(4, 302, 3, 301)]);
    expect(c.moved).toBe(true);
    expect(c.edge).toBe('noisy');
    expect(c.low).toBe(301);
  });

  test('a drop read only from what the server once held over the cap, then noise at one level: a noisy edge spanning both', () => {
    // As an independent server drawing its limit from 45..55 per admission answered: it held 55 at once while
    // levels 80 and 55 drew 429s, refused at 47, then 46 was clean, over, and clean again. The search gave up.
    const levels: [number, number, number][] = [[5, 0, 5], [10, 0, 10], [20, 0, 20], [40, 0, 40], [80, 30, 55], [55, 4, 55], [47, 1, 46], [46, 0, 46], [46, 1, 45], [23, 0, 23], [34, 0, 34], [40, 0, 40], [45, 0, 45], [46, 0, 46]];
    const c = estimateCap(levels.map(([l, r, h], i) => step(i, l, r, h)), { unclear: true });
    expect(c.edge).toBe('noisy');
    expect(c.unclear_reason).not.toBe('moving');
    // The band spans the drop: from what the server held on the noisy level's refusal (45) to what it once held.
    expect(c.band).toEqual([45, 55]);
    expect(c).toMatchObject({ status: 'found', estimate: 44 });
    expect(c.evidence.join(' ')).not.toMatch(/kept moving/);
    // The same drop from a level proven clean at 55 is a cap that moved: a clean level is no draw.
    const proven: [number, number, number][] = [[5, 0, 5], [10, 0, 10], [20, 0, 20], [40, 0, 40], [55, 0, 55], [47, 1, 46], [46, 0, 46], [46, 1, 45], [23, 0, 23], [34, 0, 34], [40, 0, 40], [45, 0, 45], [46, 0, 46]];
    const m = estimateCap(proven.map(([l, r, h], i) => step(i, l, r, h)), { unclear: true });
    expect(m).toMatchObject({ status: 'unclear', unclear_reason: 'moving' });
    expect(m.evidence.join(' ')).toMatch(/dropped from ~55 to ~4\d/);
  });

  test('a level over the cap with no admission of its own shows no cap of 0: the contradiction stays noise', () => {
    // As the independent server drawing its limit from 45..55 answered (2026-12-03): the search's last level, 46,
    // drew a 429 before any request sent at it was admitted, after 46 had been clean. Read as "dropped to ~0".
    const levels: [number, number, number][] = [[5, 0, 5], [10, 0, 10], [20, 0, 20], [40, 0, 40], [80, 30, 55], [55, 3, 55], [47, 0, 47], [51, 2, 50], [49, 1, 48], [48, 0, 48], [48, 1, 47], [24, 0, 24], [36, 0, 36], [42, 0, 42], [45, 0, 45], [46, 0, 46], [47, 0, 47], [47, 1, 46], [23, 0, 23], [35, 0, 35], [41, 0, 41], [44, 0, 44], [45, 0, 45], [46, 0, 46], [46, 1, 0]];
    const c = estimateCap(levels.map(([l, r, h], i) => step(i, l, r, h)), { unclear: true });
    expect(c.moves?.every((m) => m.to > 0 && m.from > 0)).toBe(true);
    expect(c.evidence.join(' ')).not.toMatch(/~0\b/);
    expect(c.edge).toBe('noisy');
    expect(c.band![0]).toBeGreaterThanOrEqual(45);
    expect(c.band![1]).toBeLessThanOrEqual(55);
    expect(c.status).toBe('found');
    // Another such run: refused at 47, clean from 43 to 47, then a climb again that the server refused from 160 down
    // to 49 (holding up to 55 at once), 48 clean and over. A rise to what was held on refused levels is a draw too.
    const again: [number, number, number][] = [[5, 0, 5], [10, 0, 10], [20, 0, 20], [40, 0, 40], [80, 30, 55], [55, 3, 55], [47, 1, 46], [43, 0, 43], [44, 0, 44], [45, 0, 45], [46, 0, 46], [46, 0, 46], [47, 0, 47], [160, 110, 55], [103, 50, 55], [75, 25, 55], [61, 8, 55], [55, 2, 54], [51, 2, 50], [49, 1, 48], [48, 0, 48], [48, 1, 47]];
    const a = estimateCap(again.map(([l, r, h], i) => step(i, l, r, h)), { unclear: true });
    expect(a.unclear_reason).not.toBe('moving');
    expect(a.edge).toBe('noisy');
    expect(a.band![0]).toBeGreaterThanOrEqual(45);
    expect(a.band![1]).toBeLessThanOrEqual(55);
  });

  test('noise at an edge the cap has since dropped from is not the edge at the end: a cliff there, and the drop', () => {
    // 57 clean, then noise at 57/58; then the cap drops to 38 and the search brackets 38/39 cleanly.
    const levels: [number, number, number][] = [[5, 0, 5], [10, 0, 10], [20, 0, 20], [40, 0, 40], [80, 20, 57], [57, 0, 57], [58, 1, 57], [57, 1, 56], [56, 0, 56], [56, 10, 38], [28, 0, 28], [33, 0, 33], [36, 0, 36], [38, 0, 38], [39, 1, 38]];
    const c = estimateCap(levels.map(([l, r, h], i) => step(i, l, r, h)));
    expect(c).toMatchObject({ status: 'found', estimate: 38, edge: 'cliff', band: null, moved: true });
    expect(c.evidence.join(' ')).toMatch(/dropped from ~5\d to ~38/);
    expect(c.evidence.join(' ')).not.toMatch(/edge: noisy/);
    // The same noise at the end's edge is a noisy edge.
    const late: [number, number, number][] = [...levels, [38, 1, 37], [37, 0, 37], [38, 0, 38], [39, 1, 38]];
    const n = estimateCap(late.map(([l, r, h], i) => step(i, l, r, h)));
    expect(n.edge).toBe('noisy');
    expect(n.band![0]).toBeGreaterThanOrEqual(37);
    expect(n.band![1]).toBeLessThanOrEqual(39);
  });

  test('queueing onset is the lowest in-flight count at send of a request that got keep-alives', () => {
    // Step 1 (level 20): queued requests sent at 20..16 in flight; step 2 (level 40): at 40..16.
    const c = estimateCap([step(0, 10, 0, 10), step(1, 20, 0, 20, { queued: 5 }), step(2, 40, 0, 40, { queued: 25 })]);
    expect(c.queueing_began_at).toBe(16);
  });

  test('a server figure that disagrees with the measurement is called out', () => {
    const c = estimateCap([step(0, 50, 0, 50), step(1, 100, 30, 70, { reported: 95 }), step(2, 70, 0, 70), step(3, 71, 1, 70, { reported: 95 })]);
    expect(c.server_reported).toBe(95);
    expect(c.evidence.join(' ')).toMatch(/other traffic may share/);
  });
});

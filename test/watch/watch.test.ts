/**
 * `dsprobe watch` against a mock whose caps move on a schedule (steps for flash, a sine for pro, time-scaled).
 * The test samples the mock's own effective cap and billing throughout (ground truth, independent of what
 * dsprobe measured) and holds every probe against them.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startMock, type MockHandle, type MockState } from '../../src/mock/index.js';
import { dsprobe, tmpDir, writeScenario } from '../helpers/cli.js';
import type { WatchRecord } from '../../src/report/watch.js';

const FLASH = 'deepseek-v4-flash';
const PRO = 'deepseek-v4-pro';
const mocks: MockHandle[] = [];
afterEach(async () => {
  await Promise.all(mocks.splice(0).map((m) => m.close()));
});

const readRecords = (dir: string): WatchRecord[] =>
  fs.readFileSync(path.join(dir, 'watch.ndjson'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as WatchRecord);

const scenarioFor = (url: string, extra = '') => `name: watch-test
target: { url: "${url}" }
models:
  ${FLASH}: {}
  ${PRO}: {}
load: { mode: search, start: 5, max: 400, hold: 5s }
probe: { mode: cheap, settle: 50ms }
budget: { max_usd: 0.05 }
${extra}`;

/** What the mock says at one moment: wall time, each model's effective cap, dollars billed so far. */
interface Truth {
  t: number;
  caps: Record<string, number>;
  usd: number;
}

function truthOf(s: MockState): Truth {
  const acc = s.accounts.find((a) => a.name === 'default')!;
  let usd = 0;
  for (const m of Object.values(s.billing['default'] ?? {})) usd += m.usd;
  return { t: Date.now(), caps: { [FLASH]: acc.models[FLASH]!.cap, [PRO]: acc.models[PRO]!.cap }, usd };
}

describe('dsprobe watch', () => {
  it('tracks a cap that moves in steps and along a sine within 5% at every probe, each probe billed within budget, warm probes cheaper than cold', async () => {
    const mock = await startMock(
      {
        time_scale: 0.25,
        caps: { [FLASH]: 60, [PRO]: 40 },
        schedules: [
          { kind: 'steps', model: FLASH, steps: [{ at: 0, cap: 60 }, { at: '20s', cap: 40 }, { at: '40s', cap: 70 }] },
          { kind: 'sine', model: PRO, min: 20, max: 40, period: '240s' },
        ],
      },
      { isolate: true },
    );
    mocks.push(mock);
    const truths: Truth[] = [];
    let polling = true;
    const poller = (async () => {
      while (polling) {
        truths.push(truthOf(await mock.state()));
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    const dir = tmpDir();
    const file = writeScenario(dir, 'w.yaml', scenarioFor(mock.url));
    const out = path.join(dir, 'out');
    // Client-bound retries on a loaded machine would add levels to a probe: not this test's subject.
    const r = await dsprobe(['watch', file, '--every', '1s', '--for', '13s', '--out', out, '--yes'], { env: { DEEPSEEK_API_KEY: 'sk-test', DSPROBE_TEST_CLIENT_LAG_LIMIT_MS: '1000000' } });
    polling = false;
    await poller;
    truths.push(truthOf(await mock.state()));
    expect(r.code, r.stderr).toBe(0);
    const recs = readRecords(out);
    const probes = [...new Set(recs.map((x) => x.probe))];
    expect(probes.length).toBeGreaterThanOrEqual(3);
    for (const rec of recs) {
      const t0 = Date.parse(rec.time);
      const t1 = t0 + rec.duration_ms;
      const during = truths.filter((x) => x.t >= t0 - 50 && x.t <= t1 + 50).map((x) => x.caps[rec.model]!);
      expect(during.length, `mock sampled during probe ${rec.probe}`).toBeGreaterThan(0);
      const lo = Math.min(...during);
      const hi = Math.max(...during);
      // A cap that moved during the probe may leave re-checks contradicting each other: the probe then says
      // unclear, but its estimate must still be where the cap was.
      expect(['found', 'unclear'], JSON.stringify(rec)).toContain(rec.status);
      expect(rec.estimate, JSON.stringify(rec)).not.toBeNull();
      expect(rec.estimate!, `${rec.model} probe ${rec.probe}: estimate vs the mock's cap ${lo}..${hi}`).toBeGreaterThanOrEqual(Math.floor(lo * 0.95));
      expect(rec.estimate!).toBeLessThanOrEqual(Math.ceil(hi * 1.05));
    }
    // The watch saw the steps move: at least two of 60, 40 and 70 among flash's estimates.
    const flash = new Set(recs.filter((x) => x.model === FLASH).map((x) => x.estimate));
    expect([60, 40, 70].filter((c) => flash.has(c)).length).toBeGreaterThanOrEqual(2);
    // Each probe's bill (the mock's ground truth, between its start and the next probe) stays within budget.
    for (const p of probes) {
      const t0 = Date.parse(recs.find((x) => x.probe === p)!.time);
      const next = recs.find((x) => x.probe === p + 1);
      const t1 = next ? Date.parse(next.time) : Infinity;
      const before = truths.filter((x) => x.t <= t0).at(-1)?.usd ?? 0;
      const after = truths.filter((x) => x.t < t1).at(-1)!.usd;
      expect(after - before, `probe ${p} billed`).toBeLessThanOrEqual(0.05);
    }
    // Warm start: a probe that found the cap where the previous one left it sent fewer requests than the cold one.
    for (const model of [FLASH, PRO]) {
      const mine = recs.filter((x) => x.model === model);
      expect(mine[0]!.warm).toBe(false);
      const steady = mine.slice(1).filter((x, i) => x.warm && x.estimate === mine[i]!.estimate);
      expect(steady.length, `${model}: probes whose cap did not move`).toBeGreaterThan(0);
      for (const x of steady) expect(x.requests, `${model} probe ${x.probe} (warm) vs probe 1 (cold)`).toBeLessThan(mine[0]!.requests);
    }
    const html = fs.readFileSync(path.join(out, 'watch.html'), 'utf8');
    expect(html).toContain('uPlot');
    expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+href=/);
    expect(html).not.toContain(dir);
  });

  it('--exit-on-fail exits 99 after the first probe that fails a threshold; Ctrl-C writes everything and exits 130', async () => {
    const mock = await startMock({ time_scale: 0.1, caps: { [FLASH]: 30, [PRO]: 10 } }, { isolate: true });
    mocks.push(mock);
    const dir = tmpDir();
    const file = writeScenario(dir, 'w.yaml', scenarioFor(mock.url, `expect:\n  - cap(${FLASH}) >= 100\n`));
    const out = path.join(dir, 'out');
    const r = await dsprobe(['watch', file, '--every', '1h', '--out', out, '--yes', '--exit-on-fail'], { env: { DEEPSEEK_API_KEY: 'sk-test' } });
    expect(r.code, r.stderr).toBe(99);
    expect(r.stderr).toMatch(/watch #1: FAIL cap\(deepseek-v4-flash\) >= 100 \(actual 30\)/);
    const recs = readRecords(out);
    expect(recs.map((x) => [x.probe, x.model, x.estimate, x.thresholds_failed])).toEqual([
      [1, FLASH, 30, [`cap(${FLASH}) >= 100`]],
      [1, PRO, 10, [`cap(${FLASH}) >= 100`]],
    ]);

    const out2 = path.join(dir, 'out2');
    const r2 = await dsprobe(['watch', file, '--every', '1h', '--out', out2, '--yes'], {
      env: { DEEPSEEK_API_KEY: 'sk-test' },
      onOutput: (chunk, child) => {
        if (/watch #1 .*deepseek-v4-pro/.test(chunk)) child.kill('SIGINT');
      },
    });
    expect(r2.code, r2.stderr).toBe(130);
    expect(readRecords(out2).map((x) => x.probe)).toEqual([1, 1]);
    expect(fs.readFileSync(path.join(out2, 'watch.html'), 'utf8')).toContain('deepseek-v4-pro');
  });
});

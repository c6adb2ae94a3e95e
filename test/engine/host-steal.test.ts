/**
 * The host's CPU steal (run/host-cpu.ts): read from /proc/stat, kept per level, and named where dsprobe's lag is
 * judged, since a shared host stalls dsprobe as its own lag would and more threads cannot help that.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { parseProcStat, procStatReader, stealMeter, type HostCpuTicks } from '../../src/run/host-cpu.js';
import { ClientRecorder, clientBoundWhy } from '../../src/measure/client.js';
import { clientBoundWarning } from '../../src/report/build.js';
import type { ModelReport } from '../../src/types.js';
import { runScenario } from '../../src/run/runner.js';
import { buildReport } from '../../src/report/build.js';
import { monotonicClock } from '../../src/time/clock.js';
import { seededRandom } from '../../src/time/random.js';
import type { Scenario } from '../../src/scenario/types.js';
import { fakeServer } from './fake-server.js';
import { dsprobe, readReport, tmpDir, writeScenario } from '../helpers/cli.js';

const quiet = { count: 10, p50: 1, p90: 1, p95: 1, p99: 1, max: 1, mean: 1 };
/** /proc/stat's text with these cumulative ticks (user, nice, system, idle, iowait, irq, softirq, steal, guest, guest_nice). */
const stat = (user: number, idle: number, steal: number) =>
  `cpu  ${user} 10 ${user} ${idle} 5 0 7 ${steal} 40 0\ncpu0 1 2 3 4 5 6 7 8 9 10\nintr 1 2 3\nctxt 99\n`;

describe('host CPU steal', () => {
  test("/proc/stat's cpu line: the steal column, and every column but guest time as the total", () => {
    expect(parseProcStat(stat(100, 1000, 50))).toEqual({ steal: 50, total: 100 + 10 + 100 + 1000 + 5 + 0 + 7 + 50 });
    // Kernels before 2.6.11 had no steal column; anything else is not read.
    expect(parseProcStat('cpu  1 2 3 4 5 6 7\n')).toBeNull();
    expect(parseProcStat('cpu0 1 2 3 4 5 6 7 8\n')).toBeNull();
    expect(parseProcStat('cpu  1 2 3 x 5 6 7 8\n')).toBeNull();
    expect(parseProcStat('')).toBeNull();
  });

  test('a missing file reads as nothing, for good; the meter gives what was stolen between two reads', () => {
    const gone = procStatReader(path.join(tmpDir(), 'no-such-file'));
    expect(gone()).toBeNull();
    const ticks: (HostCpuTicks | null)[] = [{ steal: 10, total: 100 }, { steal: 40, total: 200 }, null, { steal: 90, total: 400 }, { steal: 95, total: 450 }];
    const meter = stealMeter(() => ticks.shift() ?? null);
    expect(meter()).toEqual({ steal: 30, total: 100 });
    expect(meter()).toBeNull();
    // After a read that failed, the next one only starts the count again.
    expect(meter()).toBeNull();
    expect(meter()).toEqual({ steal: 5, total: 50 });
  });

  test("a level keeps the host's steal; a client-bound level names it from 5 %, frozen at its decision", () => {
    expect(new ClientRecorder().report(quiet).client.host_steal).toBeUndefined();
    const c = new ClientRecorder();
    c.steal(30, 100);
    c.steal(0, 100);
    c.steal(Number.NaN, 100); // not read: not counted
    c.loop(0, 45);
    const r = c.report(quiet);
    expect(r.client.host_steal).toBe(0.15);
    expect(r.client_bound).toBe(true);
    expect(r.client.why).toMatch(/45\.0 ms \(> 20 ms\), while the host took 15 % of this machine's CPU time \(steal\)/);
    c.freeze(quiet);
    c.steal(100, 100);
    expect(c.report(quiet).client.host_steal).toBe(0.15);
    expect(clientBoundWhy(45, 0, 20, 0.04)).not.toMatch(/steal/);
    expect(clientBoundWhy(45, 0, 20, 0.05)).toMatch(/5 % of this machine's CPU time \(steal\)/);
    // Not client-bound: the steal is kept, and judges nothing.
    const calm = new ClientRecorder();
    calm.steal(90, 100);
    calm.loop(0, 2);
    expect(calm.report(quiet)).toMatchObject({ client_bound: false, client: { host_steal: 0.9 } });
  });

  test("the run's warning says that a dedicated machine removes the host's part, where more threads cannot", () => {
    const step = (steal?: number) => ({ target_inflight: 2000, client_bound: true, client: { loop_p99_ms: [70], connects: 0, connect_ms: quiet, why: 'x (> 20 ms)', ...(steal !== undefined ? { host_steal: steal } : {}) } });
    const w = clientBoundWarning([{ model: 'flash', steps: [step(0.02), step(0.45)] }] as unknown as ModelReport[], 8) as string;
    expect(w).toMatch(/The host took up to 45 % of this machine's CPU time in them \(CPU steal/);
    expect(w).toMatch(/a dedicated machine or a larger instance removes it/);
    expect(w).toMatch(/--workers N`, up to 7 on this machine/);
    expect(clientBoundWarning([{ model: 'flash', steps: [step(0.02)] }] as unknown as ModelReport[], 8)).not.toMatch(/steal/);
    expect(clientBoundWarning([{ model: 'flash', steps: [step()] }] as unknown as ModelReport[], 8)).not.toMatch(/steal/);
  });

  test("a client-bound run on a stealing host: the levels, the run's loop warning and its client-bound warning name the steal", async () => {
    const clock = monotonicClock();
    const server = fakeServer({ caps: { flash: 37 }, durationMs: 400, clock });
    // The worker reports a saturated loop throughout; the host takes 40 of every 100 ticks meanwhile.
    server.health = async () => ({ connect_us: [], threads: [{ thread: 1, p50_ms: 4000, p99_ms: 5000, max_ms: 6000, busy: 1, gc_max_ms: 0 }] });
    let t = 0;
    const hostCpu = () => ((t += 1), { steal: 40 * t, total: 100 * t });
    const s: Scenario = {
      name: 'stolen',
      target: { url: 'mock', protocol: 'openai', api_key_env: ['K1'], headers: {} },
      models: [{ name: 'flash', weight: 1 }],
      request: { prompt_tokens: 50, max_tokens: 10, stream: true, system_prefix_tokens: 0, thinking: false, user_id: { strategy: 'none' }, timeout_ms: 60_000 },
      load: { mode: 'search', start: 4, max: 400, hold_ms: 2000, precision: 1, growth: 2, recheck: true },
      stop: {}, expect: [], budget: {}, pricing: {}, seed: 1,
    };
    const r = await runScenario(s, { clock, random: seededRandom(1), prober: server, keys: ['a'], mock: true, clientLagLimitMs: 500, hostCpu });
    const loopWarning = "dsprobe's own event-loop delay p99 was 80.0 ms (> 50 ms): latency figures include that much client-side lag.";
    const rep = buildReport(
      {
        name: s.name, startedAt: new Date(0).toISOString(), seed: s.seed, mode: s.load.mode,
        target: { url: 'mock', protocol: 'openai', mock: true, keys: 1 }, scenario: {}, pricing: s.pricing,
        loop: { delay_p50_ms: 10, delay_p99_ms: 80, delay_max_ms: 90, warning: loopWarning }, warnings: [],
      },
      r,
    );
    const steps = rep.models[0]!.steps;
    expect(steps.length).toBeGreaterThan(0);
    for (const st of steps) {
      expect(st.client?.host_steal).toBe(0.4);
      expect(st.client?.why).toMatch(/while the host took 40 % of this machine's CPU time \(steal\)/);
    }
    expect(rep.warnings).toContain(`${loopWarning} The host took up to 40 % of this machine's CPU time in a level (CPU steal): part of that lag was the host's.`);
    expect(rep.warnings.some((w) => /client-bound.*The host took up to 40 %/.test(w))).toBe(true);
  });

  test('a run on a host that steals 30 % of the CPU: every level reports it, and the summary line names it', async () => {
    const dir = tmpDir();
    const file = writeScenario(
      dir,
      'steal.yaml',
      `
name: steal
target: { url: mock }
models: { deepseek-v4-flash: {} }
request: { prompt_tokens: 20, max_tokens: 20, stream: true }
load: { mode: ramp, start: 4, step: 4, max: 8, hold: 1s }
mock: { latency: { answer_tokens: 20, inter_token: 5ms } }
seed: 3
`,
    );
    // A stand-in for /proc/stat, moved on every 20 ms (written whole, then renamed): 30 of every 100 ticks stolen.
    const fake = path.join(dir, 'stat');
    let t = 0;
    const write = () => {
      t++;
      fs.writeFileSync(`${fake}.new`, `cpu  ${70 * t} 0 0 0 0 0 0 ${30 * t} 0 0\n`);
      fs.renameSync(`${fake}.new`, fake);
    };
    write();
    const timer = setInterval(write, 20);
    const out = path.join(dir, 'out');
    try {
      const r = await dsprobe(['run', file, '--out', out, '--no-html'], { env: { DSPROBE_TEST_PROC_STAT: fake } });
      expect(r.stderr).not.toMatch(/internal error/);
      const rep = readReport(out);
      // Every level the sampler saw (a level shorter than one 250 ms interval on a loaded machine may have none).
      const steals = rep.models[0]!.steps.map((s) => s.client?.host_steal).filter((v) => v !== undefined);
      expect(steals.length).toBeGreaterThan(0);
      for (const s of steals) expect(s).toBeCloseTo(0.3, 1);
      expect(r.stdout).toMatch(/the host took up to 30 % of this machine's CPU time \(steal, at deepseek-v4-flash@\d+\)/);
    } finally {
      clearInterval(timer);
    }
  });
});

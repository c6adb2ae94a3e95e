// `npm run bench -- --part=engine`: dsprobe's engine beside the raw-socket floor (bench/floor.mjs), both against
// the cheap C upstream (bench/upstream.c, built here with cc), in one run, case by case (issue 11's cases 1-4),
// plus the quickstart's loop-delay warning (case 5), and case 4 with stream lengths spread (4v: no target of its
// own; it shows what the lockstep of streams of one length costs the TTFT tail). Each contender runs in a process of its own; the upstream's
// own CPU is printed so it is visibly not the bottleneck, and the machine's load average beside every row, and the
// share of its CPU time the host took meanwhile (CPU steal, /proc/stat: a shared VM's hypervisor running other guests;
// above 10 % in either run, the loop-delay, achieved in-flight and TTFT targets are not judged on it).
// Prints figures and, per case, each of issue 11's targets met or not (a target the floor itself misses in the same
// run is reported as not judged: the machine is the bound then); asserts nothing. Loopback only. dsprobe's loop p99: every thread's over the held window (the
// workers' through Prober.loopSpan); beside it, every contender's busy share per thread (event-loop utilisation) and
// its longest GC pause over the window: what a first token that arrived meanwhile waited behind.
// TTFT is shown beside the upstream's own lateness: how late it wrote first events past its schedule over the
// contender's held window (read from the upstream itself), since no client reads an event before it is written.
//   BENCH_SECONDS=5 (held window per contender, after a 2 s warm-up); BENCH_CASES=1,4 runs only those cases
//   BENCH_PIN=1: the upstream on CPU 0 and each one-thread contender on CPU 1 (`taskset`), so that neither waits for
//   the other's core: a client's own TTFT tail shows apart from the machine's (cases with 2 workers run unpinned).
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { procStatReader } from '../dist/run/host-cpu.js';
import { STEAL_JUDGE_SHARE } from '../dist/measure/client.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const seconds = Number(process.env.BENCH_SECONDS ?? 5);
const warmup = 2;
const pin = process.env.BENCH_PIN === '1';
/** `cmd args` run on CPU `cpu` when pinning (and `taskset` exists), else as is. */
function pinned(cpu, cmd, args) {
  return pin && cpu !== null ? ['taskset', ['-c', String(cpu), cmd, ...args]] : [cmd, args];
}

/**
 * The cases: streams, upstream tokens (events = tokens + 2), gap and first-event delay (ms), dsprobe's workers, and
 * the spread of stream lengths (± percent of tokens, seeded; 0: every stream the same length).
 */
const CASES = [
  { name: '1: 2,000 x 21 events (0.9 s)', n: 2000, tokens: 19, gap: 40, first: 100, workers: 1 },
  { name: '2: 2,000 x 5 events', n: 2000, tokens: 3, gap: 200, first: 100, workers: 1 },
  { name: '3: 5,000 x 5 events (1 s), --workers 2', n: 5000, tokens: 3, gap: 300, first: 100, workers: 2 },
  { name: '4: 1,000 x 100 events at 10 ms', n: 1000, tokens: 98, gap: 10, first: 100, workers: 1 },
  { name: '4w: 1,000 x 100 events at 10 ms, --workers 2', n: 1000, tokens: 98, gap: 10, first: 100, workers: 2 },
  // Case 4 with stream lengths spread ±50 % (the same mean): streams of one length, started together, end together
  // once a second, and the waves of ends and refills that makes are this bench's, not a real server's.
  { name: '4v: case 4, stream lengths 49-147 tokens', n: 1000, tokens: 98, gap: 10, first: 100, workers: 1, spread: 50 },
];

function build() {
  const bin = path.join(os.tmpdir(), `dsprobe-bench-upstream-${process.pid}`);
  execFileSync('cc', ['-O2', '-o', bin, path.join(here, 'upstream.c')]);
  return bin;
}

async function startUpstream(bin, c) {
  const [cmd, args] = pinned(c.workers > 1 ? null : 0, bin, ['0', String(c.tokens), String(c.gap), String(c.first), String(c.spread ?? 0)]);
  const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = readline.createInterface({ input: child.stdout });
  const it = lines[Symbol.asyncIterator]();
  const port = Number((await it.next()).value.split(' ')[1]);
  // Its CPU time (µs) and its first-event lateness p50 / p99 (µs) since the last call.
  const stats = async () => {
    child.stdin.write('\n');
    const [cpu, late50, late99] = (await it.next()).value.split(' ').map(Number);
    return { cpu, late50, late99 };
  };
  return { port, stats, close: () => child.stdin.end() };
}

/** The machine's CPU ticks stolen by the host and all of them, as a run reads them (null where not available). */
const hostTicks = procStatReader();

/** The share of the machine's CPU time the host took between two hostTicks() reads, or null. */
const stealBetween = (a, b) => (a && b && b.total > a.total ? (b.steal - a.steal) / (b.total - a.total) : null);

/**
 * From this share of the machine's CPU time taken by the host during a run (CPU steal), its timing figures (loop
 * delay, achieved in-flight, TTFT) say more about the host than about the client: those targets are not judged on
 * it (as `dsprobe compare` does not judge such a run's latency).
 */
const STEAL_LIMIT = STEAL_JUDGE_SHARE;

async function runNode(args, cpu = null) {
  const [cmd, all] = pinned(cpu, process.execPath, args);
  const child = spawn(cmd, all, { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  await once(child, 'close');
  try {
    return JSON.parse(out.trim().split('\n').pop());
  } catch {
    return null;
  }
}

/**
 * Issue 11's targets for case `c`, judged on this run's figures. A target the floor itself misses in the same run
 * (its loop delay, its TTFT beside the upstream's lateness) is one this machine cannot judge now: it says so.
 */
function judge(c, floor, ds) {
  const key = c.name.split(':')[0];
  const out = [];
  const mark = (ok, text) => out.push(`${text} ${ok ? 'met' : 'NOT met'}`);
  // A host that took much of the CPU during either run stalled both clients at random: timing is not judged on it.
  const stolen = Math.max(floor.host_steal ?? 0, ds.host_steal ?? 0);
  const timing = (text, judgeIt) => (stolen >= STEAL_LIMIT ? out.push(`${text}: not judged (the host took ${Math.round(stolen * 100)} % of the CPU time, >= ${STEAL_LIMIT * 100} %)`) : judgeIt());
  const loopMax = Math.max(...ds.loop_p99_ms);
  const floorLoop = Array.isArray(floor.loop_p99_ms) ? Math.max(...floor.loop_p99_ms) : floor.loop_p99_ms;
  const loop = () => {
    const text = `loop p99 ${loopMax} ms < 20`;
    timing(text, () => {
      if (loopMax < 20 || floorLoop < 20) mark(loopMax < 20, text);
      else out.push(`${text}: not judged (the floor's own loop p99 was ${floorLoop} ms)`);
    });
  };
  // Holding a level needs the CPU to launch and read on time: a host that takes it away stalls that too.
  const achieved = () => {
    const text = `achieved ${((100 * ds.achieved_inflight) / c.n).toFixed(1)} % >= 99`;
    timing(text, () => mark(ds.achieved_inflight >= 0.99 * c.n, text));
  };
  const ratio = (a, b) => a / b;
  if (key === '1') {
    const r = ratio(ds.cpu_us_per_request, floor.cpu_us_per_request);
    mark(r <= 1.5, `CPU/request ${r.toFixed(2)}x <= 1.5x`);
    loop();
    achieved();
  } else if (key === '2') {
    const r = ratio(ds.cpu_us_per_request, floor.cpu_us_per_request);
    mark(r <= 2, `CPU/request ${r.toFixed(2)}x <= 2x`);
  } else if (key === '3') {
    achieved();
    loop();
  } else if (key === '4') {
    const r = ratio(ds.cpu_us_per_event, floor.cpu_us_per_event);
    mark(r <= 1.2, `CPU/event ${r.toFixed(2)}x <= 1.2x`);
    if (ds.upstream_late99_ms === null || floor.upstream_late99_ms === null) return [...out, 'TTFT: not judged (no upstream lateness read)'];
    const over = ds.ttft_over_schedule_p99_ms - ds.upstream_late99_ms;
    const floorOver = floor.ttft_over_schedule_p99_ms - floor.upstream_late99_ms;
    const text = `TTFT p99 ${over.toFixed(1)} ms past the upstream's own lateness <= 5 (the floor: ${floorOver.toFixed(1)})`;
    timing(text, () => {
      if (over <= 5 || floorOver <= 5) mark(over <= 5, text);
      else out.push(`${text}: not judged (the floor misses it too: this machine, now, is the bound)`);
    });
  }
  return out;
}

function table(rows) {
  const w = rows[0].map((_, c) => Math.max(...rows.map((r) => String(r[c]).length)));
  return rows.map((r) => r.map((v, c) => (c === 0 ? String(v).padEnd(w[c]) : String(v).padStart(w[c]))).join('  ')).join('\n');
}

export async function enginePart() {
  console.log(`\n== dsprobe's engine vs the raw-socket floor, against a C upstream (${seconds} s held after a ${warmup} s warm-up${pin ? '; upstream pinned to CPU 0, one-thread contenders to CPU 1' : ''}) ==`);
  const bin = build();
  const header = ['case', 'client', 'requests', 'CPU µs/req', 'µs/event', 'loop p99 ms (per thread)', 'busy (per thread)', 'GC max ms', 'achieved', 'TTFT - schedule p50/p99 ms', 'upstream late p50/p99 ms', 'upstream CPU µs/req', 'load avg 1 min', 'host steal'];
  const only = (process.env.BENCH_CASES ?? '').split(',').filter(Boolean);
  try {
    for (const c of CASES.filter((x) => !only.length || only.includes(x.name.split(':')[0]))) {
      const up = await startUpstream(bin, c);
      const events = c.tokens + 2;
      const rows = [header];
      const got = {};
      for (const kind of ['floor', 'floor-onread', 'dsprobe']) {
        const cpu0 = (await up.stats()).cpu;
        const ticks0 = hostTicks();
        const floorArgs = [path.join(here, 'floor.mjs'), String(up.port), String(c.n), String(seconds), String(warmup), String(events), String(c.first)];
        const running =
          kind !== 'dsprobe'
            ? runNode(kind === 'floor' ? floorArgs : [...floorArgs, 'onread'], 1)
            : runNode([path.join(here, 'engine-contender.js'), String(up.port), String(c.n), String(seconds), String(warmup), String(c.workers), String(events), String(c.first)], c.workers > 1 ? null : 1);
        // The upstream's lateness over (about) the held window: cleared when the warm-up ends (the contender's
        // start-up, some 0.5 s, is taken as part of it), read when the contender is done.
        let cleared = false;
        const warm = setTimeout(() => void up.stats().then(() => (cleared = true)), (warmup + 0.5) * 1000);
        const r = await running;
        clearTimeout(warm);
        const end = await up.stats();
        const steal = stealBetween(ticks0, hostTicks());
        const stealText = steal === null ? '-' : `${(steal * 100).toFixed(1)}%`;
        const upCpu = end.cpu - cpu0;
        const lateText = cleared ? `${(end.late50 / 1000).toFixed(1)} / ${(end.late99 / 1000).toFixed(1)}` : '-';
        if (!r) {
          rows.push([c.name, kind, 'failed', '-', '-', '-', '-', '-', '-', '-', lateText, '-', os.loadavg()[0].toFixed(1), stealText]);
          continue;
        }
        got[kind] = { ...r, upstream_late99_ms: cleared ? end.late99 / 1000 : null, host_steal: steal };
        rows.push([
          c.name,
          kind === 'dsprobe' ? `dsprobe (${c.workers} worker${c.workers > 1 ? 's' : ''})` : kind === 'floor' ? 'floor' : 'floor, onread',
          r.requests,
          r.cpu_us_per_request,
          r.cpu_us_per_event,
          kind === 'dsprobe' ? r.loop_p99_ms.join(' / ') : r.loop_p99_ms,
          // How busy each thread's loop was over the window, and the longest GC pause of any thread in it.
          (r.busy ?? []).map((b) => `${Math.round(b * 100)}%`).join(' / ') || '-',
          r.gc_max_ms ?? '-',
          kind === 'dsprobe' ? `${r.achieved_inflight} of ${c.n}` : '-',
          `${r.ttft_over_schedule_p50_ms} / ${r.ttft_over_schedule_p99_ms}`,
          lateText,
          // The upstream's CPU over the whole contender run (warm-up included), per request counted.
          Math.round(upCpu / Math.max(1, r.requests)),
          // The machine's load when the row was taken: figures from a busy machine say little about a target.
          os.loadavg()[0].toFixed(1),
          // The share of the machine's CPU time the host (a shared VM's hypervisor) took over the whole run.
          stealText,
        ]);
      }
      up.close();
      console.log(table(rows));
      const { floor, dsprobe } = got;
      const onread = got['floor-onread'];
      if (floor && dsprobe) {
        const x = (a, b) => `${(a / b).toFixed(2)}x`;
        const also = onread ? ` (onread floor: ${x(dsprobe.cpu_us_per_request, onread.cpu_us_per_request)}, ${x(dsprobe.cpu_us_per_event, onread.cpu_us_per_event)})` : '';
        console.log(`dsprobe / floor: CPU per request ${x(dsprobe.cpu_us_per_request, floor.cpu_us_per_request)}, per event ${x(dsprobe.cpu_us_per_event, floor.cpu_us_per_event)}${also}`);
        const verdicts = judge(c, floor, dsprobe);
        if (verdicts.length) console.log(`targets: ${verdicts.join('; ')}`);
      }
      console.log('');
    }
  } finally {
    fs.rmSync(bin, { force: true });
  }
  // Case 5: the quickstart on this machine, without the loop-delay warning.
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'dsprobe-bench-qs-'));
  const child = spawn(process.execPath, [path.join(root, 'bin', 'dsprobe.js'), 'run', 'scenarios/quickstart.yaml', '--out', out, '--quiet', '--no-html'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  child.stdout.on('data', (d) => (text += d));
  child.stderr.on('data', (d) => (text += d));
  await once(child, 'close');
  const loop = /loop delay p99 ([\d.]+) ms/.exec(text)?.[1] ?? '?';
  const warned = /skewed|event-loop delay p99 was/.test(text);
  // Stricter than the warning (the run's loop p99 over 50 ms): any level marked client-bound (a thread's
  // sustained loop delay or its refills' send lag over 20 ms). Shown, not judged.
  const bound = /level\(s\) were client-bound \(([^;]*);/.exec(text)?.[1];
  console.log(`case 5: quickstart: dsprobe loop delay p99 ${loop} ms; loop-delay warning printed: ${warned ? 'yes' : 'no'}; client-bound levels: ${bound ?? 'none'} (load avg 1 min ${os.loadavg()[0].toFixed(1)})`);
  console.log(`targets: no loop-delay warning ${warned ? 'NOT met' : 'met'}`);
  console.log('Targets: (1) CPU/req <= 1.5x floor, loop p99 < 20 ms, achieved >= 99 %; (2) CPU/req <= 2x floor; (3) achieved >= 99 %, loop p99 < 20 ms;');
  console.log('(4) CPU/event <= 1.2x floor, TTFT p99 within 5 ms of the upstream\'s (its schedule plus its own lateness); (5) no loop-delay warning.');
}

if (import.meta.url === `file://${process.argv[1]}`) await enginePart();

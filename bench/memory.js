// `npm run bench:memory`: dsprobe's resident memory (RSS) over time, sampled from /proc every 250 ms.
// Prints figures; asserts nothing. Loopback only. Linux only (/proc).
//
//   node bench/memory.js --part=hostile [--dist=DIR]   peak RSS of a run against a server streaming one endless
//                                                     SSE line (default dist: this checkout's dist/)
//   node bench/memory.js --part=flat                   RSS over a run at 1,000 streams against the mock, with and
//                                                     without --quiet, MEMORY_RUNS runs each (default 3) of
//                                                     MEMORY_SECONDS (default 60)
//
// The 10-minute figure of issue 9 is `MEMORY_SECONDS=600 node bench/memory.js --part=flat`.
// To compare heap settings: MEMORY_NODE_FLAGS (node / V8 flags on dsprobe's command line, e.g. `--trace-gc`) and
// MEMORY_RUNTIME_FLAGS (V8 flags set from inside the process at start, as the CLI itself could). A --dist outside
// this checkout cannot find its packages: copy the build under the checkout (e.g. .vitest-tmp/) to pin it.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const arg = (name, def) => (process.argv.find((a) => a.startsWith(`--${name}=`)) ?? `--${name}=${def}`).slice(name.length + 3);
const part = arg('part', 'hostile');
const dist = path.resolve(arg('dist', path.join(root, 'dist')));
const seconds = Number(process.env.MEMORY_SECONDS ?? 60);
const runs = Number(process.env.MEMORY_RUNS ?? 3);
// Extra node / V8 flags for dsprobe's process (e.g. MEMORY_NODE_FLAGS="--max-semi-space-size=16"), to compare heap settings.
const nodeFlags = (process.env.MEMORY_NODE_FLAGS ?? '').split(' ').filter(Boolean);

function rssMiB(pid) {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : null;
  } catch {
    return null;
  }
}

/** Runs the CLI of `distDir` with `args`, sampling its RSS every 250 ms. */
function runSampled(distDir, args, env = {}) {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, [...nodeFlags, launcher(distDir), ...args], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...env },
    });
    const series = [];
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    child.stdout.on('data', () => {});
    const t = setInterval(() => {
      const r = rssMiB(child.pid);
      if (r !== null) series.push({ s: (performance.now() - t0) / 1000, rss: r });
    }, 250);
    child.on('close', (code, signal) => {
      clearInterval(t);
      resolve({ code, signal, err, series, seconds: (performance.now() - t0) / 1000 });
    });
  });
}

/** A launcher like bin/dsprobe.js, for the CLI of any built dist/ (to compare two builds). */
function launcher(distDir) {
  const p = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'dsprobe-launch-')), 'dsprobe.mjs');
  // MEMORY_RUNTIME_FLAGS: V8 flags set from inside the process at start (v8.setFlagsFromString), as a CLI could.
  const pre = process.env.MEMORY_RUNTIME_FLAGS ? `import v8 from 'node:v8';\nv8.setFlagsFromString(${JSON.stringify(process.env.MEMORY_RUNTIME_FLAGS)});\n` : '';
  fs.writeFileSync(p, `${pre}import { run } from ${JSON.stringify(path.join(distDir, 'cli', 'main.js'))};\nprocess.exitCode = await run(process.argv.slice(2));\n`);
  return p;
}

async function hostile() {
  const server = http.createServer((req, res) => {
    if (req.url.endsWith('/models')) return res.end(JSON.stringify({ data: [{ id: 'deepseek-v4-flash' }] }));
    if (req.url.endsWith('/user/balance')) return res.end(JSON.stringify({ is_available: true, balance_infos: [{ currency: 'USD', total_balance: '100' }] }));
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: ');
      const piece = Buffer.alloc(64 * 1024, 'x');
      let gone = false;
      res.on('close', () => (gone = true));
      const pump = () => {
        if (gone) return;
        if (res.write(piece)) setImmediate(pump);
        else res.once('drain', pump);
      };
      pump();
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${server.address().port}`;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dsprobe-mem-'));
  const file = path.join(dir, 's.yaml');
  fs.writeFileSync(
    file,
    `name: endless-line\ntarget: { url: "${url}", api_key_env: K }\nmodels: { deepseek-v4-flash: {} }\n` +
      `request: { prompt_tokens: 10, max_tokens: 5, stream: true, timeout: 10s }\nload: { mode: ramp, start: 8, step: 8, max: 8, hold: 10s }\n`,
  );
  // A heap limit keeps an unbounded build from taking the shared machine down with it.
  const r = await runSampled(dist, ['run', file, '--yes', '--quiet', '--out', path.join(dir, 'out')], { K: 'sk-bench', NODE_OPTIONS: '--max-old-space-size=1024' });
  server.close();
  server.closeAllConnections?.();
  const peak = Math.max(...r.series.map((x) => x.rss));
  console.log(`dist: ${dist}`);
  console.log(`exit: ${r.code ?? r.signal} after ${r.seconds.toFixed(1)} s; peak RSS ${peak.toFixed(0)} MiB (8 streams of one endless SSE line, heap limit 1 GiB)`);
  if (r.code !== 0) console.log(`stderr (last line): ${r.err.trim().split('\n').slice(-1)[0]}`);
  const report = path.join(dir, 'out', 'report.json');
  if (fs.existsSync(report)) {
    const rep = JSON.parse(fs.readFileSync(report, 'utf8'));
    const o = rep.models[0]?.steps?.[0]?.outcomes;
    console.log(`report written: ${rep.cost.requests} requests; outcomes ${JSON.stringify(o)}`);
  } else console.log('report written: no');
}

async function flat() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dsprobe-mem-'));
  const file = path.join(dir, 's.yaml');
  fs.writeFileSync(
    file,
    `name: flat-memory\ntarget: { url: mock }\nmodels: { deepseek-v4-flash: {} }\n` +
      `request: { prompt_tokens: 50, max_tokens: 64, stream: true }\n` +
      `load: { mode: ramp, stages: [{ inflight: 1000, hold: ${seconds}s }] }\n` +
      `mock: { caps: { deepseek-v4-flash: 5000 }, latency: { answer_tokens: 64, inter_token: 30ms, chunk_tokens: 4 } }\n`,
  );
  const rows = [['run', 'quiet', `RSS at ${Math.round(seconds / 5)} s`, 'RSS at end', 'change', 'min..max after ref', `RSS every ${Math.round(seconds / 10)} s (MiB)`]];
  const pct = (v, ref) => `${(((v - ref) / ref) * 100).toFixed(1)} %`;
  for (let i = 1; i <= runs; i++) {
    for (const quiet of [true, false]) {
      const r = await runSampled(dist, ['run', file, '--out', path.join(dir, `out-${i}-${quiet}`), ...(quiet ? ['--quiet'] : [])]);
      if (r.code !== 0) console.log(`run ${i} (quiet: ${quiet}) exited ${r.code ?? r.signal}: ${r.err.trim().split('\n').slice(-1)[0]}`);
      const ref = r.series.find((x) => x.s >= seconds / 5)?.rss ?? NaN;
      const held = r.series.filter((x) => x.s >= seconds / 5 && x.s <= seconds);
      const end = held.slice(-1)[0]?.rss ?? NaN;
      const lo = Math.min(...held.map((x) => x.rss));
      const hi = Math.max(...held.map((x) => x.rss));
      // The shape over the run: a steady climb is a leak, a sawtooth is the heap breathing.
      const marks = Array.from({ length: 10 }, (_, k) => r.series.find((x) => x.s >= ((k + 1) * seconds) / 10)?.rss ?? NaN);
      rows.push([i, quiet, `${ref.toFixed(0)} MiB`, `${end.toFixed(0)} MiB`, pct(end, ref), `${pct(lo, ref)} .. ${pct(hi, ref)}`, marks.map((v) => v.toFixed(0)).join(' ')]);
    }
  }
  const w = rows[0].map((_, c) => Math.max(...rows.map((r) => String(r[c]).length)));
  console.log(`1,000 streams against the mock for ${seconds} s; RSS sampled every 250 ms (reference: ${Math.round(seconds / 5)} s, i.e. minute 2 of 10)`);
  console.log(rows.map((r) => r.map((v, c) => String(v).padEnd(w[c])).join('  ')).join('\n'));
}

if (part === 'hostile') await hostile();
else if (part === 'flat') await flat();
else console.error(`unknown --part=${part} (hostile | flat)`);

// `npm run bench`: dsprobe's own cost beside the official openai client doing the same work, and the search's
// cost beside a linear ramp. Prints figures; asserts nothing. Loopback only.
//
//   npm run bench                 both parts
//   npm run bench -- --part=client | --part=search | --part=engine
//   BENCH_SECONDS=20              seconds each contender holds its streams (default 15)
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startMock } from '../dist/mock/index.js';
import { enginePart } from './engine.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const part = (process.argv.find((a) => a.startsWith('--part=')) ?? '--part=all').slice(7);
const seconds = Number(process.env.BENCH_SECONDS ?? 15);

function runNode(args, opts = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], ...opts });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out, err }));
  });
}

function table(rows) {
  const w = rows[0].map((_, c) => Math.max(...rows.map((r) => String(r[c]).length)));
  return rows.map((r) => r.map((v, c) => (c === 0 ? String(v).padEnd(w[c]) : String(v).padStart(w[c]))).join('  ')).join('\n');
}

async function clientPart() {
  console.log(`\n== prober cost: dsprobe vs the official openai client (same mock, same run, ${seconds}s each) ==`);
  console.log('workload: streaming, 128 answer tokens at 30 ms in chunks of 4 (about 4 s and 32 SSE events a request),');
  console.log('closed loop with instant refill; each contender in its own process; loop delay measured after a 3 s warm-up.');
  const mock = await startMock(
    {
      caps: { 'deepseek-v4-flash': 1_000_000 },
      latency: { answer_tokens: 128, inter_token: '30ms', prefill_overhead: '100ms', chunk_tokens: 4, jitter: 0.1, load_slowdown: 0, flush_interval: 0 },
    },
    { isolate: true },
  );
  const rows = [['contender', 'in flight', 'requests', 'failed', 'CPU µs/request', 'loop p50 ms', 'loop p99 ms', 'loop max ms', 'RSS MB']];
  try {
    for (const n of [2000, 5000]) {
      for (const kind of ['dsprobe', 'openai']) {
        const r = await runNode([path.join(here, 'contender.js'), kind, mock.url, String(n), String(seconds)]);
        const line = r.out.trim().split('\n').pop() ?? '';
        try {
          const j = JSON.parse(line);
          rows.push([kind, n, j.completed, j.failed, j.cpu_us_per_request, j.loop_p50_ms, j.loop_p99_ms, j.loop_max_ms, j.rss_mb]);
        } catch {
          rows.push([kind, n, 'failed', '-', '-', '-', '-', '-', '-']);
          console.error(r.err.slice(0, 2000));
        }
        console.log(table(rows));
        console.log('');
      }
    }
  } finally {
    await mock.close();
  }
  console.log('Targets: dsprobe CPU/request <= openai\'s; dsprobe loop p99 < 20 ms at 5,000 streams.');
}

async function searchPart() {
  console.log('\n== finding a cap of 2500 on the mock at real-time latency: adaptive search vs linear ramp ==');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dsprobe-bench-'));
  const common = (mode) => `
name: bench-${mode}
target: { url: mock, protocol: openai, api_key_env: BENCH_KEY }
models:
  deepseek-v4-flash: {}
request: { prompt_tokens: 200, max_tokens: 1000, stream: true }
mock:
  caps: { deepseek-v4-flash: 2500 }
  latency: { answer_tokens: 1000, inter_token: 20ms, chunk_tokens: 8, load_slowdown: 0, flush_interval: 0 }
seed: 7
`;
  const search = common('search') + 'load: { mode: search, start: 50, max: 4000, hold: 10s }\n';
  const ramp = common('ramp') + 'load: { mode: ramp, start: 50, step: 50, max: 4000, hold: 10s }\nstop: { max_429_rate: 0 }\n';
  const rows = [['strategy', 'seconds', 'requests', 'admitted', 'tokens', 'USD', 'cap found']];
  for (const [label, yaml] of [['search', search], ['ramp (step 50, 10 s)', ramp]]) {
    const file = path.join(dir, `${label.split(' ')[0]}.yaml`);
    fs.writeFileSync(file, yaml);
    const out = path.join(dir, label.split(' ')[0]);
    const r = await runNode([path.join(root, 'bin', 'dsprobe.js'), 'run', file, '--out', out, '--quiet', '--no-html']);
    try {
      const rep = JSON.parse(fs.readFileSync(path.join(out, 'report.json'), 'utf8'));
      const m = rep.models[0];
      rows.push([label, (rep.duration_ms / 1000).toFixed(1), m.spend.requests, m.spend.admitted, m.spend.tokens.prompt + m.spend.tokens.completion, m.spend.usd.toFixed(4), `${m.cap.estimate} (${m.cap.status})`]);
    } catch {
      rows.push([label, 'failed', '-', '-', '-', '-', '-']);
      console.error(r.err.slice(0, 2000));
    }
    console.log(table(rows));
    console.log('');
  }
  console.log('Target: the search under a fifth of the ramp\'s seconds and tokens.');
}

if (part === 'all' || part === 'client') await clientPart();
if (part === 'all' || part === 'search') await searchPart();
if (part === 'all' || part === 'engine') await enginePart();

/**
 * A real Prometheus (Debian's `prometheus`) scrapes `dsprobe watch --metrics` on loopback, and the test asks
 * Prometheus's HTTP API until dsprobe_cap_estimate of both models holds the mock's caps. Skipped, with a
 * message, only when the binary is absent.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { dsprobe, tmpDir, writeScenario } from '../helpers/cli.js';
import { parseExposition, valueOf } from '../helpers/exposition.js';

const PROMETHEUS = ['/usr/bin/prometheus', '/usr/local/bin/prometheus'].find((p) => fs.existsSync(p)) ?? (spawnSync('which', ['prometheus']).stdout?.toString().trim() || null);
if (!PROMETHEUS) console.warn('skipping the Prometheus test: no `prometheus` binary (apt-get install prometheus; .ci/run installs it)');

const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGTERM');
});

/** A loopback port that was free a moment ago (Prometheus needs the target's port in its config up front). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

async function query(promPort: number, q: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]> {
  const res = await fetch(`http://127.0.0.1:${promPort}/api/v1/query?query=${encodeURIComponent(q)}`);
  const body = (await res.json()) as { status: string; data?: { result: { metric: Record<string, string>; value: [number, string] }[] } };
  return body.status === 'success' ? (body.data?.result ?? []) : [];
}

describe.skipIf(!PROMETHEUS)('a real Prometheus scrapes dsprobe watch --metrics', () => {
  it('stores dsprobe_cap_estimate for both models with the mock\'s caps; /metrics parses strictly', async () => {
    const dir = tmpDir();
    const [metricsPort, promPort] = [await freePort(), await freePort()];
    fs.writeFileSync(
      path.join(dir, 'prometheus.yml'),
      `global: { scrape_interval: 1s, evaluation_interval: 1s }\nscrape_configs:\n  - job_name: dsprobe\n    static_configs: [{ targets: ['127.0.0.1:${metricsPort}'] }]\n`,
    );
    const file = writeScenario(
      dir,
      'w.yaml',
      `name: prom
target: { url: mock }
models:
  deepseek-v4-flash: {}
  deepseek-v4-pro: {}
load: { mode: search, start: 5, max: 400, hold: 5s }
probe: { mode: cheap, settle: 50ms }
mock: { time_scale: 0.25, caps: { deepseek-v4-flash: 60, deepseek-v4-pro: 20 } }
`,
    );
    let stopWatch: (() => void) | null = null;
    const watch = dsprobe(['watch', file, '--every', '2s', '--for', '2m', '--out', path.join(dir, 'out'), '--metrics', `127.0.0.1:${metricsPort}`], {
      onSpawn: (c) => {
        children.push(c);
        stopWatch = () => c.kill('SIGINT');
      },
    });
    const prom = spawn(
      PROMETHEUS!,
      [`--config.file=${path.join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${path.join(dir, 'tsdb')}`, `--web.listen-address=127.0.0.1:${promPort}`, '--log.level=warn'],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    children.push(prom);
    let promLog = '';
    prom.stderr!.setEncoding('utf8').on('data', (d: string) => (promLog += d));

    let found: Record<string, number> = {};
    for (let i = 0; i < 300 && Object.keys(found).length < 2; i++) {
      await new Promise((r) => setTimeout(r, 200));
      const rows = await query(promPort, 'dsprobe_cap_estimate{job="dsprobe"}').catch(() => []);
      found = Object.fromEntries(rows.map((r) => [r.metric['model'] ?? '', Number(r.value[1])]));
    }
    expect(found, promLog).toEqual({ 'deepseek-v4-flash': 60, 'deepseek-v4-pro': 20 });
    // Prometheus judged the target healthy (it parsed every scrape).
    const up = await query(promPort, 'up{job="dsprobe"}');
    expect(up.map((r) => r.value[1])).toEqual(['1']);
    // Everything the metrics endpoint serves also passes the strict independent parser.
    const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    const fams = parseExposition(text);
    expect(valueOf(fams, 'dsprobe_cap_estimate', { model: 'deepseek-v4-pro' })).toBe(20);
    expect(valueOf(fams, 'dsprobe_probes_total', { model: 'deepseek-v4-flash', status: 'found' })).toBeGreaterThanOrEqual(1);
    (stopWatch as (() => void) | null)?.();
    const r = await watch;
    expect(r.code, r.stderr).toBe(130);
  });
});

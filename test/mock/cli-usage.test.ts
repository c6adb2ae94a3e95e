/**
 * Issue 14: the mock's command line on a first day: typo'd --cap ids, a missing --config, percentages in fault
 * rates, problems in file order, and schedules on the banner. The real CLI.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, dsprobe, tmpDir } from '../helpers/cli.js';

describe('dsprobe mock: usage', () => {
  it('--cap of an unknown model id is an error naming the nearest known id; short names work', async () => {
    const r = await dsprobe(['mock', '--cap', 'deepseek-v4-flsh=7']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--cap: unknown model id `deepseek-v4-flsh`\n\s+hint: did you mean `deepseek-v4-flash`\?/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('a missing --config file says so, with a hint', async () => {
    const r = await dsprobe(['mock', '--config', 'no-such-mock.yaml']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/cannot read --config no-such-mock\.yaml: no such file/);
    expect(r.stderr).toMatch(/hint: give the path of a mock config YAML file/);
  });

  it('config problems are listed in file order; a bare fault rate above 1 hints at a percentage', async () => {
    const dir = tmpDir();
    const file = path.join(dir, 'mock.yaml');
    fs.writeFileSync(file, 'faults:\n  - { kind: stall, rate: 5 }\ntime_scale: 0\ncaps: { deepseek-v4-flash: -1 }\n');
    const r = await dsprobe(['mock', '--config', file]);
    expect(r.code).toBe(2);
    const wheres = [...r.stderr.matchAll(/mock\.yaml:(\d+):\d+/g)].map((m) => Number(m[1]));
    expect(wheres.length).toBeGreaterThanOrEqual(3);
    expect(wheres).toEqual([...wheres].sort((a, b) => a - b));
    expect(r.stderr).toMatch(/faults\[0\]\.rate: must be <= 1 \(got 5\)\n\s+hint: did you mean 5%\?/);
  });

  it('the banner shows the cap schedules', async () => {
    const dir = tmpDir();
    const file = path.join(dir, 'mock.yaml');
    fs.writeFileSync(file, 'schedules:\n  - { kind: steps, model: deepseek-v4-pro, steps: [{ at: 0, cap: 300 }, { at: 2m, cap: 100 }], repeat: 5m }\n  - { kind: sine, min: 100, max: 500, period: 10m }\nfaults:\n  - { kind: stall, rate: "5%" }\n');
    const child = spawn(process.execPath, [BIN, 'mock', '--config', file, '--cap', 'flash=9'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    await new Promise<void>((resolve) => {
      const check = () => (/schedule: every model: sine/.test(err) ? resolve() : setTimeout(check, 20));
      check();
    });
    child.kill('SIGTERM');
    await new Promise((r) => child.on('close', r));
    expect(err).toMatch(/caps deepseek-v4-flash=9/);
    expect(err).toMatch(/schedule: deepseek-v4-pro: steps 300 from 0s, 100 from 120s, repeating every 300s/);
    expect(err).toMatch(/schedule: every model: sine between 100 and 500, period 600s/);
  });
});

/**
 * Runs the real, built CLI (`node bin/dsprobe.js`) as a child process, as a user would.
 * `npm test` builds dist/ first.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const BIN = path.join(ROOT, 'bin', 'dsprobe.js');

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  cwd?: string;
  env?: Record<string, string | undefined>;
  /** Called once the child started; lets a test send signals. */
  onSpawn?: (child: ChildProcess) => void;
  /** Called for every stderr/stdout chunk. */
  onOutput?: (chunk: string, child: ChildProcess) => void;
}

/** Runs `dsprobe ...args` to completion. */
export function dsprobe(args: string[], opts: CliOptions = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries({ ...process.env, FORCE_COLOR: '0', ...opts.env })) if (v !== undefined) env[k] = v;
    const child = spawn(process.execPath, [BIN, ...args], { cwd: opts.cwd ?? ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
      opts.onOutput?.(d, child);
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
      opts.onOutput?.(d, child);
    });
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
    opts.onSpawn?.(child);
  });
}

/** A fresh temporary directory for one test. */
export function tmpDir(prefix = 'dsprobe-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** Writes a scenario YAML into `dir` and returns its path. */
export function writeScenario(dir: string, name: string, yaml: string): string {
  const p = path.join(dir, name);
  fs.writeFileSync(p, yaml);
  return p;
}

/** Every file below `dir`, recursively, with its text. */
export function readTree(dir: string): { file: string; text: string }[] {
  const out: { file: string; text: string }[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...readTree(p));
    else out.push({ file: p, text: fs.readFileSync(p, 'utf8') });
  }
  return out;
}

/** report.json of a run directory. */
export function readReport(dir: string): import('../../src/types.js').Report {
  return JSON.parse(fs.readFileSync(path.join(dir, 'report.json'), 'utf8'));
}

/** The samples of a run directory's samples.ndjson (the header and the step and step_end markers left out). */
export function readSamples(dir: string): import('../../src/types.js').Sample[] {
  return fs
    .readFileSync(path.join(dir, 'samples.ndjson'), 'utf8')
    .trim()
    .split('\n')
    .slice(1)
    .map((l) => JSON.parse(l) as import('../../src/types.js').Sample & { kind?: string })
    .filter((x) => x.kind === undefined);
}

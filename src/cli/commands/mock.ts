/**
 * `dsprobe mock`: serves the built-in DeepSeek mock until SIGINT/SIGTERM, then closes its connections and
 * exits 0. Prints exactly one line on stdout, `dsprobe mock listening on http://HOST:PORT`; notes go to stderr.
 * Bad flags or config: exit 2 with every problem (config problems with file:line:col). Port in use: exit 2.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import { EXIT, usageError, type Problem } from '../../errors.js';
import { parseMockConfig, startInProcess } from '../../mock/index.js';
import type { CliIO } from '../io.js';
import type { CliCommand } from './types.js';

interface MockFlags {
  host?: string;
  port?: string;
  config?: string;
  cap: string[];
  timeScale?: string;
  seed?: string;
}

/** `dsprobe mock` */
export const mockCommand: CliCommand = {
  name: 'mock',
  register(program, io, setExit) {
    program
      .command('mock')
      .description("Serve the built-in DeepSeek mock: per-model caps answered with 429, keep-alive queueing, faults (docs/mock.md).")
      .option('--host <host>', 'address to listen on (default 127.0.0.1)')
      .option('--port <n>', 'port to listen on; 0 = any free port (default 0)')
      .option('--config <file>', 'YAML file with any mock setting (docs/mock.md)')
      .option('--cap <model=n>', 'concurrency cap of a model, e.g. deepseek-v4-flash=7 (repeatable)', (v: string, prev: string[]) => [...prev, v], [])
      .option('--time-scale <x>', 'multiply every timer by x (0.01 = 100 times faster)')
      .option('--seed <n>', 'seed of the latency model and faults')
      .action(async (flags: MockFlags) => {
        await serve(flags, io);
        setExit(EXIT.OK);
      });
  },
};

async function serve(flags: MockFlags, io: CliIO): Promise<void> {
  const problems: Problem[] = [];
  let raw: Record<string, unknown> = {};
  let file: string | undefined;
  let text = '';
  if (flags.config !== undefined) {
    file = resolve(io.cwd, flags.config);
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw usageError(`cannot read --config ${flags.config}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    const lc = new LineCounter();
    const doc = parseDocument(text, { lineCounter: lc });
    if (doc.errors.length) {
      throw usageError(
        `${flags.config} is not valid YAML`,
        doc.errors.map((e) => ({ path: '', message: e.message.split('\n')[0]!, where: at(flags.config!, lc, e.pos[0]) })),
      );
    }
    let value: unknown;
    try {
      value = doc.toJS();
    } catch (err) {
      // yaml refuses an alias bomb here ("Excessive alias count"): a problem in the file, not a bug.
      throw usageError(`${flags.config}: cannot expand the YAML (${String((err as Error)?.message ?? err).split('\n')[0]})`, [
        { path: '', where: flags.config, message: 'too many or nested aliases (*name)', hint: 'write the values out instead of repeating aliases' },
      ]);
    }
    if (value !== null && value !== undefined) {
      if (typeof value !== 'object' || Array.isArray(value)) throw usageError(`${flags.config}: expected a mapping of mock settings`);
      raw = value as Record<string, unknown>;
    }
  }
  if (flags.host !== undefined) raw.host = flags.host;
  if (flags.port !== undefined) raw.port = flagNumber(flags.port, '--port', problems, { integer: true, min: 0, max: 65535 });
  if (flags.timeScale !== undefined) raw.time_scale = flagNumber(flags.timeScale, '--time-scale', problems, { min: Number.MIN_VALUE });
  if (flags.seed !== undefined) raw.seed = flagNumber(flags.seed, '--seed', problems, { integer: true, min: 0 });
  if (flags.cap.length) {
    const caps = { ...((raw.caps as Record<string, unknown> | undefined) ?? {}) };
    for (const c of flags.cap) {
      const m = /^([^=\s]+)=(\d+)$/.exec(c.trim());
      if (!m) problems.push({ path: '--cap', message: `expected MODEL=N, got "${c}"`, hint: 'e.g. --cap deepseek-v4-flash=7' });
      else caps[m[1]!] = Number(m[2]);
    }
    raw.caps = caps;
  }
  if (problems.length) throw usageError('bad flags for `dsprobe mock`', problems);

  const parsed = parseMockConfig(raw);
  if (parsed.problems.length) {
    if (file !== undefined) locate(parsed.problems, text, flags.config!);
    throw usageError(`invalid mock config${flags.config ? ' in ' + flags.config : ''}`, parsed.problems);
  }
  const cfg = parsed.config;
  const handle = await startInProcess(cfg);
  io.stdout.write(`dsprobe mock listening on ${handle.url}\n`);
  const caps = cfg.models.map((m) => `${m}=${cfg.caps[m] ?? 'default'}`).join(', ');
  const auth = cfg.strict_auth ? 'only configured keys are accepted' : 'any API key is accepted (account "default")';
  io.stderr.write(`dsprobe mock: caps ${caps}; time_scale ${cfg.time_scale}; ${auth}. Ctrl-C to stop.\n`);
  await new Promise<void>((done) => {
    if (io.signal.aborted) return done();
    io.signal.addEventListener('abort', () => done(), { once: true });
  });
  await handle.close();
}

function flagNumber(v: string, flag: string, problems: Problem[], o: { integer?: boolean; min?: number; max?: number }): number | undefined {
  const n = Number(v);
  const ok = v.trim() !== '' && Number.isFinite(n) && (!o.integer || Number.isInteger(n)) && (o.min === undefined || n >= o.min) && (o.max === undefined || n <= o.max);
  if (ok) return n;
  const range = o.integer ? 'a whole number' : 'a number';
  const bounds = o.max !== undefined ? ` in ${o.min}..${o.max}` : o.min === Number.MIN_VALUE ? ' > 0' : o.min !== undefined ? ` >= ${o.min}` : '';
  problems.push({ path: flag, message: `expected ${range}${bounds}, got "${v}"` });
  return undefined;
}

/** Adds `file:line:col` to problems whose path exists in the YAML document. */
function locate(problems: Problem[], text: string, file: string): void {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, keepSourceTokens: true });
  for (const p of problems) {
    const segs: (string | number)[] = [];
    for (const m of p.path.matchAll(/([^.[\]]+)|\[(\d+)\]/g)) segs.push(m[2] !== undefined ? Number(m[2]) : m[1]!);
    // Walk up until a node exists (an unknown key's value exists; a missing key's parent does).
    for (let n = segs.length; n > 0; n--) {
      const node = doc.getIn(segs.slice(0, n), true) as { range?: [number, number, number] } | undefined;
      if (node && node.range) {
        p.where = at(file, lc, node.range[0]);
        break;
      }
    }
  }
}

function at(file: string, lc: LineCounter, offset: number): string {
  const { line, col } = lc.linePos(offset);
  return `${file}:${line}:${col}`;
}

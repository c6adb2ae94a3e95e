/**
 * `dsprobe plan FILE`: the steps a scenario will run and its worst-case requests, tokens, dollars and
 * duration, before anything is sent. `--json` prints the same as JSON.
 */
import path from 'node:path';
import type { Command } from 'commander';
import type { CliCommand } from './types.js';
import type { CliIO } from '../io.js';
import { EXIT, usageError } from '../../errors.js';
import { readScenario } from '../../scenario/index.js';
import { estimatePlan, renderPlanText } from '../../cost/index.js';
import { estimateCheap, renderCheapText } from '../../cost/cheap.js';

interface PlanOptions {
  json?: boolean;
  latency?: string;
}

async function planAction(file: string, opts: PlanOptions, io: CliIO): Promise<number> {
  let latency: number | undefined;
  if (opts.latency !== undefined) {
    latency = Number(opts.latency);
    if (!(latency > 0)) {
      throw usageError(`--latency: expected a number of milliseconds > 0 (got ${JSON.stringify(opts.latency)})`, [
        { path: '--latency', message: 'expected milliseconds > 0', hint: 'e.g. --latency 3000' },
      ]);
    }
  }
  const s = await readScenario(path.resolve(io.cwd, file), { env: io.env });
  for (const w of s.warnings ?? []) io.stderr.write(`warning: ${w}\n`);
  const plan = estimatePlan(s, latency === undefined ? {} : { latency_ms: latency });
  // Search mode: the search's expected cost apart from the measurement at the workload (probe: cheap, measure_at).
  const split = s.load.mode === 'search' ? estimateCheap(s, latency === undefined ? {} : { latency_ms: latency }) : null;
  if (opts.json) io.stdout.write(JSON.stringify(split ? { ...plan, search_split: split } : plan, null, 2) + '\n');
  else io.stdout.write(renderPlanText(s, plan) + (split ? renderCheapText(split) : ''));
  return EXIT.OK;
}

export const planCommand: CliCommand = {
  name: 'plan',
  register(program: Command, io: CliIO, setExit) {
    program
      .command('plan')
      .description('print the steps and the worst-case requests, tokens, dollars and duration of a scenario')
      .argument('<scenario>', 'scenario YAML file')
      .option('--json', 'print the plan as JSON')
      .option('--latency <ms>', 'assumed per-request latency in ms (default 500 + 10 per max_token)')
      .action(async (file: string, opts: PlanOptions) => {
        setExit(await planAction(file, opts, io));
      });
  },
};

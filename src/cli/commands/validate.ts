/**
 * `dsprobe validate FILE...`: checks scenarios without sending anything. Prints `ok` and a one-line summary
 * per file, or every problem (file:line:col, what was expected, a hint) and exits 2.
 */
import path from 'node:path';
import type { Command } from 'commander';
import type { CliCommand } from './types.js';
import type { CliIO } from '../io.js';
import { DsprobeError, EXIT, formatProblems } from '../../errors.js';
import { parseScenario, formatDuration, loadMeaning, readScenarioText, shortList, type Scenario } from '../../scenario/index.js';
import { addOverrideOptions, overridesOf, type OverrideOptions } from '../overrides.js';
import { shownPath } from '../paths.js';
import { parseMockConfig } from '../../mock/index.js';
import { getJson } from '../../transport/prober.js';
import { monotonicClock } from '../../time/clock.js';

/** How long `validate` waits for a real target's /models (it only reads the list). */
const MODELS_TIMEOUT_MS = 3000;

/**
 * Model ids the target does not serve: the mock's own list, or a real target's `GET /models` when it answers
 * (with the first key, if set). Null when the list could not be had (nothing is said then).
 */
async function unknownModels(s: Scenario, env: CliIO['env']): Promise<{ unknown: string[]; where: string } | null> {
  let served: string[];
  let where: string;
  if (s.target.url === 'mock') {
    served = parseMockConfig(s.mock ?? {}, 'mock').config.models;
    where = 'the mock';
  } else {
    const key = env[s.target.api_key_env[0] ?? ''] ?? '';
    const root = s.target.url.replace(/\/anthropic\/?$/, '');
    const r = await getJson(root, '/models', key, monotonicClock(), { timeoutMs: MODELS_TIMEOUT_MS, protocol: s.target.protocol });
    const data = (r.body as { data?: { id?: unknown }[] } | undefined)?.data;
    if (!r.ok || !Array.isArray(data)) return null;
    served = data.map((d) => String(d?.id ?? ''));
    where = `${root}/models`;
  }
  return { unknown: s.models.map((m) => m.name).filter((m) => !served.includes(m)), where };
}

/** One line describing a valid scenario. */
export function scenarioSummary(s: Scenario): string {
  const models = s.models.map((m) => `${m.name}${m.inflight !== undefined ? ` @${m.inflight}` : s.load.mode === 'ramp' && s.models.length > 1 ? ` ×${m.weight}` : ''}`).join(', ');
  const load =
    s.load.mode === 'rate' && s.load.rate
      ? `rate ${s.load.rate.arrival} ${s.load.rate.stages.map((x) => `${x.rate}/s for ${formatDuration(x.hold_ms)}`).join(', then ')}; ${s.policies?.length ?? 1} polic${(s.policies?.length ?? 1) === 1 ? 'y' : 'ies'}: ${(s.policies ?? [{ name: 'none' }]).map((p) => p.name).join(', ')}`
      : s.load.mode === 'search'
      ? `search ${s.load.start}..${s.load.max} (×${s.load.growth}, ±${s.load.precision}), hold ${formatDuration(s.load.hold_ms)}`
      : s.load.stages
        ? `ramp ${s.load.stages.length} stage(s) up to ${s.load.max}`
        : `ramp ${s.load.start}..${s.load.max} step ${s.load.step}, hold ${formatDuration(s.load.hold_ms)}`;
  const target = s.target.url === 'mock' ? 'the mock' : s.target.url;
  const extra = [
    s.expect.length ? `${s.expect.length} threshold(s)` : '',
    s.budget.max_usd !== undefined ? `budget $${s.budget.max_usd}` : '',
    s.target.api_key_env.length > 1 ? `${s.target.api_key_env.length} keys` : '',
  ].filter(Boolean);
  return `${s.name}: ${load}; ${s.models.length} model(s): ${models}; ${s.target.protocol} → ${target}${extra.length ? '; ' + extra.join(', ') : ''}`;
}

async function validateFiles(files: string[], opts: OverrideOptions, io: CliIO): Promise<number> {
  let code: number = EXIT.OK;
  const overrides = overridesOf(opts);
  for (const file of files) {
    let text: string;
    try {
      text = await readScenarioText(path.resolve(io.cwd, file));
    } catch (e) {
      if (!(e instanceof DsprobeError)) throw e;
      const p = e.problems[0];
      const what = /no such file/.test(e.message) ? 'cannot read it (no such file)' : (p?.message ?? e.message);
      io.stderr.write(`${file}: ${what}\n  hint: ${p?.hint ?? 'give the path of a scenario YAML file, e.g. scenarios/quickstart.yaml'}\n`);
      code = EXIT.USAGE;
      continue;
    }
    const shown = shownPath(io.cwd, file);
    const { scenario, problems, warnings } = parseScenario(text, shown, { env: io.env, ...(overrides ? { overrides } : {}) });
    for (const w of warnings) io.stderr.write(`warning: ${w}\n`);
    if (!scenario) {
      io.stderr.write(`${shown}: ${problems.length} problem(s)\n${formatProblems(shortList(problems))}\n`);
      code = EXIT.USAGE;
      continue;
    }
    const check = await unknownModels(scenario, io.env).catch(() => null);
    for (const m of check?.unknown ?? []) {
      io.stderr.write(`warning: ${shown}: model ${m} is not served by ${check?.where} (it would answer 400 Model Not Exist; the run would stop, exit 3)\n`);
    }
    io.stdout.write(`ok ${shown}: ${scenarioSummary(scenario)}\n  ${loadMeaning(scenario.load, scenario.models)}\n`);
  }
  return code;
}

export const validateCommand: CliCommand = {
  name: 'validate',
  register(program: Command, io: CliIO, setExit) {
    const cmd = program
      .command('validate')
      .description('check scenario files without sending anything (every problem with file:line:col and a hint)')
      .argument('<scenario...>', 'scenario YAML file(s)');
    addOverrideOptions(cmd)
      .action(async (files: string[], opts: OverrideOptions) => {
        setExit(await validateFiles(files, opts, io));
      });
  },
};

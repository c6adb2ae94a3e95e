/**
 * The override options shared by `run`, `plan` and `validate`: `--set KEY=VALUE`, `--url`, `--seed`,
 * `--models`, `--need`. All of them become scenario overrides (scenario/overrides.ts), applied before
 * validation, so they are checked with the same messages as the file.
 */
import type { Command } from 'commander';
import { usageError, type Problem } from '../errors.js';
import { parseSetOption, type ScenarioOverride, type ScenarioOverrides } from '../scenario/index.js';

/** The parsed options, as commander hands them over. */
export interface OverrideOptions {
  set?: string[];
  url?: string;
  seed?: string;
  models?: string;
  need?: string[];
}

/** Collects a repeatable option: `--set a=1 --set b=2`. One value each, so it never swallows the scenario path. */
export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** Adds the override options to a command. */
export function addOverrideOptions(cmd: Command): Command {
  return cmd
    .option('--set <key=value>', 'override any scenario key (dotted path), e.g. --set load.max=300 (repeatable)', collect)
    .option('--url <url>', 'override target.url (`mock` or an http(s) base URL)')
    .option('--seed <n>', 'override the seed of every random choice')
    .option('--models <list>', 'probe only these models, e.g. flash,pro (short names allowed; missing ones are added)')
    .option('--need <model=n>', 'the in-flight level a model must hold (models.MODEL.need), e.g. flash=1800 (repeatable)', collect);
}

/** The options as scenario overrides, in the order they apply. Throws a usage error (exit 2) on malformed ones. */
export function overridesOf(o: OverrideOptions): ScenarioOverrides | undefined {
  const set: ScenarioOverride[] = [];
  const problems: Problem[] = [];
  if (o.url !== undefined) set.push({ key: 'target.url', value: o.url, source: `--url ${o.url}`, literal: true });
  if (o.seed !== undefined) set.push({ key: 'seed', value: o.seed, source: `--seed ${o.seed}` });
  for (const s of o.set ?? []) {
    const r = parseSetOption(s);
    if ('key' in r) set.push(r);
    else problems.push(r);
  }
  for (const n of o.need ?? []) {
    const r = parseSetOption(n, `--need ${n}`);
    if ('key' in r) set.push({ ...r, key: `models.${r.key}.need` });
    else problems.push({ path: '--need', message: `expected MODEL=N (got \`${n}\`)`, hint: 'e.g. --need flash=1800' });
  }
  let models: string[] | undefined;
  if (o.models !== undefined) {
    models = o.models.split(',').map((m) => m.trim()).filter(Boolean);
    if (!models.length) problems.push({ path: '--models', message: 'expected a comma-separated list of models', hint: 'e.g. --models flash,pro' });
  }
  if (problems.length) throw usageError(`${problems.length} bad option(s)`, problems);
  if (!set.length && !models) return undefined;
  return { ...(models ? { models, modelsSource: `--models ${o.models}` } : {}), set };
}

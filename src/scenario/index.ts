/**
 * Scenario files: YAML in, a validated Scenario out, with every problem at once (file:line:col, what was
 * expected, a hint). See docs/scenario.md.
 */
import { readFile, stat } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import { LineCounter, parseAllDocuments } from 'yaml';
import { DsprobeError, usageError, type Problem } from '../errors.js';
import { check } from './check.js';
import { normalise, type NormaliseCtx } from './normalise.js';
import { scenarioSpec, NAME_PATTERN } from './spec.js';
import type { Scenario } from './types.js';

export type * from './types.js';
export { parseDuration, formatDuration } from './duration.js';
export { expandEnv, expandHeaders, headerSecrets, DEFAULTS } from './normalise.js';
export { redactScenario } from './redact.js';
export { MAX_SCENARIO_BYTES, MAX_DURATION_MS, MAX_LIST_ITEMS, MAX_LEVEL, MAX_STEPS } from './limits.js';
import { MAX_SCENARIO_BYTES, looksBinary } from './limits.js';
export { applyNeed, parseNeedText, parseRate, needOf, needText } from './need.js';
export { scenarioJsonSchema } from './json-schema.js';
export { documentedCap, DOCUMENTED_CAPS, RETIRED_MODELS } from './models.js';

/** Options of parseScenario / readScenario. */
export interface ScenarioOptions {
  /** Environment for `${VAR}` in target.url (defaults to none: references are reported as unset). */
  env?: Record<string, string | undefined>;
}

/** A name from a file name: `scenarios/My Test.yaml` -> `My-Test`. */
function nameFromFile(file: string): string {
  const base = basename(file, extname(file)).replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[^A-Za-z0-9]+/, '');
  return new RegExp(NAME_PATTERN).test(base) ? base : 'scenario';
}

/**
 * Parses and validates scenario text. Returns the scenario only when there are no problems; warnings
 * (retired model ids, ignored keys) never block.
 */
export function parseScenario(
  text: string,
  file: string,
  opts: ScenarioOptions = {},
): { scenario?: Scenario; problems: Problem[]; warnings: string[] } {
  const lines = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter: lines, prettyErrors: true, uniqueKeys: true });
  const problems: Problem[] = [];
  const warnings: string[] = [];
  const list = Array.isArray(docs) ? docs : [];
  if (list.length === 0) {
    return { problems: [{ path: '', where: `${file}:1:1`, message: 'the file is empty', hint: 'start from scenarios/quickstart.yaml' }], warnings };
  }
  if (list.length > 1) {
    const r = list[1]!.range;
    const { line, col } = lines.linePos(r[0]);
    problems.push({ path: '', where: `${file}:${line}:${col}`, message: 'expected one YAML document (found a second `---`)', hint: 'put each scenario in its own file' });
  }
  const doc = list[0]!;
  for (const e of doc.errors) {
    const pos = e.linePos?.[0] ?? lines.linePos(e.pos[0]);
    problems.push({
      path: '',
      where: `${file}:${pos.line}:${pos.col}`,
      message: `YAML: ${e.message.split(' at line ')[0]!.split('\n')[0]}`,
      hint: yamlHint(e.code, e.message),
    });
  }
  for (const w of doc.warnings) warnings.push(`${file}: YAML: ${w.message.split('\n')[0]}`);
  if (problems.length) return { problems, warnings };

  const ctx: NormaliseCtx = { file, doc, lines, problems, warnings, env: opts.env ?? {} };
  const raw = check(doc.contents, scenarioSpec, [], ctx) as Record<string, unknown> | undefined;
  if (raw === undefined) return { problems, warnings };
  const scenario = normalise(raw, ctx, nameFromFile(file));
  scenario.file = file;
  if (warnings.length) scenario.warnings = [...warnings];
  return problems.length ? { problems: byPosition(problems), warnings } : { scenario, problems, warnings };
}

/** Problems in file order (line, then column); unpositioned ones last, in the order found. */
function byPosition(problems: Problem[]): Problem[] {
  const key = (p: Problem) => {
    const m = /:(\d+):(\d+)$/.exec(p.where ?? '');
    return m ? Number(m[1]) * 1e6 + Number(m[2]) : Infinity;
  };
  return problems
    .map((p, i) => ({ p, i, k: key(p) }))
    .sort((a, b) => a.k - b.k || a.i - b.i)
    .map((x) => x.p);
}

function yamlHint(code: string, message: string): string {
  if (/end with a [}\]]/.test(message)) return 'a `{` or `[` is not closed (or what follows it is not indented enough)';
  switch (code) {
    case 'DUPLICATE_KEY':
      return 'each key may appear once per mapping: merge the two entries';
    case 'MISSING_CHAR':
      return 'a bracket, brace or quote is not closed, or the indentation is off';
    case 'BAD_INDENT':
      return 'check the indentation: nested keys are indented by the same number of spaces';
    case 'TAB_AS_INDENT':
      return 'YAML indents with spaces, not tabs';
    case 'BLOCK_AS_IMPLICIT_KEY':
    case 'MULTILINE_IMPLICIT_KEY':
      return 'a key and its `:` must sit on one line; is a `:` missing above?';
    default:
      return 'see https://yaml.org/spec/1.2.2/ or compare with scenarios/quickstart.yaml';
  }
}

/**
 * Reads and validates a scenario file. Throws `usageError('scenario has N problem(s)', problems)` (exit 2)
 * listing every problem. Warnings are returned on `scenario.warnings`.
 */
export async function readScenario(file: string, opts: ScenarioOptions = {}): Promise<Scenario> {
  const text = await readScenarioText(file);
  const { scenario, problems } = parseScenario(text, file, opts);
  if (!scenario) throw usageError(`scenario has ${problems.length} problem(s)`, shortList(problems));
  return scenario;
}

/**
 * Reads a scenario file's text, refusing (usage error, exit 2, one problem) a file that cannot be read, one
 * larger than MAX_SCENARIO_BYTES (without reading it) and a binary file.
 */
export async function readScenarioText(file: string): Promise<string> {
  let text: string;
  try {
    // The size first: a huge file is refused without being read.
    if ((await stat(file)).size > MAX_SCENARIO_BYTES) {
      throw usageError(`scenario ${file} is larger than ${MAX_SCENARIO_BYTES} bytes`, [
        { path: '', where: file, message: `expected a scenario of at most ${MAX_SCENARIO_BYTES} bytes`, hint: 'a scenario is a few lines of YAML: is this the right file?' },
      ]);
    }
    text = await readFile(file, 'utf8');
  } catch (e) {
    if (e instanceof DsprobeError) throw e;
    const code = (e as { code?: string }).code;
    const msg = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : `cannot read it (${code ?? 'error'})`;
    throw usageError(`cannot read scenario ${file}: ${msg}`, [
      { path: '', where: file, message: msg, hint: 'give the path of a scenario YAML file, e.g. scenarios/quickstart.yaml' },
    ]);
  }
  if (looksBinary(text)) {
    throw usageError(`scenario ${file} is not a text file`, [
      { path: '', where: `${file}:1:1`, message: 'expected YAML text (found binary data)', hint: 'give the path of a scenario YAML file, e.g. scenarios/quickstart.yaml' },
    ]);
  }
  return text;
}

/** At most this many problems are printed (a file that is not a scenario at all must not flood the terminal). */
export const MAX_PROBLEMS_SHOWN = 20;

/** The first MAX_PROBLEMS_SHOWN problems, then one line saying how many more there are. */
export function shortList(problems: Problem[]): Problem[] {
  if (problems.length <= MAX_PROBLEMS_SHOWN) return problems;
  return [...problems.slice(0, MAX_PROBLEMS_SHOWN), { path: '', message: `... and ${problems.length - MAX_PROBLEMS_SHOWN} more problem(s) not shown`, hint: 'fix the first ones and validate again' }];
}

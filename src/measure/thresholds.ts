/**
 * Thresholds: the public face of the threshold language (thresholds-parse.ts) and its evaluation over a
 * Report (thresholds-eval.ts), plus the checks run before anything is sent.
 */
import type { Problem } from '../errors.js';
import type { ThresholdSpec } from '../types.js';
import type { Report, ThresholdResult } from '../types.js';
import { nearest } from '../nearest.js';
import { parseThreshold, type ThresholdAst, type ThresholdParseError } from './thresholds-parse.js';
import { evaluateAst, toResult } from './thresholds-eval.js';

export { parseThreshold, type ThresholdAst, type ThresholdParseError } from './thresholds-parse.js';
export type { Comparison, TimeField, PercentileName } from './thresholds-parse.js';
export { compare, formatValue } from './thresholds-eval.js';

/** Evaluates every threshold against a report, in order. A threshold that does not parse fails with a note. */
export function evaluateThresholds(specs: readonly ThresholdSpec[], report: Report): ThresholdResult[] {
  return specs.map((spec) => {
    const { ast, error } = parseThreshold(spec.expression);
    if (!ast) {
      return toResult(spec.expression, spec.abort_on_fail, {
        passed: false,
        actual: null,
        actual_text: 'invalid',
        note: `does not parse: ${error!.message} (column ${error!.col})`,
      });
    }
    return toResult(spec.expression, spec.abort_on_fail, evaluateAst(ast, report));
  });
}

/**
 * Checks one expression against the models a run will probe: a parse error, or a model not in the mix,
 * with its column and a hint. Undefined when fine.
 */
export function checkThreshold(expr: string, models: readonly string[]): ThresholdParseError | undefined {
  const { ast, error } = parseThreshold(expr);
  if (error) return error;
  return modelError(ast!, models);
}

function modelError(ast: ThresholdAst, models: readonly string[]): ThresholdParseError | undefined {
  if (ast.model === undefined || models.includes(ast.model)) return undefined;
  const near = nearest(ast.model, models);
  return {
    message: `model \`${ast.model}\` is not in the scenario's models`,
    col: ast.modelCol ?? 1,
    hint: near ? `did you mean \`${near}\`?` : `models: ${models.join(', ')}`,
  };
}

/**
 * Before a run: every threshold parses and names only models of the scenario. Returns every problem
 * (empty when all is well). `where` is the spec's source plus the column, when the source is a position.
 */
export function checkThresholdsEarly(specs: readonly ThresholdSpec[], scenario: { readonly models: readonly { readonly name: string }[] }): Problem[] {
  const models = scenario.models.map((m) => m.name);
  const problems: Problem[] = [];
  specs.forEach((spec, i) => {
    const e = checkThreshold(spec.expression, models);
    if (!e) return;
    const p: Problem = {
      path: spec.source === '--expect' ? '--expect' : `expect[${i}]`,
      message: `${e.message} (column ${e.col} of \`${spec.expression}\`)`,
    };
    if (spec.source && spec.source !== '--expect') p.where = spec.source;
    if (e.hint) p.hint = e.hint;
    problems.push(p);
  });
  return problems;
}

import { describe, expect, it } from 'vitest';
import { readFileSync, readdirSync } from 'node:fs';
import { parse } from 'yaml';
import { scenarioJsonSchema } from '../../src/scenario/index.js';

type Schema = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/**
 * A small JSON Schema (2020-12) checker for the keywords the scenario schema uses: type, enum, pattern,
 * minimum/maximum (and exclusive), properties, required, additionalProperties, propertyNames,
 * minProperties, items, minItems, anyOf. Returns the paths that fail.
 */
function validate(v: unknown, s: Schema, path = '$'): string[] {
  const errs: string[] = [];
  const typeOf = (x: unknown) =>
    x === null ? 'null' : Array.isArray(x) ? 'array' : Number.isInteger(x) ? 'integer' : typeof x;
  if (s.anyOf) {
    const ok = (s.anyOf as Schema[]).some((alt) => validate(v, alt, path).length === 0);
    if (!ok) errs.push(`${path}: no anyOf branch`);
    return errs;
  }
  if (s.type) {
    const types: string[] = Array.isArray(s.type) ? s.type : [s.type];
    const t = typeOf(v);
    const fits = types.some((x) => x === t || (x === 'number' && t === 'integer'));
    if (!fits) return [`${path}: type ${t} not ${types.join('|')}`];
  }
  if (s.enum && !s.enum.includes(v)) errs.push(`${path}: not in enum`);
  if (typeof v === 'string' && s.pattern && !new RegExp(s.pattern, 'u').test(v)) errs.push(`${path}: pattern`);
  if (typeof v === 'number') {
    if (s.minimum !== undefined && v < s.minimum) errs.push(`${path}: minimum`);
    if (s.maximum !== undefined && v > s.maximum) errs.push(`${path}: maximum`);
    if (s.exclusiveMinimum !== undefined && v <= s.exclusiveMinimum) errs.push(`${path}: exclusiveMinimum`);
    if (s.exclusiveMaximum !== undefined && v >= s.exclusiveMaximum) errs.push(`${path}: exclusiveMaximum`);
  }
  if (Array.isArray(v)) {
    if (s.minItems !== undefined && v.length < s.minItems) errs.push(`${path}: minItems`);
    if (s.items) v.forEach((x, i) => errs.push(...validate(x, s.items, `${path}[${i}]`)));
  } else if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    for (const r of s.required ?? []) if (!(r in o)) errs.push(`${path}.${r}: required`);
    if (s.minProperties !== undefined && Object.keys(o).length < s.minProperties) errs.push(`${path}: minProperties`);
    for (const [k, x] of Object.entries(o)) {
      if (s.properties?.[k]) errs.push(...validate(x, s.properties[k], `${path}.${k}`));
      else if (s.additionalProperties === false) errs.push(`${path}.${k}: additional property`);
      else if (typeof s.additionalProperties === 'object') {
        if (s.propertyNames?.pattern && !new RegExp(s.propertyNames.pattern).test(k)) errs.push(`${path}.${k}: propertyNames`);
        errs.push(...validate(x, s.additionalProperties, `${path}.${k}`));
      }
    }
  }
  return errs;
}

const file = JSON.parse(readFileSync('schema/scenario.schema.json', 'utf8')) as Schema;

describe('schema/scenario.schema.json', () => {
  it('is exactly what the validator\'s field descriptions generate (run the snippet in docs/scenario.md to refresh)', () => {
    expect(file).toEqual(JSON.parse(JSON.stringify(scenarioJsonSchema)));
  });

  it('declares draft 2020-12 and covers every top-level key', () => {
    expect(file.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(Object.keys(file.properties).sort()).toEqual(
      ['budget', 'expect', 'load', 'measure_at', 'mock', 'models', 'name', 'policies', 'policy', 'pricing', 'probe', 'request', 'safety_margin', 'seed', 'stop', 'target'].sort(),
    );
  });

  const scenarios = readdirSync('scenarios').filter((f) => f.endsWith('.yaml'));
  it.each(scenarios)('scenarios/%s validates against it and points editors at it', (f) => {
    const text = readFileSync(`scenarios/${f}`, 'utf8');
    expect(validate(parse(text), file)).toEqual([]);
    expect(text).toMatch(/^# yaml-language-server: \$schema=\.\.\/schema\/scenario\.schema\.json$/m);
  });

  it.each([
    ['unknown key', 'target: { url: mock }\nmodels: { m: {} }\nlaod: {}\n', '$.laod: additional property'],
    ['bad enum', 'target: { url: mock }\nmodels: { m: {} }\nload: { mode: sweep }\n', '$.load.mode: not in enum'],
    ['bad duration', 'target: { url: mock }\nmodels: { m: {} }\nload: { hold: soon }\n', '$.load.hold: no anyOf branch'],
    ['missing models', 'target: { url: mock }\n', '$.models: required'],
    ['bad env name', 'target: { url: mock, api_key_env: "a b" }\nmodels: { m: {} }\n', '$.target.api_key_env: no anyOf branch'],
    ['bad rate', 'target: { url: mock }\nmodels: { m: {} }\nstop: { max_429_rate: 3 }\n', '$.stop.max_429_rate: no anyOf branch'],
  ])('rejects %s like the validator does', (_n, text, err) => {
    expect(validate(parse(text), file)).toContain(err);
  });

  it('accepts durations and rates in the forms the validator accepts', () => {
    const doc = parse('target: { url: mock }\nmodels: { m: }\nload: { hold: 1m30s, stages: [{ inflight: 3, hold: 500ms }] }\nstop: { max_429_rate: 5% }\nrequest: { timeout: 90 }\n');
    expect(validate(doc, file)).toEqual([]);
  });
});

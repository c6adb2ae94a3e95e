/**
 * The scenario JSON Schema (draft 2020-12), generated from the same field descriptions the validator uses
 * (spec.ts). Published as schema/scenario.schema.json; a test keeps the file equal to this value.
 * Editors pick it up with `# yaml-language-server: $schema=../schema/scenario.schema.json`, or, from a
 * scenario copied anywhere, with the published id (SCENARIO_SCHEMA_ID, docs/scenario.md "Editor completion").
 */
import type { Field } from './fields.js';
import { VERSION } from '../version.js';
import { DURATION_PATTERN } from '../time/duration.js';
import { scenarioSpec } from './spec.js';

type Json = Record<string, unknown>;

/** A JSON Schema fragment for one field. */
export function toJsonSchema(f: Field): Json {
  const base: Json = { description: f.doc };
  switch (f.kind) {
    case 'string':
      return { ...base, type: 'string', ...(f.enum ? { enum: [...f.enum] } : {}), ...(f.pattern ? { pattern: f.pattern } : {}) };
    case 'number':
      return {
        ...base,
        type: f.integer ? 'integer' : 'number',
        ...(f.min !== undefined ? { minimum: f.min } : {}),
        ...(f.exclusiveMin !== undefined ? { exclusiveMinimum: f.exclusiveMin } : {}),
        ...(f.max !== undefined ? { maximum: f.max } : {}),
        ...(f.exclusiveMax !== undefined ? { exclusiveMaximum: f.exclusiveMax } : {}),
      };
    case 'boolean':
      return { ...base, type: 'boolean' };
    case 'duration':
      return { ...base, anyOf: [{ type: 'number', minimum: 0 }, { type: 'string', pattern: DURATION_PATTERN }] };
    case 'rate':
      return { ...base, anyOf: [{ type: 'number', minimum: 0, maximum: 1 }, { type: 'string', pattern: '^\\s*\\d+(\\.\\d+)?\\s*%\\s*$' }] };
    case 'array':
      return { ...base, type: 'array', items: toJsonSchema(f.items), ...(f.minItems !== undefined ? { minItems: f.minItems } : {}) };
    case 'oneOf':
      return { ...base, anyOf: f.variants.map(toJsonSchema) };
    case 'object': {
      const out: Json = { ...base, type: f.nullable ? ['object', 'null'] : 'object' };
      if (f.props) {
        out.properties = Object.fromEntries(Object.entries(f.props).map(([k, v]) => [k, toJsonSchema(v)]));
      }
      if (f.required?.length) out.required = [...f.required];
      if (f.values) {
        out.additionalProperties = toJsonSchema(f.values);
        if (f.keyPattern) out.propertyNames = { pattern: f.keyPattern };
      } else {
        out.additionalProperties = !!f.open;
      }
      if (f.minKeys !== undefined) out.minProperties = f.minKeys;
      return out;
    }
  }
}

/**
 * Where the schema is published: the copy inside the npm package of this very version, served by unpkg.
 * Versioned, so a scenario written for one version keeps the schema it was checked against.
 */
export const SCENARIO_SCHEMA_ID = `https://unpkg.com/dsprobe@${VERSION}/schema/scenario.schema.json`;

/** The published schema of scenario files. */
export const scenarioJsonSchema: Json = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: SCENARIO_SCHEMA_ID,
  title: 'dsprobe scenario',
  ...toJsonSchema(scenarioSpec),
};

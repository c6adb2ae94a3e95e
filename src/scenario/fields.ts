/**
 * A tiny declarative description of what a scenario file may hold. One description drives both the
 * validator (check.ts, which reports every problem with file:line:col) and the published JSON Schema
 * (json-schema.ts), so the two cannot drift apart.
 */

interface Base {
  /** One sentence for editors (JSON Schema `description`) and docs. */
  doc: string;
  /** An example value, shown in hints when the type is wrong. */
  example?: string;
}

/** A string, optionally from a fixed set or matching a pattern. */
export interface StringField extends Base {
  kind: 'string';
  enum?: readonly string[];
  pattern?: string;
  /** Words for the pattern in messages, e.g. "letters, digits, _ and -". */
  patternText?: string;
  /** Never echo the value in a message (header values, anything that may be a secret). */
  secret?: boolean;
}

/** A number, with bounds. */
export interface NumberField extends Base {
  kind: 'number';
  integer?: boolean;
  min?: number;
  exclusiveMin?: number;
  max?: number;
  exclusiveMax?: number;
}

export interface BooleanField extends Base {
  kind: 'boolean';
}

/** `10s`, `500ms`, `2m`, or a number of seconds. */
export interface DurationField extends Base {
  kind: 'duration';
}

/** A rate in [0, 1], or a percentage string such as `5%`. */
export interface RateField extends Base {
  kind: 'rate';
}

/** A mapping with known keys (`props`) and/or free keys whose values all share one description (`values`). */
export interface ObjectField extends Base {
  kind: 'object';
  props?: Record<string, Field>;
  required?: readonly string[];
  /** Free-form keys (a map such as models or pricing). */
  values?: Field;
  keyPattern?: string;
  keyPatternText?: string;
  /** `key:` with no value is accepted and means `{}`. */
  nullable?: boolean;
  /** At least this many keys. */
  minKeys?: number;
  /** Accept any keys and values (validated elsewhere). */
  open?: boolean;
  /**
   * Validated by another module (the mock's own parser): check() returns the plain value untouched and
   * `props` serve only the JSON Schema (editor completion).
   */
  delegate?: boolean;
}

export interface ArrayField extends Base {
  kind: 'array';
  items: Field;
  minItems?: number;
}

/** The first variant whose shape (string, number, mapping, list...) fits is checked. */
export interface OneOfField extends Base {
  kind: 'oneOf';
  variants: readonly Field[];
}

export type Field =
  | StringField
  | NumberField
  | BooleanField
  | DurationField
  | RateField
  | ObjectField
  | ArrayField
  | OneOfField;

/** "an integer >= 1", "one of: search, ramp", ... — what a field expects, for messages. */
export function describe(f: Field): string {
  switch (f.kind) {
    case 'string':
      if (f.enum) return `one of: ${f.enum.join(', ')}`;
      return f.patternText ? `a string of ${f.patternText}` : 'a string';
    case 'number': {
      const bounds: string[] = [];
      if (f.min !== undefined) bounds.push(`>= ${f.min}`);
      if (f.exclusiveMin !== undefined) bounds.push(`> ${f.exclusiveMin}`);
      if (f.max !== undefined) bounds.push(`<= ${f.max}`);
      if (f.exclusiveMax !== undefined) bounds.push(`< ${f.exclusiveMax}`);
      return `${f.integer ? 'an integer' : 'a number'}${bounds.length ? ' ' + bounds.join(' and ') : ''}`;
    }
    case 'boolean':
      return 'true or false';
    case 'duration':
      return 'a duration like 10s, 500ms, 2m, or a number of seconds';
    case 'rate':
      return 'a rate between 0 and 1, or a percentage like 5%';
    case 'object':
      return f.values && !f.props ? 'a mapping (key: value)' : 'a mapping of keys';
    case 'array':
      return `a list of ${describe(f.items)}`;
    case 'oneOf':
      return f.variants.map(describe).join(', or ');
  }
}

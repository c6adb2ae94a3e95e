/**
 * Small validation helpers for the mock's config: each reads one value, records a Problem (path, what was
 * expected, a hint) when it is wrong, and returns undefined so the caller keeps checking the rest.
 */
import { nearest } from '../nearest.js';
import type { Problem } from '../errors.js';

/** A path into the config: keys and array indices, printed `caps.deepseek-v4-flash` or `faults[0].rate`. */
export type Path = readonly (string | number)[];

/** Prints a path the way the scenario checker does: dots between keys, brackets around indices. */
export function pathText(base: string | undefined, path: Path): string {
  let out = base ?? '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out ? `.${p}` : p;
  return out;
}

/** Collects problems for one parse. */
export class Checker {
  readonly problems: Problem[] = [];
  constructor(private readonly base: string | undefined) {}

  /** Records one problem at `path`. */
  add(path: Path, message: string, hint?: string): undefined {
    const p: Problem = { path: pathText(this.base, path), message };
    if (hint) p.hint = hint;
    this.problems.push(p);
    return undefined;
  }

  /** A plain mapping; unknown keys are reported with the nearest known key as hint. */
  object(v: unknown, path: Path, known?: readonly string[]): Record<string, unknown> | undefined {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) {
      return this.add(path, `expected a mapping, got ${describe(v)}`);
    }
    const o = v as Record<string, unknown>;
    if (known) {
      for (const k of Object.keys(o)) {
        if (known.includes(k)) continue;
        const near = nearest(k, known);
        this.add([...path, k], 'unknown key', near ? `did you mean \`${near}\`?` : `known keys: ${known.join(', ')}`);
      }
    }
    return o;
  }

  /** A finite number within bounds. */
  number(v: unknown, path: Path, o: { min?: number; max?: number; gt?: number; integer?: boolean } = {}): number | undefined {
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      const hint = typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v)) ? `write it without quotes: ${v.trim()}` : undefined;
      return this.add(path, `expected a number, got ${describe(v)}`, hint);
    }
    if (o.integer && !Number.isInteger(v)) return this.add(path, `expected a whole number, got ${v}`);
    if (o.min !== undefined && v < o.min) return this.add(path, `must be >= ${o.min} (got ${v})`);
    if (o.gt !== undefined && v <= o.gt) return this.add(path, `must be > ${o.gt} (got ${v})`);
    if (o.max !== undefined && v > o.max) return this.add(path, `must be <= ${o.max} (got ${v})`);
    return v;
  }

  /** A cap: a whole number >= 0 of requests in flight. */
  cap(v: unknown, path: Path): number | undefined {
    return this.number(v, path, { min: 0, integer: true });
  }

  /** A rate in [0, 1], or a percentage string like `5%`. */
  rate(v: unknown, path: Path): number | undefined {
    if (typeof v === 'string' && /^\s*\d+(\.\d+)?\s*%\s*$/.test(v)) v = Number(v.trim().slice(0, -1).trim()) / 100;
    else if (typeof v === 'string') return this.add(path, `expected a rate (a fraction 0..1 or a percentage), got ${describe(v)}`, 'write 0.05 or 5%');
    // The same hints as scenario rates: a bare 5 is most likely meant as 5%.
    const hint = typeof v === 'number' && v > 1 && v <= 100 ? `did you mean ${v}%? (a bare number is a fraction: 0.05 = 5%)` : 'write 0.05 or 5%';
    const before = this.problems.length;
    const n = this.number(v, path, { min: 0, max: 1 });
    if (this.problems.length > before && !this.problems[this.problems.length - 1]!.hint) this.problems[this.problems.length - 1]!.hint = hint;
    return n;
  }

  /** A string (non-empty unless allowEmpty). */
  string(v: unknown, path: Path, allowEmpty = false): string | undefined {
    if (typeof v !== 'string') return this.add(path, `expected a string, got ${describe(v)}`);
    if (!allowEmpty && v === '') return this.add(path, 'must not be empty');
    return v;
  }

  boolean(v: unknown, path: Path): boolean | undefined {
    if (typeof v !== 'boolean') return this.add(path, `expected true or false, got ${describe(v)}`);
    return v;
  }

  /** One of a fixed set of words. */
  oneOf<T extends string>(v: unknown, path: Path, choices: readonly T[]): T | undefined {
    if (typeof v === 'string' && (choices as readonly string[]).includes(v)) return v as T;
    const near = typeof v === 'string' ? nearest(v, choices) : undefined;
    return this.add(path, `expected one of ${choices.join(', ')}, got ${describe(v)}`, near ? `did you mean \`${near}\`?` : undefined);
  }

  /** A list. */
  array(v: unknown, path: Path): unknown[] | undefined {
    if (!Array.isArray(v)) return this.add(path, `expected a list, got ${describe(v)}`);
    return v;
  }

  /** A duration (`10s`, `500ms`, `2m`, `250us`, or a number of seconds) in ms, >= 0. */
  duration(v: unknown, path: Path): number | undefined {
    const ms = parseDuration(v);
    if (ms === undefined) return this.add(path, `expected a duration like 10s, 500ms, 2m or a number of seconds, got ${describe(v)}`);
    return ms;
  }

  /** A map from model id to cap. */
  caps(v: unknown, path: Path): Record<string, number> | undefined {
    const o = this.object(v, path);
    if (!o) return undefined;
    const out: Record<string, number> = {};
    for (const [k, c] of Object.entries(o)) {
      const n = this.cap(c, [...path, k]);
      if (n !== undefined) out[k] = n;
    }
    return out;
  }
}

const UNIT_MS: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1, us: 0.001 };

/** Parses a duration to milliseconds; numbers are seconds. Undefined when it is not a duration >= 0. */
export function parseDuration(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) && v >= 0 ? v * 1000 : undefined;
  if (typeof v !== 'string') return undefined;
  const s = v.trim();
  if (/^\d+(\.\d+)?$/.test(s)) return Number(s) * 1000;
  const re = /(\d+(?:\.\d+)?)\s*(ms|us|h|m|s)\s*/y;
  let total = 0;
  let pos = 0;
  if (!s) return undefined;
  while (pos < s.length) {
    re.lastIndex = pos;
    const m = re.exec(s);
    if (!m) return undefined;
    total += Number(m[1]) * UNIT_MS[m[2]!]!;
    pos = re.lastIndex;
  }
  return total;
}

/** A short description of a value for messages, e.g. `"abc" (a string)`. */
export function describe(v: unknown): string {
  if (v === null || v === undefined) return 'nothing';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'string') return `"${v.length > 40 ? v.slice(0, 40) + '...' : v}" (a string)`;
  return `${String(v)} (a ${typeof v})`;
}

/** "Did you mean": one implementation, on the ground floor (src/nearest.ts), shared with the scenario's checks. */
export { editDistance, nearest } from '../nearest.js';

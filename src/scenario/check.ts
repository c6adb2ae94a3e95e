/**
 * Checks a parsed YAML node tree against a field description (fields.ts), collecting every problem with
 * its file:line:col, what was expected and a hint. Returns the valid parts as plain values (durations in
 * ms, rates as fractions); invalid parts are left out, so the caller can keep checking the rest.
 */
import { isAlias, isMap, isScalar, isSeq, type Document, type LineCounter, type Node } from 'yaml';
import type { Problem } from '../errors.js';
import { describe, type Field, type ObjectField } from './fields.js';
import { nearest } from './nearest.js';
import { parseDuration } from './duration.js';
import { MAX_DURATION_MS, MAX_LIST_ITEMS } from './limits.js';
import { looksSecret } from './redact.js';

/** Where check() reports, and how it turns nodes into positions. */
export interface CheckCtx {
  file: string;
  doc: Document;
  lines: LineCounter;
  problems: Problem[];
}

/** `file:line:col` of a node's start (or of a raw offset). */
export function whereOf(ctx: CheckCtx, node: unknown, extra = 0): string | undefined {
  const range = (node as { range?: [number, number, number] } | null)?.range;
  if (!range) return undefined;
  const { line, col } = ctx.lines.linePos(range[0] + extra);
  return `${ctx.file}:${line}:${col}`;
}

/** Dotted path for messages: `models.deepseek-v4-flash.weight`, `load.stages[2].hold`. */
export function pathText(path: readonly (string | number)[]): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out ? `.${p}` : p;
  return out;
}

function add(ctx: CheckCtx, path: readonly (string | number)[], node: unknown, message: string, hint?: string) {
  const p: Problem = { path: pathText(path), message };
  const where = whereOf(ctx, node);
  if (where) p.where = where;
  if (hint) p.hint = hint;
  ctx.problems.push(p);
}

/** A short, safe rendering of what was found. */
function got(node: unknown, secret = false): string {
  if (isMap(node)) return 'a mapping';
  if (isSeq(node)) return 'a list';
  if (isScalar(node)) {
    const v = node.value;
    if (v === null || v === undefined) return 'nothing';
    if (secret || (typeof v === 'string' && looksSecret(v))) return `a ${typeof v} (not shown)`;
    const s = JSON.stringify(v) ?? String(v);
    return s.length > 40 ? s.slice(0, 37) + '...' : s;
  }
  return 'something else';
}

function shapeFits(node: unknown, f: Field): boolean {
  const v = isScalar(node) ? node.value : undefined;
  switch (f.kind) {
    case 'object':
      return isMap(node) || (!!f.nullable && isScalar(node) && v === null);
    case 'array':
      return isSeq(node);
    case 'string':
      return typeof v === 'string';
    case 'number':
      return typeof v === 'number';
    case 'boolean':
      return typeof v === 'boolean';
    case 'duration':
    case 'rate':
      return typeof v === 'number' || typeof v === 'string';
    case 'oneOf':
      return f.variants.some((x) => shapeFits(node, x));
  }
}

function typeHint(f: Field, node: unknown): string | undefined {
  const v = isScalar(node) ? node.value : undefined;
  if (typeof v === 'string' && looksSecret(v)) {
    return 'this looks like a secret itself: keep keys in environment variables and name the variable here';
  }
  if (f.kind === 'boolean' && typeof v === 'string' && /^(yes|no|on|off|y|n)$/i.test(v)) {
    return 'YAML 1.2 reads yes/no/on/off as text: write true or false';
  }
  if ((f.kind === 'number' || f.kind === 'string') && f.example) return `for example: ${f.example}`;
  if (f.kind === 'string' && typeof v === 'number') return 'quote it to make it a string';
  if (f.kind === 'duration') return 'write e.g. 10s, 500ms or 2m (a bare number is seconds)';
  if (f.kind === 'object' && f.example) return `for example: ${f.example}`;
  return undefined;
}

/**
 * Checks `node` against `f` at `path`, appending problems to ctx. Returns the plain value when valid
 * (partially valid for mappings and lists), undefined when not.
 */
export function check(node: unknown, f: Field, path: (string | number)[], ctx: CheckCtx): unknown {
  if (isAlias(node)) node = node.resolve(ctx.doc);
  if (f.kind === 'oneOf') {
    const variant = f.variants.find((x) => shapeFits(node, x));
    if (!variant) {
      add(ctx, path, node, `expected ${describe(f)} (got ${got(node)})`, f.doc);
      return undefined;
    }
    return check(node, variant, path, ctx);
  }
  if (!shapeFits(node, f)) {
    add(ctx, path, node, `expected ${describe(f)} (got ${got(node, f.kind === 'string' && f.secret)})`, typeHint(f, node));
    return undefined;
  }
  switch (f.kind) {
    case 'object':
      return checkObject(node, f, path, ctx);
    case 'array': {
      const seq = node as { items: unknown[] };
      if (f.minItems !== undefined && seq.items.length < f.minItems) {
        add(ctx, path, node, `expected at least ${f.minItems} item(s) (got ${seq.items.length})`);
        return undefined;
      }
      if (seq.items.length > MAX_LIST_ITEMS) {
        add(ctx, path, node, `expected at most ${MAX_LIST_ITEMS} items (got ${seq.items.length})`, 'split the run into several scenarios');
        return undefined;
      }
      const out: unknown[] = [];
      seq.items.forEach((item, i) => {
        const v = check(item, f.items, [...path, i], ctx);
        if (v !== undefined) out.push(v);
      });
      return out;
    }
    case 'string': {
      const v = (node as { value: string }).value;
      if (f.enum && !f.enum.includes(v)) {
        const near = nearest(v, f.enum);
        add(ctx, path, node, `expected ${describe(f)} (got ${got(node, f.secret)})`, near ? `did you mean \`${near}\`?` : undefined);
        return undefined;
      }
      if (f.pattern && !new RegExp(f.pattern, 'u').test(v)) {
        add(ctx, path, node, `expected ${describe(f)} (got ${got(node, f.secret)})`, typeHint(f, node));
        return undefined;
      }
      return v;
    }
    case 'number': {
      const v = (node as { value: number }).value;
      const bad =
        !Number.isFinite(v) ||
        (f.integer && !Number.isInteger(v)) ||
        (f.min !== undefined && v < f.min) ||
        (f.exclusiveMin !== undefined && v <= f.exclusiveMin) ||
        (f.max !== undefined && v > f.max) ||
        (f.exclusiveMax !== undefined && v >= f.exclusiveMax);
      if (bad) {
        add(ctx, path, node, `expected ${describe(f)} (got ${got(node)})`, typeHint(f, node));
        return undefined;
      }
      return v;
    }
    case 'boolean':
      return (node as { value: boolean }).value;
    case 'duration': {
      const r = parseDuration((node as { value: unknown }).value);
      if ('error' in r) {
        add(ctx, path, node, `expected ${r.error} (got ${got(node)})`, typeHint(f, node));
        return undefined;
      }
      if (r.ms > MAX_DURATION_MS) {
        add(ctx, path, node, `expected at most 7 days (got ${got(node)})`, 'durations are bounded so that every timer can hold them');
        return undefined;
      }
      return r.ms;
    }
    case 'rate': {
      const raw = (node as { value: unknown }).value;
      let v = typeof raw === 'number' ? raw : NaN;
      if (typeof raw === 'string') {
        const m = /^\s*(\d+(?:\.\d+)?)\s*%\s*$/.exec(raw);
        if (m) v = Number(m[1]) / 100;
      }
      if (!(v >= 0 && v <= 1)) {
        const hint = typeof raw === 'number' && raw > 1 && raw <= 100 ? `did you mean ${raw}%? (a bare number is a fraction: 0.05 = 5%)` : 'write 0.05 or 5%';
        add(ctx, path, node, `expected ${describe(f)} (got ${got(node)})`, hint);
        return undefined;
      }
      return v;
    }
  }
}

function checkObject(node: unknown, f: ObjectField, path: (string | number)[], ctx: CheckCtx): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (!isMap(node)) return out; // nullable: `key:` with no value
  if (node.items.length > MAX_LIST_ITEMS) {
    add(ctx, path, node, `expected at most ${MAX_LIST_ITEMS} entries (got ${node.items.length})`, 'split the run into several scenarios');
    return out;
  }
  if (f.delegate) return plain(node, path, ctx) as Record<string, unknown>;
  const known = Object.keys(f.props ?? {});
  const seen = new Set<string>();
  for (const pair of node.items) {
    const keyNode = pair.key as Node | null;
    const key = isScalar(keyNode) ? String(keyNode.value) : undefined;
    if (key === undefined) {
      add(ctx, path, keyNode, 'expected a plain key (got a complex key)');
      continue;
    }
    seen.add(key);
    const propField = f.props?.[key];
    if (propField) {
      const v = check(pair.value, propField, [...path, key], ctx);
      if (v !== undefined) out[key] = v;
    } else if (f.values) {
      if (f.keyPattern && !new RegExp(f.keyPattern).test(key)) {
        add(ctx, [...path, key], keyNode, `expected the key to be ${f.keyPatternText ?? 'valid'} (got ${JSON.stringify(key)})`);
        continue;
      }
      const v = check(pair.value, f.values, [...path, key], ctx);
      if (v !== undefined) out[key] = v;
    } else if (f.open) {
      out[key] = plain(pair.value, [...path, key], ctx) ?? (isScalar(pair.value) ? pair.value.value : null);
    } else {
      const near = nearest(key, known);
      const hint = near ? `did you mean \`${near}\`?` : `known keys here: ${known.join(', ')}`;
      add(ctx, [...path, key], keyNode, `unknown key \`${key}\``, hint);
    }
  }
  for (const r of f.required ?? []) {
    if (!seen.has(r)) {
      const field = f.props?.[r];
      const ex = field && 'example' in field && field.example ? ` for example \`${r}: ${field.example}\`` : '';
      add(ctx, [...path, r], node, `is required`, `add \`${r}:\` under ${path.length ? pathText(path) : 'the top level'}${ex}`);
    }
  }
  if (f.minKeys !== undefined && node.items.length < f.minKeys) {
    add(ctx, path, node, `expected at least ${f.minKeys} entr${f.minKeys === 1 ? 'y' : 'ies'}`, f.doc);
  }
  return out;
}

/**
 * A node as a plain value (for blocks validated elsewhere). yaml refuses alias bombs here ("Excessive alias
 * count"): that is a problem in the file, reported at the node, never an internal error.
 */
function plain(node: unknown, path: (string | number)[], ctx: CheckCtx): unknown {
  try {
    return (node as { toJSON?: () => unknown } | null)?.toJSON?.();
  } catch (e) {
    add(ctx, path, node, `cannot expand this block: ${String((e as Error)?.message ?? e).split('\n')[0]}`, 'too many or nested aliases (*name): write the values out');
    return undefined;
  }
}

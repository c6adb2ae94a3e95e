/**
 * Command-line overrides of a scenario file (`--set KEY=VALUE`, and `--url`, `--seed`, `--need`, `--models`,
 * which the CLI turns into the same thing). They are applied to the YAML document *before* validation, so an
 * override is checked by the same rules, with the same messages, as the file; a problem in an override names
 * the option the user typed instead of a line of the file.
 */
import { isMap, isNode, isSeq, parse, visit, Pair, Scalar, YAMLMap, type Document, type Node } from 'yaml';
import type { Problem } from '../errors.js';
import { resolveModelName } from '../models.js';

/** One `KEY=VALUE` override. */
export interface ScenarioOverride {
  /** Dotted key path: `load.max`, `models.deepseek-v4-flash.weight`, `mock.faults[0].rate`. */
  key: string;
  /** The value as typed: read as YAML (`300` a number, `false` a boolean, `[a, b]` a list), else a string. */
  value: string;
  /** What the user typed, for messages: `--set load.max=300`, `--url https://...`. */
  source: string;
  /** Take the value as a string, never as YAML (`--url`). */
  literal?: boolean;
}

/** Overrides for one read of a scenario, applied in this order: models first, then the keys. */
export interface ScenarioOverrides {
  /** Keep exactly these models, in this order (short names like `flash` allowed); missing ones are added as `{}`. */
  models?: readonly string[];
  /** Source text of the `models` override, for messages (default `--models`). */
  modelsSource?: string;
  set?: readonly ScenarioOverride[];
}

/** Marks YAML nodes an override created; check.ts's whereOf() reports them by this source, not a position. */
export const OVERRIDE_SOURCE: unique symbol = Symbol('dsprobe.override-source');

type Tagged = { [OVERRIDE_SOURCE]?: string };

/** `--set a.b=c` text -> an override, or a problem (no `=`, empty key). */
export function parseSetOption(text: string, source = `--set ${text}`): ScenarioOverride | Problem {
  const eq = text.indexOf('=');
  if (eq <= 0) {
    return { path: '--set', message: `expected KEY=VALUE (got \`${text}\`)`, hint: 'e.g. --set load.max=300 or --set request.stream=false' };
  }
  return { key: text.slice(0, eq).trim(), value: text.slice(eq + 1), source };
}

/** `a.b[2].c` -> ['a', 'b', 2, 'c']. */
export function keyPath(key: string): (string | number)[] {
  return (key.match(/\[\d+\]|[^.[\]]+/g) ?? []).map((s) => (s.startsWith('[') ? Number(s.slice(1, -1)) : s));
}

function tag(node: unknown, source: string): void {
  if (!isNode(node)) return;
  visit(node as Node, {
    Node(_, n) {
      (n as Tagged)[OVERRIDE_SOURCE] = source;
    },
    Pair(_, p) {
      if (isNode(p.key)) (p.key as Tagged)[OVERRIDE_SOURCE] = source;
    },
  });
}

/** The model names the document lists (for short-name resolution). */
function docModels(doc: Document): string[] {
  const m = doc.get('models', true);
  return isMap(m) ? m.items.map((it) => String((it.key as Scalar | undefined)?.value ?? it.key)) : [];
}

/** Applies the overrides to the document in place. Returns problems (the document is then left partly changed). */
export function applyOverrides(doc: Document, o: ScenarioOverrides): Problem[] {
  const problems: Problem[] = [];
  if (!isMap(doc.contents)) {
    if (doc.contents == null) doc.contents = new YAMLMap() as never;
    else return [{ path: '', message: 'the scenario is not a mapping, so options cannot override its keys' }];
  }
  if (o.models) applyModels(doc, o.models, o.modelsSource ?? `--models ${o.models.join(',')}`);
  for (const s of o.set ?? []) {
    const p = applyOne(doc, s);
    if (p) problems.push(p);
  }
  return problems;
}

function applyModels(doc: Document, names: readonly string[], source: string): void {
  const known = docModels(doc);
  const old = doc.get('models', true);
  const out = new YAMLMap();
  for (const short of names) {
    const name = resolveModelName(short, known);
    const prev = isMap(old) ? old.items.find((it) => String((it.key as Scalar | undefined)?.value ?? it.key) === name) : undefined;
    if (prev) {
      out.items.push(prev);
    } else {
      const pair = new Pair(new Scalar(name), new YAMLMap());
      tag(pair.key, source);
      tag(pair.value, source);
      out.items.push(pair);
    }
  }
  (out as Tagged)[OVERRIDE_SOURCE] = source;
  doc.set('models', out);
  // The key `models` itself may be new: give its pair's key the source too.
  const pair = (doc.contents as YAMLMap).items.find((it) => String((it.key as Scalar | undefined)?.value ?? it.key) === 'models');
  if (pair && !isNode(pair.key)) {
    pair.key = new Scalar('models');
    tag(pair.key, source);
  }
}

function applyOne(doc: Document, s: ScenarioOverride): Problem | undefined {
  const path = keyPath(s.key);
  if (!path.length) return { path: s.source, message: 'the key is empty', hint: 'e.g. --set load.max=300' };
  // `models.flash.weight`: short model names, as with --models.
  if (path[0] === 'models' && typeof path[1] === 'string') path[1] = resolveModelName(path[1], docModels(doc));
  let value: unknown = s.value;
  if (!s.literal) {
    try {
      value = parse(s.value);
    } catch {
      value = s.value;
    }
  }
  if (value === undefined) value = null;
  const node = doc.createNode(value);
  tag(node, s.source);

  let parent: unknown = doc.contents;
  for (let i = 0; i < path.length; i++) {
    const seg = path[i]!;
    const last = i === path.length - 1;
    const shown = path.slice(0, i).join('.') || 'the scenario';
    if (isMap(parent)) {
      const pair = parent.items.find((it) => String((it.key as Scalar | undefined)?.value ?? it.key) === String(seg));
      if (last) {
        if (pair) pair.value = node;
        else {
          const key = new Scalar(seg);
          tag(key, s.source);
          parent.items.push(new Pair(key, node));
        }
        return undefined;
      }
      if (!pair || pair.value == null || (isNode(pair.value) && (pair.value as Scalar).value === null && !isMap(pair.value) && !isSeq(pair.value))) {
        const child = typeof path[i + 1] === 'number' ? null : new YAMLMap();
        if (child === null) return { path: s.source, message: `\`${path.slice(0, i + 1).join('.')}\` is not a list here`, hint: 'set the whole list instead, e.g. --set \'key=[...]\'' };
        tag(child, s.source);
        if (pair) pair.value = child;
        else {
          const key = new Scalar(seg);
          tag(key, s.source);
          parent.items.push(new Pair(key, child));
        }
        parent = child;
        continue;
      }
      parent = pair.value;
    } else if (isSeq(parent) && typeof seg === 'number') {
      if (seg > parent.items.length) {
        return { path: s.source, message: `index ${seg} is past the end of the list (${parent.items.length} item(s))`, hint: `use an index up to ${parent.items.length}` };
      }
      if (last) {
        parent.items[seg] = node;
        return undefined;
      }
      parent = parent.items[seg];
    } else {
      return { path: s.source, message: `\`${shown}\` is not a mapping, so it has no key \`${seg}\``, hint: 'set the whole value instead' };
    }
  }
  return undefined;
}

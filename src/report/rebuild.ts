/**
 * Reading report inputs for `dsprobe report | compare | merge`: a report.json (checked against the
 * `dsprobe.report/v1` shape, with file:line:col for bad JSON), a samples.ndjson (rebuilt into a report by the
 * run's own builder), or a run directory holding either. Bad input is a usage error naming the file and what
 * was wrong; never a stack trace.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Report } from '../types.js';
import { usageError, type Problem } from '../errors.js';
import { buildReportFromSamples, type SamplesHeader } from './build.js';
import { parseSamples } from './samples.js';

/** What an INPUT argument turned out to be. */
export interface ResolvedInput {
  kind: 'report' | 'samples';
  path: string;
}

/** Resolves a report.json, a samples.ndjson, or a run directory (report.json preferred, else samples.ndjson). */
export function resolveInput(path: string): ResolvedInput {
  if (!existsSync(path)) throw usageError(`${path}: no such file or directory`, [{ path: '', message: 'expected a report.json, a samples.ndjson or a run directory', hint: 'runs write both into reports/<name>-<timestamp>/' }]);
  if (statSync(path).isDirectory()) {
    if (existsSync(join(path, 'report.json'))) return { kind: 'report', path: join(path, 'report.json') };
    if (existsSync(join(path, 'samples.ndjson'))) return { kind: 'samples', path: join(path, 'samples.ndjson') };
    throw usageError(`${path}: holds neither report.json nor samples.ndjson`, [{ path: '', message: 'expected a run directory written by `dsprobe run`', hint: 'pass the report.json or samples.ndjson file itself' }]);
  }
  return { kind: /\.ndjson$|\.jsonl$/i.test(path) ? 'samples' : 'report', path };
}

/**
 * Offset of the first JSON syntax error in `text` (V8's messages do not always say), found by a small
 * validating scanner. Only called once JSON.parse has failed.
 */
export function jsonErrorOffset(text: string): number {
  let i = 0;
  const ws = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i] as string)) i++;
  };
  const fail = () => {
    throw i;
  };
  const lit = (word: string) => (text.startsWith(word, i) ? (i += word.length) : fail());
  const str = () => {
    i++;
    while (i < text.length && text[i] !== '"') {
      if ((text.charCodeAt(i) as number) < 0x20) fail();
      i += text[i] === '\\' ? 2 : 1;
    }
    if (i >= text.length) fail();
    i++;
  };
  const num = () => {
    const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i, i + 400));
    if (!m || !m[0]) fail();
    i += (m as RegExpExecArray)[0].length;
  };
  const value = (): void => {
    ws();
    const c = text[i];
    if (c === '{' || c === '[') {
      const close = c === '{' ? '}' : ']';
      i++;
      ws();
      if (text[i] === close) return void i++;
      for (;;) {
        if (c === '{') {
          ws();
          if (text[i] !== '"') fail();
          str();
          ws();
          if (text[i] !== ':') fail();
          i++;
        }
        value();
        ws();
        if (text[i] === ',') i++;
        else if (text[i] === close) return void i++;
        else fail();
      }
    }
    if (c === '"') return str();
    if (c === 't') return void lit('true');
    if (c === 'f') return void lit('false');
    if (c === 'n') return void lit('null');
    return num();
  };
  try {
    value();
    ws();
    if (i < text.length) fail();
  } catch (at) {
    if (typeof at === 'number') return Math.min(at, text.length);
    throw at;
  }
  return text.length;
}

/** 1-based line and column of a character offset. */
function lineCol(text: string, offset: number): string {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  return `${line}:${offset - before.lastIndexOf('\n')}`;
}

/** The minimal shape every renderer relies on; each miss is one Problem with its key path. */
function shapeProblems(v: unknown, file: string): Problem[] {
  const p: Problem[] = [];
  const r = v as Record<string, unknown>;
  if (!r || typeof r !== 'object' || Array.isArray(r)) return [{ path: '', message: 'expected a JSON object', where: file }];
  if (r.schema !== 'dsprobe.report/v1') {
    p.push({ path: 'schema', message: `expected "dsprobe.report/v1", got ${JSON.stringify(r.schema) ?? 'nothing'}`, hint: 'is this a report.json written by dsprobe run?', where: file });
    return p;
  }
  const need = (key: string, ok: boolean, what: string) => {
    if (!ok) p.push({ path: key, message: `expected ${what}`, where: file });
  };
  need('name', typeof r.name === 'string', 'a string');
  need('models', Array.isArray(r.models), 'an array');
  need('timeline', Array.isArray(r.timeline), 'an array');
  need('thresholds', Array.isArray(r.thresholds), 'an array');
  need('loop', !!r.loop && typeof r.loop === 'object', 'an object');
  need('cost', !!r.cost && typeof r.cost === 'object', 'an object');
  need('environment', !!r.environment && typeof r.environment === 'object', 'an object');
  need('target', !!r.target && typeof r.target === 'object', 'an object');
  if (Array.isArray(r.models)) {
    r.models.forEach((m: unknown, i: number) => {
      const mm = m as Record<string, unknown>;
      need(`models[${i}].model`, typeof mm?.model === 'string', 'a string');
      need(`models[${i}].cap`, !!mm?.cap && typeof mm.cap === 'object', 'an object');
      need(`models[${i}].spend`, !!mm?.spend && typeof mm.spend === 'object', 'an object');
      need(`models[${i}].steps`, Array.isArray(mm?.steps), 'an array');
      if (Array.isArray(mm?.steps)) {
        (mm.steps as unknown[]).forEach((s, j) => {
          const ss = s as Record<string, unknown>;
          need(`models[${i}].steps[${j}].histograms`, !!ss?.histograms && typeof ss.histograms === 'object', 'an object of HDR histograms');
          need(`models[${i}].steps[${j}].target_inflight`, typeof ss?.target_inflight === 'number', 'a number');
        });
      }
    });
  }
  return p.slice(0, 20);
}

/** Parses report.json text; `file` names it in messages. */
export function parseReport(text: string, file: string): Report {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    const msg = (err as Error).message;
    const at = /position (\d+)/.exec(msg);
    const where = `${file}:${lineCol(text, at ? Number(at[1]) : jsonErrorOffset(text))}`;
    throw usageError(`${where}: not valid JSON (${msg.replace(/^JSON\.parse: /, '').replace(/\s+/g, ' ').slice(0, 160)})`, [{ path: '', message: 'expected a report.json written by dsprobe run', hint: 'a report cut short by a crash can be rebuilt from samples.ndjson: dsprobe report samples.ndjson' }]);
  }
  const problems = shapeProblems(v, file);
  if (problems.length) throw usageError(`${file}: not a dsprobe report`, problems);
  return v as Report;
}

/** Reads and checks a report.json. */
export function loadReport(path: string): Report {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw usageError(`${path}: cannot read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  return parseReport(text, path);
}

/**
 * Rebuilds a whole report from samples.ndjson with the run's own builder. `header` stands in for the file's
 * header line when it is missing (e.g. a hand-made samples file).
 */
export function rebuildFromSamples(samplesNdjson: string, header?: SamplesHeader): Report {
  let text: string;
  try {
    text = readFileSync(samplesNdjson, 'utf8');
  } catch (err) {
    throw usageError(`${samplesNdjson}: cannot read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  const parsed = parseSamples(text);
  const h = parsed.header ?? header;
  if (!h) {
    throw usageError(`${samplesNdjson}:1:1: no header line`, [{ path: 'kind', message: 'expected a first line with "kind": "dsprobe.samples/v1"', hint: 'rebuild only from samples.ndjson files written by dsprobe run' }]);
  }
  if (!parsed.samples.length) throw usageError(`${samplesNdjson}: holds no samples`);
  const report = buildReportFromSamples(h, parsed.samples, undefined, parsed.steps, parsed.ends);
  if (parsed.skipped) report.warnings.push(`${parsed.skipped} unreadable line(s) of samples.ndjson were skipped (a torn last line after a crash is normal).`);
  return report;
}

/** Loads any INPUT as a report: report.json read as is, samples.ndjson rebuilt. */
export function loadAny(path: string): { report: Report; from: ResolvedInput } {
  const from = resolveInput(path);
  return { report: from.kind === 'report' ? loadReport(from.path) : rebuildFromSamples(from.path), from };
}

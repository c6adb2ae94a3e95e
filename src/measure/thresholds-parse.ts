/**
 * The threshold language (k6-like; documented in docs/thresholds.md):
 *
 *   threshold := metric comparison quantity
 *   threshold := metric comparison quantity [or none]
 *   metric    := cap(MODEL) | headroom(MODEL)
 *              | rate_429[(args)] | error_rate[(args)]        args: [MODEL][, inflight OP N]
 *              | ok[(args)] | success_rate[(args)]          successes: count, share of answered requests
 *              | p50|p90|p95|p99|max|mean(FIELD[, MODEL][, inflight OP N])
 *   FIELD     := ttft | latency | keepalive_wait | tpot
 *   OP        := < | <= | > | >= | == | !=
 *   quantity  := NUMBER [s | ms | us | %]
 *
 * Time quantities are normalised to milliseconds (a bare number is milliseconds, as in k6), rates to a
 * fraction (1% = 0.01), caps to requests. Errors carry a 1-based column and a hint.
 */
import { nearest } from '../nearest.js';

export type Comparison = '<' | '<=' | '>' | '>=' | '==' | '!=';
export type TimeField = 'ttft' | 'latency' | 'keepalive_wait' | 'tpot' | 'app_latency' | 'queue_wait';
export type PercentileName = 'p50' | 'p90' | 'p95' | 'p99' | 'max' | 'mean';

/** A parsed threshold. `value` is in the metric's unit: ms for times, a fraction for rates, requests for caps. */
export interface ThresholdAst {
  metric: 'cap' | 'headroom' | 'rate_429' | 'error_rate' | 'ok' | PercentileName | RateMetric;
  /** The latency histogram, for percentile metrics. */
  field?: TimeField;
  /** Restrict to one model (all models when absent; required for cap). */
  model?: string;
  /** Column of the model name in the expression (1-based), for messages about unknown models. */
  modelCol?: number;
  /** Restrict to steps whose target in-flight satisfies `inflight OP value`. */
  scope?: { op: Comparison; value: number };
  /** Rate mode: judge this client policy (`policy == NAME`). */
  policy?: string;
  op: Comparison;
  value: number;
  unit: 'ms' | 'fraction' | 'requests' | 'per_s' | 'ratio';
  /** `... or none`: passes when there is no data (e.g. `p95(keepalive_wait) < 1s or none`: no queueing is fine). */
  orNone?: boolean;
}

/** Rate mode's application-level metrics (docs/policies.md). */
export type RateMetric = 'goodput' | 'success_rate' | 'amplification';
export const RATE_METRICS: readonly RateMetric[] = ['goodput', 'success_rate', 'amplification'];

/** A parse error: message, 1-based column in the expression, and a hint. */
export interface ThresholdParseError {
  message: string;
  col: number;
  hint?: string;
}

export const PERCENTILES: readonly PercentileName[] = ['p50', 'p90', 'p95', 'p99', 'max', 'mean'];
export const TIME_FIELDS: readonly TimeField[] = ['ttft', 'latency', 'keepalive_wait', 'tpot', 'app_latency', 'queue_wait'];
const METRICS = ['cap', 'headroom', 'rate_429', 'error_rate', 'ok', ...PERCENTILES, ...RATE_METRICS];
const COMPARISONS: readonly string[] = ['<=', '>=', '==', '!=', '<', '>'];
const TIME_UNITS: Record<string, number> = { s: 1000, ms: 1, us: 0.001, µs: 0.001 };

type Tok =
  | { t: 'word'; v: string; col: number }
  | { t: 'num'; v: number; unit: string; col: number; text: string }
  | { t: 'op'; v: string; col: number }
  | { t: 'punct'; v: '(' | ')' | ','; col: number }
  | { t: 'end'; col: number };

class Fail extends Error {
  constructor(readonly e: ThresholdParseError) {
    super(e.message);
  }
}

function fail(message: string, col: number, hint?: string): never {
  throw new Fail(hint ? { message, col, hint } : { message, col });
}

function lex(s: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < s.length) {
    const c = s[i]!;
    const col = i + 1;
    if (c === ' ' || c === '\t') {
      i++;
    } else if (c === '(' || c === ')' || c === ',') {
      out.push({ t: 'punct', v: c, col });
      i++;
    } else if ('<>=!'.includes(c)) {
      const two = s.slice(i, i + 2);
      if (COMPARISONS.includes(two)) {
        out.push({ t: 'op', v: two, col });
        i += 2;
      } else if (c === '<' || c === '>') {
        out.push({ t: 'op', v: c, col });
        i++;
      } else if (c === '=') {
        fail('`=` is not a comparison', col, 'use == to compare for equality');
      } else {
        fail('`!` must be followed by =', col, 'use != for "not equal"');
      }
    } else if (/[0-9.]/.test(c)) {
      const m = /^(\d+(?:\.\d+)?|\.\d+)\s*(%|\/[a-zA-Z]+|[a-zA-Zµ]+)?/.exec(s.slice(i));
      if (!m) fail(`unexpected \`${c}\``, col);
      out.push({ t: 'num', v: Number(m[1]), unit: m[2] ?? '', col, text: m[0] });
      i += m[0].length;
    } else if (c === '"' || c === "'") {
      const end = s.indexOf(c, i + 1);
      if (end < 0) fail('unterminated quoted name', col, `close it with ${c}`);
      out.push({ t: 'word', v: s.slice(i + 1, end), col });
      i = end + 1;
    } else if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_.:/-]*/.exec(s.slice(i))!;
      out.push({ t: 'word', v: m[0], col });
      i += m[0].length;
    } else {
      fail(`unexpected \`${c}\``, col, 'a threshold looks like `p99(ttft, deepseek-v4-flash) < 2.5s`');
    }
  }
  out.push({ t: 'end', col: s.length + 1 });
  return out;
}

function describeTok(t: Tok): string {
  if (t.t === 'end') return 'the end';
  if (t.t === 'num') return `\`${t.text}\``;
  return `\`${t.v}\``;
}

/** Parses one threshold expression. Never throws. */
export function parseThreshold(expr: string): { ast?: ThresholdAst; error?: ThresholdParseError } {
  try {
    return { ast: parse(expr) };
  } catch (e) {
    if (e instanceof Fail) return { error: e.e };
    throw e;
  }
}

function parse(expr: string): ThresholdAst {
  const toks = lex(expr);
  let i = 0;
  const peek = () => toks[i]!;
  const next = () => toks[i++]!;

  const head = next();
  if (head.t !== 'word') {
    fail(`expected a metric such as cap, rate_429 or p99 (got ${describeTok(head)})`, head.col, `metrics: ${METRICS.join(', ')}`);
  }
  const metricName = head.v;
  if (!METRICS.includes(metricName)) {
    const near = nearest(metricName, METRICS);
    const pct = /^p(\d+)$/.exec(metricName);
    const hint = pct
      ? `supported percentiles: ${PERCENTILES.join(', ')}`
      : near
        ? `did you mean \`${near}\`?`
        : `metrics: ${METRICS.join(', ')}`;
    fail(`unknown metric \`${metricName}\``, head.col, hint);
  }
  const metric = metricName as ThresholdAst['metric'];
  const isPct = (PERCENTILES as readonly string[]).includes(metric);
  const unit: ThresholdAst['unit'] = metric === 'cap' || metric === 'ok' ? 'requests' : isPct ? 'ms' : metric === 'goodput' ? 'per_s' : metric === 'amplification' ? 'ratio' : 'fraction';
  const ast: ThresholdAst = { metric, op: '<', value: 0, unit };

  // Arguments.
  const args: { tok: Tok & { t: 'word' }; scope?: { op: Comparison; value: number }; policy?: string }[] = [];
  if (peek().t === 'punct' && (peek() as { v: string }).v === '(') {
    const open = next();
    if (peek().t === 'punct' && (peek() as { v: string }).v === ')') {
      next();
    } else {
      for (;;) {
        const a = next();
        if (a.t !== 'word') fail(`expected a name (got ${describeTok(a)})`, a.col, argHint(metric));
        if (peek().t === 'op') {
          // A scope: inflight <= 400.
          const op = next() as Tok & { t: 'op' };
          if (a.v === 'policy') {
            // Rate mode: `policy == NAME` judges one client policy.
            const name = next();
            if (op.v !== '==' || name.t !== 'word') fail('expected `policy == NAME`', a.col, 'e.g. `goodput(deepseek-v4-flash, policy == pool) >= 100/s`');
            args.push({ tok: a, policy: name.v });
            const sep = next();
            if (sep.t === 'punct' && sep.v === ')') break;
            if (sep.t === 'punct' && sep.v === ',') continue;
            fail(`expected \`,\` or \`)\` (got ${describeTok(sep)})`, sep.col, argHint(metric));
          }
          if (a.v !== 'inflight') {
            const near = nearest(a.v, ['inflight']);
            fail(`unknown scope \`${a.v}\``, a.col, near ? 'did you mean `inflight`?' : 'scope steps with `inflight <= N`');
          }
          const n = next();
          if (n.t !== 'num' || n.unit !== '' || !Number.isInteger(n.v)) {
            fail(`expected a whole number of requests after \`inflight ${op.v}\` (got ${describeTok(n)})`, n.col, 'e.g. `inflight <= 400`');
          }
          args.push({ tok: a, scope: { op: op.v as Comparison, value: n.v } });
        } else {
          args.push({ tok: a });
        }
        const sep = next();
        if (sep.t === 'punct' && sep.v === ')') break;
        if (sep.t === 'punct' && sep.v === ',') continue;
        fail(`expected \`,\` or \`)\` (got ${describeTok(sep)})`, sep.col, sep.t === 'end' ? `close the \`(\` opened at column ${open.col}` : argHint(metric));
      }
    }
  } else if (metric === 'cap' || metric === 'headroom' || isPct) {
    fail(`\`${metric}\` needs arguments in parentheses`, peek().col, argHint(metric));
  }

  // Give the arguments their roles.
  let k = 0;
  if (isPct) {
    const f = args[0];
    if (!f || f.scope) fail(`\`${metric}\` needs a field first`, f?.tok.col ?? head.col, argHint(metric));
    if (!(TIME_FIELDS as readonly string[]).includes(f.tok.v)) {
      const near = nearest(f.tok.v, TIME_FIELDS);
      fail(`unknown field \`${f.tok.v}\``, f.tok.col, near ? `did you mean \`${near}\`?` : `fields: ${TIME_FIELDS.join(', ')}`);
    }
    ast.field = f.tok.v as TimeField;
    k = 1;
  }
  for (; k < args.length; k++) {
    const a = args[k]!;
    if (a.policy !== undefined) {
      if (metric === 'cap') fail('`cap` takes no policy', a.tok.col, 'write `cap(MODEL) >= N`');
      if (ast.policy !== undefined) fail('only one policy is allowed', a.tok.col);
      ast.policy = a.policy;
    } else if (a.scope) {
      if (metric === 'cap') fail('`cap` takes no in-flight scope', a.tok.col, 'write `cap(MODEL) >= N`');
      if (metric === 'headroom') fail('`headroom` takes no in-flight scope', a.tok.col, 'write `headroom(MODEL) >= 20%`');
      if (ast.scope) fail('only one in-flight scope is allowed', a.tok.col);
      ast.scope = a.scope;
    } else {
      if (ast.model !== undefined) fail(`unexpected second model \`${a.tok.v}\``, a.tok.col, 'one threshold checks one model, or all when none is named');
      if (ast.scope) fail('the model goes before the in-flight scope', a.tok.col, argHint(metric));
      if ((TIME_FIELDS as readonly string[]).includes(a.tok.v)) {
        fail(`\`${a.tok.v}\` is a latency field, not a model`, a.tok.col, isPct ? 'give the field once, first' : `use e.g. \`p99(${a.tok.v}) < 2s\``);
      }
      ast.model = a.tok.v;
      ast.modelCol = a.tok.col;
    }
  }
  if (metric === 'cap' && ast.model === undefined) fail('`cap` needs a model', head.col, 'e.g. `cap(deepseek-v4-flash) >= 2000`');
  if (metric === 'headroom' && ast.model === undefined) fail('`headroom` needs a model', head.col, 'e.g. `headroom(deepseek-v4-flash) >= 20%`');

  // Comparison and quantity.
  const op = next();
  if (op.t !== 'op') fail(`expected a comparison (<, <=, >, >=, ==, !=) (got ${describeTok(op)})`, op.col, 'e.g. `p99(ttft) < 2.5s`');
  ast.op = op.v as Comparison;
  const q = next();
  if (q.t !== 'num') fail(`expected a number (got ${describeTok(q)})`, q.col, quantityHint(ast.unit));
  ast.value = quantity(q, ast.unit, metric);
  if (peek().t === 'word' && (peek() as { v: string }).v === 'or') {
    next();
    const none = next();
    if (none.t !== 'word' || none.v !== 'none') fail(`expected \`none\` after \`or\` (got ${describeTok(none)})`, none.col, 'write `... or none` to pass when there is no data');
    ast.orNone = true;
  }
  const end = next();
  if (end.t !== 'end') fail(`unexpected ${describeTok(end)} after the threshold`, end.col, 'one comparison per threshold: write several thresholds instead');
  return ast;
}

function argHint(metric: string): string {
  if (metric === 'cap') return 'e.g. `cap(deepseek-v4-flash) >= 2000`';
  if (metric === 'headroom') return 'e.g. `headroom(deepseek-v4-flash) >= 20%`';
  if (metric === 'rate_429' || metric === 'error_rate') return `e.g. \`${metric}(deepseek-v4-pro, inflight <= 400) < 0.01\``;
  if (metric === 'ok') return 'e.g. `ok(deepseek-v4-pro) >= 50`';
  if (metric === 'goodput') return 'e.g. `goodput(deepseek-v4-flash, policy == pool) >= 100/s`';
  if (metric === 'success_rate' || metric === 'amplification') return `e.g. \`${metric}(deepseek-v4-flash, policy == pool) ${metric === 'success_rate' ? '>= 99%' : '<= 1.5'}\``;
  return `e.g. \`${metric}(ttft, deepseek-v4-flash, inflight <= 1500) < 2.5s\``;
}

function quantityHint(unit: ThresholdAst['unit']): string {
  if (unit === 'ms') return 'a time such as 2.5s, 800ms or 250us';
  if (unit === 'per_s') return 'a rate such as 100/s';
  if (unit === 'ratio') return 'a number such as 1.5';
  if (unit === 'fraction') return 'a rate such as 0.01 or 1%';
  return 'a number of requests such as 2000';
}

function quantity(q: Tok & { t: 'num' }, unit: ThresholdAst['unit'], metric: string): number {
  const u = q.unit;
  const col = q.col + q.text.search(/[%a-zA-Zµ]/);
  if (unit === 'ms') {
    if (u === '') return q.v; // k6 convention: a bare number is milliseconds
    const f = TIME_UNITS[u];
    if (f === undefined) {
      fail(`unknown time unit \`${u}\``, col, u === 'm' || u === 'min' ? 'write seconds, e.g. 120s' : 'units: s, ms, us');
    }
    return q.v * f;
  }
  if (unit === 'per_s') {
    if (u !== '' && u !== '/s') fail(`\`${u}\` is not a unit of goodput`, col, 'write requests per second, e.g. 100/s');
    return q.v;
  }
  if (unit === 'ratio') {
    if (u !== '') fail(`\`amplification\` takes no unit (got \`${u}\`)`, col, 'e.g. `amplification <= 1.5`');
    return q.v;
  }
  if (unit === 'fraction') {
    if (u === '%') return q.v / 100;
    if (u !== '') fail(`\`${u}\` is not a unit of a rate`, col, 'write a fraction (0.01) or a percentage (1%)');
    if (q.v > 1) fail(`a rate is at most 1 (got ${q.v})`, q.col, `did you mean ${q.v}%?`);
    return q.v;
  }
  if (u !== '') fail(`\`${metric}\` is a number of requests and takes no unit (got \`${u}\`)`, col, argHint(metric));
  return q.v;
}

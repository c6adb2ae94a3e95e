/**
 * A model's need (`models.X.need:`): what it must carry at launch. Parsed here from the scenario's plain
 * values or from a command-line text (`--need MODEL=1800`, `--need MODEL=300/s`), and applied to a Scenario,
 * so the flag is one call: `applyNeed(scenario, model, parseNeedText(text))`.
 */
import { usageError } from '../errors.js';
import { nearest } from './nearest.js';
import type { NeedSpec, Scenario } from './types.js';

const PER: Record<string, number> = { s: 1, sec: 1, second: 1, m: 60, min: 60, minute: 60, h: 3600, hour: 3600 };

/** `300/s` → 300, `1200/min` → 20, `90000/h` → 25, a bare number → per second. Null when it is not a rate. */
export function parseRate(v: unknown): number | null {
  if (typeof v === 'number') return Number.isFinite(v) && v > 0 ? v : null;
  if (typeof v !== 'string') return null;
  const m = /^\s*(\d+(?:\.\d+)?)\s*\/\s*([a-z]+)\s*$/.exec(v);
  const per = m ? PER[m[2] as string] : undefined;
  if (!m || per === undefined) return null;
  const n = Number(m[1]) / per;
  return n > 0 ? n : null;
}

/** The NeedSpec of a checked `need:` value (a whole number, or `{ rate }`); null when absent or invalid. */
export function needOf(v: unknown): NeedSpec | null {
  if (typeof v === 'number') return Number.isInteger(v) && v >= 1 ? { inflight: v } : null;
  if (v && typeof v === 'object' && 'rate' in v) {
    const r = parseRate((v as { rate: unknown }).rate);
    return r === null ? null : { rate_per_s: r };
  }
  return null;
}

/**
 * A need written on the command line: `1800` (in flight) or `300/s`, `1200/min`, `90000/h` (a planned rate).
 * Throws a usage error (exit 2) with a hint when it is neither.
 */
export function parseNeedText(text: string): NeedSpec {
  const t = text.trim();
  if (/^\d+$/.test(t) && Number(t) >= 1) return { inflight: Number(t) };
  const r = parseRate(t);
  if (r !== null && t.includes('/')) return { rate_per_s: r };
  throw usageError(`need: expected requests in flight (e.g. 1800) or a rate (e.g. 300/s) (got ${JSON.stringify(text.slice(0, 40))})`, [
    { path: 'need', message: 'expected a whole number >= 1 or a rate such as 300/s, 1200/min or 90000/h', hint: 'e.g. --need deepseek-v4-flash=1800 or --need deepseek-v4-pro=300/s' },
  ]);
}

/**
 * A copy of `s` with `model`'s need replaced (a `--need` override). A model not in the scenario is a usage
 * error naming the nearest model id.
 */
export function applyNeed(s: Scenario, model: string, need: NeedSpec): Scenario {
  const names = s.models.map((m) => m.name);
  if (!names.includes(model)) {
    const near = nearest(model, names);
    throw usageError(`need: model \`${model}\` is not in the scenario's models`, [
      { path: 'need', message: `model \`${model}\` is not in the scenario's models`, hint: near ? `did you mean \`${near}\`?` : `models: ${names.join(', ')}` },
    ]);
  }
  return { ...s, models: s.models.map((m) => (m.name === model ? { ...m, need } : m)) };
}

/** Words for a need: `1,800 in flight` or `300 requests/s`. */
export function needText(n: NeedSpec): string {
  return 'inflight' in n ? `${n.inflight.toLocaleString('en-US')} in flight` : `${Math.round(n.rate_per_s * 1000) / 1000} requests/s`;
}

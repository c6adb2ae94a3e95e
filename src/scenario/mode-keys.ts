/**
 * Keys that do nothing in the chosen load mode: each is a warning with the reason (never an error, so one file
 * can switch modes with `--set load.mode=ramp`), and the meaning of start/max in each mode, said in words for
 * `validate` and `plan`.
 */
import { whereOf, type CheckCtx } from './check.js';
import type { LoadSpec, ModelSpec } from './types.js';

type Raw = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** Why each search-only load key does nothing in ramp mode. */
const SEARCH_ONLY: Record<string, string> = {
  growth: 'ramp mode raises the level by load.step, not by a factor',
  precision: 'ramp mode runs its fixed steps; it does not narrow a bracket',
  recheck: 'ramp mode does not re-check a boundary',
};

/** Warnings for keys the chosen mode ignores, each with its file position (or override source) and reason. */
export function modeKeyWarnings(raw: Raw, load: LoadSpec, ctx: CheckCtx & { warnings: string[] }): void {
  const warn = (path: (string | number)[], text: string) => {
    const w = whereOf(ctx, ctx.doc.getIn(path, true));
    ctx.warnings.push(`${w ? w + ': ' : ''}${path.join('.')}: ${text}`);
  };
  const models: Raw = raw.models && typeof raw.models === 'object' ? raw.models : {};
  if (load.mode === 'search') {
    for (const [name, m] of Object.entries(models)) {
      if (m && (m as Raw).weight !== undefined) {
        warn(['models', name, 'weight'], 'ignored in search mode: each model searches its own cap at its own level (weights split the total level in ramp mode only)');
      }
    }
    const l: Raw = raw.load ?? {};
    if (l.step !== undefined) warn(['load', 'step'], 'ignored in search mode: the search grows by load.growth (step is the ramp\'s increment)');
    if (l.stages !== undefined) warn(['load', 'stages'], 'ignored in search mode: the search picks its own levels (stages are the ramp\'s or the rate\'s schedule)');
  } else {
    const l: Raw = raw.load ?? {};
    for (const [k, why] of Object.entries(SEARCH_ONLY)) {
      if (l[k] !== undefined) warn(['load', k], `ignored in ${load.mode} mode: ${load.mode === 'rate' ? 'rate mode sends on a schedule; it does not search' : why}`);
    }
    if (load.mode === 'rate' && l.on_429 !== undefined) {
      warn(['load', 'on_429'], 'ignored in rate mode: its client policies decide what follows a 429 (give a policy `retry:`, docs/policies.md)');
    }
  }
}

/** One sentence on what load.start / load.max (and the per-model keys) mean in this scenario's mode. */
export function loadMeaning(load: LoadSpec, models: readonly ModelSpec[]): string {
  if (load.mode === 'search') {
    return 'search: load.start and load.max are per model (each model searches its own cap from start up to max; models.X.inflight / models.X.max override them for one model)';
  }
  const fixed = models.filter((m) => m.inflight !== undefined).map((m) => m.name);
  const split = models.length > 1 ? `, split across the models by weight (${models.map((m) => m.weight).join(':')})` : '';
  return `ramp: load.start, load.step and load.max are the total in flight${split}${fixed.length ? `; ${fixed.join(', ')} hold${fixed.length === 1 ? 's' : ''} a fixed models.X.inflight instead` : ''}`;
}

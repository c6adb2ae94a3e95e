/**
 * The report's colours, in one place for the static HTML and the chart script. Model colours are saturated
 * hues; percentiles are a light-to-dark slate ramp (never a hue, so a percentile line cannot be mistaken for a
 * model); HDR distributions by level use viridis, which is perceptually ordered (low level light, high dark)
 * and reads in greyscale and for colour-blind readers.
 */

/** One hue per model, in report order: blue, magenta, teal, orange, purple, olive. */
export const MODEL_COLORS = ['#0969da', '#bf3989', '#1b7c83', '#bc4c00', '#8250df', '#6f7b1e'];

/** p50, p90, p99 on single-model charts: light to dark slate. */
export const PCT_COLORS = ['#8c959f', '#57606a', '#1f2328'];

/** Viridis, sampled at 9 points from light (yellow) to dark (purple). */
export const HDR_COLORS = ['#fde725', '#a0da39', '#4ac16d', '#1fa187', '#277f8e', '#365c8d', '#46327e', '#440154', '#2d0a4e'];

/** Where the cap and the need are drawn, and what lies over the cap. */
export const MARK_COLORS = { overCap: 'rgba(209, 36, 47, 0.07)', target: '#57606a' };

/** The colour of model `i`. */
export function modelColor(i: number): string {
  return MODEL_COLORS[i % MODEL_COLORS.length] as string;
}

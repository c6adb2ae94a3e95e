/**
 * The chart library inlined into every HTML report: uPlot's minified browser build and its CSS,
 * read from node_modules at render time (so the report never loads anything over the network).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** uPlot's browser script (defines the global `uPlot`) and stylesheet. */
export interface ChartAssets {
  js: string;
  css: string;
}

let cached: ChartAssets | null = null;

/** Reads uPlot's IIFE build and CSS once per process. */
export function chartAssets(): ChartAssets {
  if (cached) return cached;
  const require = createRequire(import.meta.url);
  // uplot's package.json has no "exports" map, so the main entry resolves and dist/ sits beside it.
  const dist = dirname(require.resolve('uplot'));
  const js = readFileSync(join(dist, 'uPlot.iife.min.js'), 'utf8');
  const css = readFileSync(join(dist, 'uPlot.min.css'), 'utf8');
  // The script is inlined in a <script> element: it must not contain a closing tag.
  cached = { js: js.replace(/<\/script/gi, '<\\/script'), css: css.replace(/<\/style/gi, '<\\/style') };
  return cached;
}

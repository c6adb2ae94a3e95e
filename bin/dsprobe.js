#!/usr/bin/env node
// Thin launcher: all logic lives in dist/cli/main.js. The published package ships dist/ (built on `npm pack`);
// a git checkout builds it with `npm run build` (README, "Try it").
import { existsSync } from 'node:fs';

const main = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(main)) {
  process.stderr.write('dsprobe is not built yet (no dist/): run `npm run build` in this checkout, then try again\n');
  process.exitCode = 2;
} else {
  const { run } = await import(main.href);
  process.exitCode = await run(process.argv.slice(2));
}

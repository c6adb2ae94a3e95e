#!/usr/bin/env node
// Thin launcher: all logic lives in dist/cli/main.js (built from src/ by `npm ci`/`npm run build`).
import { run } from '../dist/cli/main.js';

process.exitCode = await run(process.argv.slice(2));

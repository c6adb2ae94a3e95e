/** Every CLI command, in the order `--help` lists them. */
import type { CliCommand } from './types.js';
import { runCommand } from './run.js';
import { validateCommand } from './validate.js';
import { planCommand } from './plan.js';
import { mockCommand } from './mock.js';
import { reportCommand } from './report.js';
import { compareCommand } from './compare.js';
import { mergeCommand } from './merge.js';
import { watchCommand } from './watch.js';

export const commands: CliCommand[] = [
  runCommand,
  validateCommand,
  planCommand,
  mockCommand,
  reportCommand,
  compareCommand,
  mergeCommand,
  watchCommand,
];

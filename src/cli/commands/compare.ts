/**
 * `dsprobe compare A.json B.json [...] [--html FILE] [--fail-on-regression]`: compares runs (or, given one
 * report with several models, its models) in a terminal table, optionally as an HTML page.
 */
import { writeFileSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import type { Command } from 'commander';
import type { CliCommand } from './types.js';
import type { CliIO } from '../io.js';
import { EXIT, usageError } from '../../errors.js';
import { loadAny } from '../../report/rebuild.js';
import { compareReports, renderCompareHtml, renderCompareText } from '../../report/compare.js';
import { assertOutputFiles } from '../outputs.js';
import { shownPath } from '../paths.js';

interface CompareOptions {
  html?: string;
  json?: boolean;
  failOnRegression?: boolean;
}

/** Short unique labels: file names, or parent dir + file name when file names collide (run dirs). */
function labels(paths: string[]): string[] {
  const base = paths.map((p) => basename(p));
  const unique = new Set(base).size === base.length;
  return paths.map((p, i) => (unique ? (base[i] as string) : `${basename(dirname(p))}/${base[i]}`));
}

export const compareCommand: CliCommand = {
  name: 'compare',
  register(program: Command, io: CliIO, setExit) {
    program
      .command('compare')
      .description('compare runs (or the models of one run): caps, headroom, percentiles, 429 rates, regressions')
      .argument('<reports...>', 'report.json files or run directories; the first is the baseline')
      .option('--html <file>', 'also write the comparison as an HTML page')
      .option('--json', 'print the comparison as JSON instead of a table')
      .option('--fail-on-regression', `exit ${EXIT.THRESHOLDS_FAILED} when a regression is flagged`)
      .action((inputs: string[], opts: CompareOptions) => {
        assertOutputFiles(io.cwd, [['--html', opts.html]]);
        const loaded = inputs.map((p) => loadAny(resolve(io.cwd, p)));
        const names = labels(loaded.map((l) => l.from.path));
        const c = compareReports(loaded.map((l, i) => ({ label: names[i] as string, report: l.report })));
        io.stdout.write(opts.json ? JSON.stringify(c, null, 2) + '\n' : renderCompareText(c));
        if (opts.json) for (const w of c.warnings) io.stderr.write(`warning: ${w}\n`);
        if (opts.html) {
          const out = resolve(io.cwd, opts.html);
          try {
            writeFileSync(out, renderCompareHtml(c));
          } catch (err) {
            throw usageError(`${out}: cannot write (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
          }
          io.stderr.write(`comparison: ${shownPath(io.cwd, out)}\n`);
        }
        setExit(opts.failOnRegression && c.regressions.length ? EXIT.THRESHOLDS_FAILED : EXIT.OK);
      });
  },
};

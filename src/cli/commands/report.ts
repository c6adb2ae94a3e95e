/**
 * `dsprobe report INPUT [--html FILE] [--json FILE]`: re-renders a report.json, or rebuilds the whole report
 * from samples.ndjson, or takes a run directory. A report.json input gives report.html beside it (or --html).
 * A rebuild always writes a matching pair, report.json and report.html from the same rebuilt report: beside the
 * samples (as rebuilt-report.json/.html when a report.json is already there, which is never overwritten
 * silently), or at --json / --html, the missing one of the pair beside the given one. Its warnings are printed.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { Command } from 'commander';
import type { CliCommand } from './types.js';
import type { CliIO } from '../io.js';
import { EXIT, usageError } from '../../errors.js';
import { loadAny } from '../../report/rebuild.js';
import { renderHtml } from '../../report/html.js';

interface ReportOptions {
  html?: string;
  json?: string;
}

function write(path: string, text: string): void {
  try {
    writeFileSync(path, text);
  } catch (err) {
    throw usageError(`${path}: cannot write (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
}

export const reportCommand: CliCommand = {
  name: 'report',
  register(program: Command, io: CliIO, setExit) {
    program
      .command('report')
      .description('render report.html from a report.json, or rebuild the report from samples.ndjson')
      .argument('<input>', 'report.json, samples.ndjson, or a run directory')
      .option('--html <file>', 'write the HTML report here (default: report.html beside the input)')
      .option('--json <file>', 'write the (re)built report.json here')
      .action((input: string, opts: ReportOptions) => {
        const { report, from } = loadAny(resolve(io.cwd, input));
        // A torn last line (a crash, a kill) is tolerated, and said.
        if (from.kind === 'samples') for (const w of report.warnings) if (w.includes('were skipped')) io.stderr.write(`warning: ${w}\n`);
        const dir = dirname(from.path);
        const written: string[] = [];
        let htmlPath = opts.html ? resolve(io.cwd, opts.html) : undefined;
        let jsonPath = opts.json ? resolve(io.cwd, opts.json) : undefined;
        if (from.kind === 'samples') {
          // A rebuild writes both files of one report, so the HTML never disagrees with the JSON beside it.
          if (!htmlPath && !jsonPath) {
            const base = existsSync(join(dir, 'report.json')) ? 'rebuilt-report' : 'report';
            htmlPath = join(dir, `${base}.html`);
            jsonPath = join(dir, `${base}.json`);
          }
          htmlPath ??= (jsonPath as string).replace(/(\.json)?$/i, '.html');
          jsonPath ??= htmlPath.replace(/(\.html?)?$/i, '.json');
        } else if (!htmlPath && !jsonPath) {
          htmlPath = join(dir, 'report.html');
        }
        if (jsonPath) {
          write(jsonPath, JSON.stringify(report, null, 2) + '\n');
          written.push(jsonPath);
        }
        if (htmlPath) {
          write(htmlPath, renderHtml(report));
          written.push(htmlPath);
        }
        const what = from.kind === 'samples' ? `rebuilt from ${from.path}` : `from ${from.path}`;
        io.stdout.write(`${written.join('\n')}\n`);
        io.stderr.write(`dsprobe report: ${report.models.length} model(s) ${what}\n`);
        for (const w of report.warnings) io.stderr.write(`warning: ${w}\n`);
        setExit(EXIT.OK);
      });
  },
};

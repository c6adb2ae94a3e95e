/**
 * `dsprobe report INPUT [--html FILE] [--json FILE]`: re-renders a report.json, or rebuilds the whole report
 * from samples.ndjson, or takes a run directory. Without --html/--json it writes report.html beside the input
 * (and, from samples, report.json too unless one is already there).
 */
import { existsSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { Command } from 'commander';
import type { CliCommand } from './types.js';
import type { CliIO } from '../io.js';
import { EXIT, usageError } from '../../errors.js';
import { loadAny } from '../../report/rebuild.js';
import { renderHtml } from '../../report/html.js';
import { assertOutputFiles } from '../outputs.js';
import { shownPath } from '../paths.js';

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
        assertOutputFiles(io.cwd, [['--html', opts.html], ['--json', opts.json]]);
        const { report, from } = loadAny(resolve(io.cwd, input));
        const dir = dirname(from.path);
        const written: string[] = [];
        let htmlPath = opts.html ? resolve(io.cwd, opts.html) : undefined;
        let jsonPath = opts.json ? resolve(io.cwd, opts.json) : undefined;
        if (!htmlPath && !jsonPath) {
          htmlPath = join(dir, 'report.html');
          if (from.kind === 'samples' && !existsSync(join(dir, 'report.json'))) jsonPath = join(dir, 'report.json');
        }
        if (jsonPath) {
          write(jsonPath, JSON.stringify(report, null, 2) + '\n');
          written.push(jsonPath);
        }
        if (htmlPath) {
          write(htmlPath, renderHtml(report));
          written.push(htmlPath);
        }
        const what = from.kind === 'samples' ? `rebuilt from ${shownPath(io.cwd, from.path)}` : `from ${shownPath(io.cwd, from.path)}`;
        io.stdout.write(`${written.map((w) => shownPath(io.cwd, w)).join('\n')}\n`);
        io.stderr.write(`dsprobe report: ${report.models.length} model(s) ${what}\n`);
        setExit(EXIT.OK);
      });
  },
};

/**
 * `dsprobe merge SHARD.json... -o merged.json [--html FILE]`: combines the reports of parallel shards of one
 * scenario (counts add, histograms merge, caps recomputed from the combined in-flight). See docs/sharding.md.
 */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import type { CliCommand } from './types.js';
import type { CliIO } from '../io.js';
import { EXIT, usageError } from '../../errors.js';
import { loadAny } from '../../report/rebuild.js';
import { mergeReports } from '../../report/merge.js';
import { renderHtml } from '../../report/html.js';
import { assertOutputFiles } from '../outputs.js';
import { shownPath } from '../paths.js';

interface MergeOptions {
  out: string;
  html?: string;
}

export const mergeCommand: CliCommand = {
  name: 'merge',
  register(program: Command, io: CliIO, setExit) {
    program
      .command('merge')
      .description('merge the report.json files of parallel shards of one scenario into one report')
      .argument('<shards...>', 'shard report.json files (or run directories)')
      .requiredOption('-o, --out <file>', 'merged report.json to write')
      .option('--html <file>', 'also write the merged HTML report')
      .action((inputs: string[], opts: MergeOptions) => {
        if (inputs.length < 2) throw usageError('merge: give at least two shard reports', [{ path: '', message: `got ${inputs.length}`, hint: 'dsprobe merge shard-0/report.json shard-1/report.json -o merged.json' }]);
        assertOutputFiles(io.cwd, [['-o', opts.out], ['--html', opts.html]]);
        const shards = inputs.map((p) => loadAny(resolve(io.cwd, p)).report);
        const merged = mergeReports(shards);
        const write = (file: string, text: string) => {
          const out = resolve(io.cwd, file);
          try {
            writeFileSync(out, text);
          } catch (err) {
            throw usageError(`${out}: cannot write (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
          }
          io.stdout.write(shownPath(io.cwd, out) + '\n');
        };
        write(opts.out, JSON.stringify(merged, null, 2) + '\n');
        if (opts.html) write(opts.html, renderHtml(merged));
        const caps = merged.models.map((m) => `${m.model} ${m.cap.estimate ?? m.cap.status}`).join(', ');
        io.stderr.write(`dsprobe merge: ${shards.length} shards (${merged.shards} in all) -> caps: ${caps}\n`);
        setExit(EXIT.OK);
      });
  },
};

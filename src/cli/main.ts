/**
 * dsprobe's command line: one commander program, one file per command under commands/.
 * `run(argv, io)` returns the exit code; it never calls process.exit and never prints a stack trace
 * for user errors.
 */
import { Command, CommanderError } from 'commander';
import { DsprobeError, EXIT, formatProblems } from '../errors.js';
import { processIO, type CliIO } from './io.js';
import { VERSION } from '../version.js';
import { commands } from './commands/index.js';

/** Runs the CLI with `argv` (without node and script) and returns the exit code. */
export async function run(argv: string[], io: CliIO = processIO()): Promise<number> {
  let exitCode: number = EXIT.OK;
  const program = new Command();
  program
    .name('dsprobe')
    .description("Find where your account hits DeepSeek's concurrency cap, per model, before launch.")
    .version(VERSION, '-V, --version')
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
    })
    .showHelpAfterError('(run with --help for usage)');

  for (const c of commands) {
    c.register(program, io, (code) => {
      exitCode = code;
    });
  }

  try {
    await program.parseAsync(argv, { from: 'user' });
    return exitCode;
  } catch (err) {
    return reportError(err, io);
  }
}

function reportError(err: unknown, io: CliIO): number {
  if (err instanceof CommanderError) {
    // --help and --version end with exitCode 0; usage errors were already printed by commander.
    if (err.exitCode === 0) return EXIT.OK;
    return EXIT.USAGE;
  }
  if (err instanceof DsprobeError) {
    const detail = err.problems.length ? '\n' + formatProblems(err.problems) : '';
    io.stderr.write(`dsprobe: ${err.message}${detail}\n`);
    return err.exitCode;
  }
  const e = err as { code?: string; message?: string };
  if (e?.code === 'EMFILE' || e?.code === 'ENFILE') {
    io.stderr.write(
      'dsprobe: ran out of file descriptors. Raise the limit (e.g. `ulimit -n 65536`) or lower the in-flight target.\n',
    );
    return EXIT.RUN_FAILED;
  }
  io.stderr.write(`dsprobe: internal error: ${e?.message ?? String(err)}\n(this is a bug in dsprobe: please report it)\n`);
  if (io.env.DSPROBE_DEBUG) io.stderr.write(String((err as Error)?.stack) + '\n');
  return EXIT.INTERNAL;
}

import readline from 'node:readline/promises';

/**
 * The process seam: commands get their streams, environment and signals from here,
 * so tests can run `main(argv, io)` in-process and nothing below cli/ touches `process`.
 */

export interface CliIO {
  stdout: { write(s: string): unknown; isTTY?: boolean; columns?: number };
  stderr: { write(s: string): unknown; isTTY?: boolean };
  stdin: { isTTY?: boolean };
  env: Record<string, string | undefined>;
  cwd: string;
  /** Aborted on the first SIGINT/SIGTERM. */
  signal: AbortSignal;
  /** Asks a question on the terminal and resolves with the answer line. */
  ask(question: string): Promise<string>;
}

/** The real process' IO; installs SIGINT/SIGTERM handlers that abort `signal` (a second Ctrl-C exits at once). */
export function processIO(): CliIO {
  const ctl = new AbortController();
  let count = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    count++;
    if (count > 1) {
      process.stderr.write(`\ndsprobe: second ${sig}, exiting now\n`);
      process.exit(130);
    }
    ctl.abort(new Error(sig));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // A bug must not print a stack trace at the user, nor lose samples: 'exit' handlers (samples.ndjson) still run.
  const onFatal = (err: unknown) => {
    process.stderr.write(`dsprobe: internal error: ${(err as Error)?.message ?? String(err)}\n(this is a bug in dsprobe: please report it; samples written so far are kept)\n`);
    if (process.env['DSPROBE_DEBUG']) process.stderr.write(String((err as Error)?.stack) + '\n');
    process.exit(1);
  };
  process.on('uncaughtException', onFatal);
  process.on('unhandledRejection', onFatal);
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
    env: process.env,
    cwd: process.cwd(),
    signal: ctl.signal,
    async ask(question) {
      const rl = readline.createInterface({ input: process.stdin, output: process.stderr });
      try {
        return await rl.question(question);
      } finally {
        rl.close();
      }
    },
  };
}

/**
 * The same IO with every write to stdout and stderr scrubbed of configured secrets (server text printed in a
 * summary or an error line included). `scrub` must be cheap: it runs once per write.
 */
export function scrubbedIO(io: CliIO, scrub: (text: string) => string): CliIO {
  const wrap = <T extends { write(s: string): unknown }>(w: T): T =>
    new Proxy(w, {
      get(target, prop, receiver) {
        if (prop === 'write') return (s: string) => target.write(scrub(String(s)));
        const v = Reflect.get(target, prop, receiver) as unknown;
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
  return { ...io, stdout: wrap(io.stdout), stderr: wrap(io.stderr), ask: io.ask.bind(io) };
}

/**
 * dsprobe's own errors and exit codes. Only cli/ turns these into process exit codes.
 */

/** Documented exit codes (README "Exit codes"). */
export const EXIT = {
  /** Everything ran and every threshold passed. */
  OK: 0,
  /** Unexpected internal error (a bug: please report it). */
  INTERNAL: 1,
  /** Bad usage, bad scenario or bad config. */
  USAGE: 2,
  /** The run failed: target unreachable, authentication, budget exceeded, refused confirmation. */
  RUN_FAILED: 3,
  /** The run was interrupted (Ctrl-C / SIGTERM); a partial report was written. */
  INTERRUPTED: 130,
  /** One or more thresholds failed (k6 uses the same number). */
  THRESHOLDS_FAILED: 99,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** One problem found in user input, positioned when possible. */
export interface Problem {
  /** Dotted path of the offending key, e.g. `load.max` or `models.deepseek-v4-flash.weight`. */
  path: string;
  message: string;
  hint?: string;
  /** `file:line:col` when known. */
  where?: string;
}

/** Formats problems one per line: `file:3:7: load.max: must be >= load.start (got 10 < 50)\n  hint: ...` */
export function formatProblems(problems: readonly Problem[]): string {
  return problems
    .map((p) => {
      const head = `${p.where ? p.where + ': ' : ''}${p.path ? p.path + ': ' : ''}${p.message}`;
      return p.hint ? `${head}\n  hint: ${p.hint}` : head;
    })
    .join('\n');
}

/**
 * An error of dsprobe's own, with a stable code (`DSP_*`) and the exit code it maps to.
 * Its message is safe to print: it never holds a secret.
 */
export class DsprobeError extends Error {
  readonly code: string;
  readonly exitCode: ExitCode;
  readonly problems: Problem[];
  constructor(code: string, message: string, exitCode: ExitCode, problems: Problem[] = []) {
    super(message);
    this.name = 'DsprobeError';
    this.code = code;
    this.exitCode = exitCode;
    this.problems = problems;
  }
}

/** Bad user input (scenario, config, flags): exit 2. */
export function usageError(message: string, problems: Problem[] = []): DsprobeError {
  return new DsprobeError('DSP_USAGE', message, EXIT.USAGE, problems);
}

/** Problems in file order (line, then column); unpositioned ones last, in the order found. */
export function byPosition(problems: Problem[]): Problem[] {
  const key = (p: Problem) => {
    const m = /:(\d+):(\d+)$/.exec(p.where ?? '');
    return m ? Number(m[1]) * 1e6 + Number(m[2]) : Infinity;
  };
  return problems
    .map((p, i) => ({ p, i, k: key(p) }))
    .sort((a, b) => a.k - b.k || a.i - b.i)
    .map((x) => x.p);
}

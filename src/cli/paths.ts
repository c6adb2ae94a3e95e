/**
 * Paths as dsprobe shows them. The terminal shows paths relative to the working directory; reports hold no
 * absolute local path (a file inside the working directory by its relative path, anything else by its name).
 */
import path from 'node:path';

/** A path for the terminal: relative to `cwd` (`reports/x/report.json`, `../y.yaml`); `.` for `cwd` itself. */
export function shownPath(cwd: string, p: string): string {
  const rel = path.relative(cwd, path.resolve(cwd, p));
  return rel === '' ? '.' : rel;
}

/** A path for a report: relative to `cwd` when inside it, else the base name only. */
export function reportPath(cwd: string, p: string): string {
  const rel = path.relative(cwd, path.resolve(cwd, p));
  return rel === '' || rel.startsWith('..') || path.isAbsolute(rel) ? path.basename(p) : rel;
}

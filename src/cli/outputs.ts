/**
 * Output paths are checked before anything is sent (a run whose results cannot be written must not start,
 * exit 2), and nothing is created until it is written: a refused or failed command leaves no empty folder.
 */
import fs from 'node:fs';
import path from 'node:path';
import { usageError, type Problem } from '../errors.js';

/** One output a command will write. `path` is absolute. */
export interface OutputPath {
  /** The option that named it (`--out`, `--junit`, `--html`, `--json`, `-o`), for messages. */
  flag: string;
  path: string;
  kind: 'file' | 'dir';
}

/** The nearest existing ancestor of `p` (or `p` itself), with its stat. */
function nearestExisting(p: string): { at: string; stat: fs.Stats } {
  let at = p;
  for (;;) {
    try {
      return { at, stat: fs.statSync(at) };
    } catch {
      const up = path.dirname(at);
      if (up === at) throw new Error('no existing ancestor');
      at = up;
    }
  }
}

function writable(p: string): boolean {
  try {
    fs.accessSync(p, fs.constants.W_OK | fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Checks each output: a file's place must not be a directory; a directory's must not be a file; what does not
 * exist yet must be creatable (its nearest existing ancestor a writable directory); an existing non-empty
 * output directory is refused unless `overwrite`. `shown` renders a path for messages. Returns every problem.
 */
export function checkOutputs(outputs: readonly OutputPath[], opts: { overwrite?: boolean; shown?: (p: string) => string } = {}): Problem[] {
  const shown = opts.shown ?? ((p: string) => p);
  const problems: Problem[] = [];
  const bad = (o: OutputPath, message: string, hint: string) => problems.push({ path: o.flag, message: `${shown(o.path)}: ${message}`, hint });
  for (const o of outputs) {
    const { at, stat } = nearestExisting(o.path);
    if (at === o.path) {
      if (o.kind === 'file') {
        if (stat.isDirectory()) bad(o, 'is a directory', `give a file name, e.g. ${shown(path.join(o.path, 'out' + (path.extname(o.path) || '.xml')))}`);
        else if (!writable(o.path) && !writableFile(o.path)) bad(o, 'cannot be written (permission denied)', 'choose a path you can write');
      } else if (!stat.isDirectory()) {
        bad(o, 'cannot write the output directory: a file has that name', 'choose another --out directory');
      } else if (!writable(o.path)) {
        bad(o, 'cannot write the output directory (permission denied)', 'choose a directory you can write');
      } else if (!opts.overwrite && fs.readdirSync(o.path).length > 0) {
        bad(o, 'the output directory already holds files', 'pass --overwrite to write over them, or choose another --out directory');
      }
      continue;
    }
    if (!stat.isDirectory()) {
      bad(o, `cannot write the output ${o.kind === 'dir' ? 'directory' : 'file'}: ${shown(at)} is a file, not a directory`, 'choose a path under a directory');
    } else if (!writable(at)) {
      bad(o, `cannot write the output ${o.kind === 'dir' ? 'directory' : 'file'}: ${shown(at)} is not writable`, 'choose a path you can write');
    }
  }
  return problems;
}

function writableFile(p: string): boolean {
  try {
    fs.accessSync(p, fs.constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Creates an output directory (and its missing parents) right before the first write: commands check paths
 * first (checkOutputs) and create nothing until they write, so a refused command leaves no empty folder.
 */
export function makeOutputDir(dir: string): void {
  fs.mkdirSync(dir, { recursive: true });
}

/**
 * Checks the output files a command was given (`[flag, path as typed]`; unset ones skipped) and throws a
 * usage error (exit 2) listing every problem, before the command reads or sends anything.
 */
export function assertOutputFiles(cwd: string, files: readonly (readonly [string, string | undefined])[]): void {
  const outputs: OutputPath[] = files.filter((f): f is readonly [string, string] => !!f[1]).map(([flag, p]) => ({ flag, path: path.resolve(cwd, p), kind: 'file' }));
  const problems = checkOutputs(outputs, { shown: (p) => path.relative(cwd, p) || '.' });
  if (problems.length) throw usageError(`cannot write ${problems.length} output(s)`, problems);
}

/**
 * Output files as documented failures: every path is checked before a run starts (exit 2), files are written
 * atomically (a temp file in the same folder, then rename: never a truncated report), and a write that fails
 * (ENOSPC, EACCES, EROFS...) becomes one line naming the file, exit 3, never a stack trace.
 */
import fs from 'node:fs';
import path from 'node:path';
import { DsprobeError, EXIT, usageError } from '../errors.js';

const WHY: Record<string, string> = {
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  ENOENT: 'no such folder',
  EISDIR: 'it is a folder',
  ENOTDIR: 'a part of the path is not a folder',
  EIO: 'input/output error',
  EFBIG: 'file too large',
};

/** One line for a failed write: `cannot write FILE: ENOSPC (no space left on the device)`. */
export function writeFailureMessage(file: string, err: unknown): string {
  const code = (err as NodeJS.ErrnoException | null)?.code ?? 'EIO';
  return `cannot write ${file}: ${code}${WHY[code] ? ` (${WHY[code]})` : ''}`;
}

/** A failed write as dsprobe's own error: exit 3, a one-line message naming the file. */
export function writeError(file: string, err: unknown): DsprobeError {
  return new DsprobeError('DSP_WRITE', writeFailureMessage(file, err), EXIT.RUN_FAILED);
}

/** Writes `file` atomically: a temp file beside it, then rename. Throws writeError on any failure. */
export function writeFileAtomic(file: string, data: string): void {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  try {
    fs.writeFileSync(tmp, data);
    fs.renameSync(tmp, file);
  } catch (err) {
    try {
      fs.unlinkSync(tmp);
    } catch {
      // nothing left behind, or nothing we can remove
    }
    throw writeError(file, err);
  }
}

/** Appends to a file someone else owns (GitHub's step summary): not atomic, but a failure is still one line. */
export function appendFileChecked(file: string, data: string): void {
  try {
    fs.appendFileSync(file, data);
  } catch (err) {
    throw writeError(file, err);
  }
}

/**
 * Before a run: can `file` be written the way it will be? `atomic`: a temp file must be creatable in its
 * folder (and an existing file replaceable); otherwise (an append target) the file itself must be writable.
 * Throws a usage error (exit 2) naming the option.
 */
export function checkOutputFile(file: string, option: string, atomic: boolean): void {
  const dir = path.dirname(file);
  try {
    const st = fs.statSync(file, { throwIfNoEntry: false });
    if (st?.isDirectory()) throw Object.assign(new Error('is a folder'), { code: 'EISDIR' });
    if (atomic || !st) fs.accessSync(dir, fs.constants.W_OK);
    if (st) fs.accessSync(file, fs.constants.W_OK);
  } catch (err) {
    throw usageError(writeFailureMessage(file, err), [
      { path: option, message: 'expected a file dsprobe can write', hint: `pass a writable path to ${option}` },
    ]);
  }
}

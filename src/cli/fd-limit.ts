/**
 * Each request in flight holds a socket (a file descriptor). Read the soft limit up front (Linux) and warn
 * before a run that cannot reach its highest level.
 */
import fs from 'node:fs';

/** The soft "Max open files" limit of this process, or null where it cannot be read. */
export function openFilesLimit(): number | null {
  try {
    const text = fs.readFileSync('/proc/self/limits', 'utf8');
    const m = /^Max open files\s+(\d+|unlimited)/m.exec(text);
    if (!m) return null;
    return m[1] === 'unlimited' ? Infinity : Number(m[1]);
  } catch {
    return null;
  }
}

/** A warning when `maxInflight` sockets (plus headroom) would not fit under the limit. */
export function fdWarning(maxInflight: number, limit = openFilesLimit()): string | null {
  const need = maxInflight + 64;
  if (limit === null || limit >= need) return null;
  return `the open-files limit is ${limit} but up to ${maxInflight} requests may be in flight: raise it first (\`ulimit -n ${Math.max(65536, need)}\`), or lower load.max`;
}

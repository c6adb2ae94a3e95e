/** A duration given on the command line (`--every 5m`, `--otlp-interval 10s`): shared by `run` and `watch`. */
import { usageError } from '../errors.js';
import { parseDuration } from '../time/duration.js';

/** `text` in milliseconds; anything but a duration > 0 is a usage error (exit 2) naming the option. */
export function durationOption(name: string, text: string, hint: string): number {
  const d = parseDuration(text);
  if ('error' in d || !(d.ms > 0)) {
    throw usageError(`${name}: expected a duration like 30s, 5m or 1h (got ${JSON.stringify(text)})`, [
      { path: name, message: 'expected a duration > 0', hint },
    ]);
  }
  return d.ms;
}

/**
 * samples.ndjson, streamed as samples arrive: whole lines only, flushed every 200 ms (or every FLUSH_LINES lines,
 * whichever comes first) and synchronously at exit,
 * so a crash or Ctrl-C loses nothing that was measured. A write that fails (disk full, permission) never
 * throws: the file stops, `onError` is told once (the run then stops as failed, exit 3), and nothing else breaks.
 * Every configured secret is scrubbed from the text before it is written.
 */
import fs from 'node:fs';
import type { Sample } from '../types.js';
import type { SamplesHeader } from '../report/build.js';
import { sampleLine } from './sample-line.js';

/**
 * Lines buffered before a flush that does not wait for the timer. A flush is synchronous (join, scrub, write): at
 * 2,700 samples a second, 200 ms of them is about 1.2 MB and held the event loop about 3 ms, every read due meanwhile
 * waiting behind it; 256 lines (about 120 KB) hold it a few tenths of a ms, for the same work in all.
 */
const FLUSH_LINES = 256;

export interface SamplesFile {
  write(s: Sample): void;
  /** Any other record (step markers). */
  record(r: object): void;
  /** Flushes everything buffered (synchronous). */
  flush(): void;
  close(): void;
  readonly path: string;
  /** The write error that stopped the file, if one did. */
  readonly failed: unknown;
}

/** Options of openSamplesFile. */
export interface SamplesFileOptions {
  /** Replaces secrets in the text before it is written. */
  scrub?: (text: string) => string;
  /** A write failed (called once; later samples are dropped). */
  onError?: (err: unknown) => void;
}

/** Opens `path` for writing, writes the header line at once, and flushes at process exit. */
export function openSamplesFile(path: string, header: SamplesHeader, opts: SamplesFileOptions = {}): SamplesFile {
  let fd = -1;
  let failed: unknown = undefined;
  let buf: string[] = [JSON.stringify(header)];
  let closed = false;
  const fail = (err: unknown) => {
    if (failed !== undefined) return;
    failed = err;
    buf = [];
    opts.onError?.(err);
  };
  try {
    fd = fs.openSync(path, 'w');
  } catch (err) {
    fail(err);
  }
  const flush = () => {
    if (closed || buf.length === 0) return;
    if (failed !== undefined) {
      buf = [];
      return;
    }
    // The last line's newline joined in, not appended: `+` would make a string the scrub then copies whole.
    buf.push('');
    const raw = buf.join('\n');
    buf = [];
    const text = opts.scrub ? opts.scrub(raw) : raw;
    try {
      fs.writeSync(fd, text);
    } catch (err) {
      fail(err);
    }
  };
  flush();
  const timer = setInterval(flush, 200);
  timer.unref();
  const onExit = () => flush();
  process.on('exit', onExit);
  return {
    path,
    get failed() {
      return failed;
    },
    write(s) {
      buf.push(sampleLine(s));
      if (buf.length >= FLUSH_LINES) flush();
    },
    record(r) {
      buf.push(JSON.stringify(r));
    },
    flush,
    close() {
      if (closed) return;
      flush();
      closed = true;
      clearInterval(timer);
      process.off('exit', onExit);
      if (fd >= 0) {
        try {
          fs.closeSync(fd);
        } catch (err) {
          fail(err);
        }
      }
    },
  };
}

/**
 * samples.ndjson, streamed as samples arrive: whole lines only, flushed every 200 ms and synchronously at exit,
 * so a crash or Ctrl-C loses nothing that was measured.
 */
import fs from 'node:fs';
import type { Sample } from '../types.js';
import type { SamplesHeader } from '../report/build.js';

export interface SamplesFile {
  write(s: Sample): void;
  /** Any other record (step markers). */
  record(r: object): void;
  /** Flushes everything buffered (synchronous). */
  flush(): void;
  close(): void;
  readonly path: string;
}

/** Opens `path` for writing, writes the header line at once, and flushes at process exit. */
export function openSamplesFile(path: string, header: SamplesHeader): SamplesFile {
  const fd = fs.openSync(path, 'w');
  let buf: string[] = [JSON.stringify(header)];
  let closed = false;
  const flush = () => {
    if (closed || buf.length === 0) return;
    const text = buf.join('\n') + '\n';
    buf = [];
    fs.writeSync(fd, text);
  };
  flush();
  const timer = setInterval(flush, 200);
  timer.unref();
  const onExit = () => flush();
  process.on('exit', onExit);
  return {
    path,
    write(s) {
      buf.push(JSON.stringify(s));
      if (buf.length >= 5000) flush();
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
      fs.closeSync(fd);
    },
  };
}

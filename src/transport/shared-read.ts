/**
 * Load sockets that read into one buffer per thread (Node's `onread` option, taken by `net.connect` and, for the
 * decrypted bytes, by `tls.connect`) instead of a new Buffer per read pushed through a Readable stream.
 *
 * Why: at one SSE event per token nearly every read holds one small event, so the stream machinery's cost per
 * read (a fresh buffer, `push`, the `data` emit) is paid per event. Measured on the engine bench's case 4
 * (1,000 streams x 100 events at 10 ms), a raw-socket client drops from 9.7-10.5 to 6.4-7.3 µs of CPU per event
 * with `onread`, all else equal.
 *
 * The price: a read's bytes are valid only during the call. Everything downstream already treats a chunk as a
 * view to copy before keeping (h1.ts's handler contract); the SSE parser decodes at once, and the exchange copies
 * the few bodies it keeps. A socket made without it (a caller's own connect) keeps its `data` events: h1.ts reads
 * both.
 *
 * A socket is made with `sharedRead()` as its `onread`; `setReader` points its reads at a connection. Bytes that
 * arrive with no reader set (a warm socket nobody holds yet) mean the server is out of step: the socket is closed.
 */
import type { OnReadOpts, Socket } from 'node:net';

/** Largest single read: as undici's 64 KiB high-water mark. */
const READ_BYTES = 64 * 1024;

const kReader = Symbol('dsprobe.sharedReader');

/** Gets the read's bytes as `b[0, n)`: no view is made per read (past `n`, `b` holds older bytes). */
type Reader = (b: Buffer, n: number) => void;
type ReadingSocket = Socket & { [kReader]?: Reader | null };

let buffer: Buffer | null = null;

/** Node calls it as a method of the socket; `true`: keep reading. */
function onRead(this: ReadingSocket, nread: number, buf: Buffer): boolean {
  // `buf` is the shared buffer itself (Node hands back the one given as `onread.buffer`).
  const r = this[kReader];
  if (r) r(buf, nread);
  else this.destroy();
  return true;
}

/** The `onread` option for `net.connect` and `tls.connect` (one buffer for every socket of this thread). */
export function sharedRead(): OnReadOpts {
  buffer ??= Buffer.allocUnsafe(READ_BYTES);
  return { buffer, callback: onRead as (nread: number, buf: Uint8Array) => boolean };
}

/** Marks a socket made with `sharedRead()` (until a reader is set, bytes on it close it). */
export function markSharedRead(socket: Socket): void {
  (socket as ReadingSocket)[kReader] = null;
}

/** Whether the socket reads through `sharedRead()` (else it emits `data`). */
export function readsShared(socket: Socket): boolean {
  return kReader in socket;
}

/** Points a shared-read socket's reads at `reader` (`null`: nobody holds it). */
export function setReader(socket: Socket, reader: Reader | null): void {
  (socket as ReadingSocket)[kReader] = reader;
}

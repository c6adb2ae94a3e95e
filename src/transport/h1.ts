/**
 * dsprobe's own HTTP/1.1 connection for load requests: one socket, one request at a time, the response read
 * straight off the socket's reads (into the thread's shared buffer, shared-read.ts; `data` events on a socket made
 * without it).
 *
 * Why not undici's Client on this path: at one SSE event per token the per-chunk cost decides how many streams a
 * core can hold. undici copies every chunk into its WebAssembly parser's memory and returns to JS once per
 * callback (headers, every chunk header, every body piece); measured on the engine bench (case 4, 1,000 streams x
 * 100 events) that was about 2 µs of every event's ~11 µs. Here a chunked body is framed in place: the size line
 * is found with one native `indexOf`, and the data handed on as a view of the socket's own buffer (no copy).
 * undici still does every other request dsprobe makes (the pre-flight's GETs), and opens the sockets
 * (connector.ts: TCP, TLS, connect timeout).
 *
 * Exactly what dsprobe needs and no more: requests with a body of known length (no `expect`, no upgrade, no
 * pipelining), responses framed by `content-length`, `transfer-encoding: chunked` or the connection's close;
 * informational (1xx) answers skipped; 204 / 304 without a body. Everything malformed (a bad status line, a
 * header block past its limit, a bad chunk size, data after a response) is an error on the request, and the
 * connection is closed: it never guesses where the next response starts.
 *
 * The handler interface is the subset of undici's raw dispatch handler the exchange uses, so the exchange reads
 * the same callbacks whichever client carries it.
 */
import type { Socket } from 'node:net';
import { readsShared, setReader } from './shared-read.js';

/** What a request's handler receives (undici's raw handler callbacks, as the exchange implements them). */
export interface H1Handler {
  /** The request is about to be written; `abort` cuts it (and its connection) at any time. */
  onConnect(abort: (err?: Error) => void): void;
  /** The final status line and headers (`raw`: name, value, name, value, ... as sent, latin1). */
  onHeaders(status: number, raw: string[], resume: () => void, statusText: string): boolean;
  /**
   * A piece of the body: bytes `buf[start, end)`, valid only during the call (`buf` is the thread's read buffer:
   * copy what must be kept). Offsets rather than a view: at one event per read a view per event was a third of
   * what the thread allocated (engine bench, case 4).
   */
  onData(buf: Buffer, start: number, end: number): boolean;
  /** The whole response arrived. */
  onComplete(trailers: string[] | null): void;
  /** The request failed (connect error, reset, malformed answer, abort): no other callback follows. */
  onError(err: Error): void;
}

/** One request: a body of known length (a string is sent as UTF-8). */
export interface H1Request {
  path: string;
  method: string;
  headers?: Readonly<Record<string, string>>;
  body?: string;
}

/** Error codes of this client (an error's `code`; the classification reads them). */
export const H1_CODES = {
  /** The response's header block passed its limit. */
  headersOverflow: 'H1_HEADERS_OVERFLOW',
  /** The answer is not HTTP/1.1 as dsprobe reads it (status line, header, chunk size, stray data). */
  parse: 'H1_PARSE',
  /** The server closed the connection before the response was complete. */
  closed: 'H1_CLOSED',
  /** A request header name or value cannot be sent (CR, LF or NUL in it). */
  badHeader: 'H1_BAD_HEADER',
} as const;

export class H1Error extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = 'H1Error';
    this.code = code;
  }
}

/** Makes a socket for the connection (connector.ts: a stashed warm one, or a timed handshake). */
export type Connect = (cb: (err: Error | null, socket: Socket | null) => void) => void;

/** What the owner (the pool) hears from a connection. */
export interface H1Owner {
  /** The connection finished its request and can take the next. */
  idle(c: H1Connection): void;
  /** The socket is open / closed (counted for the pool's stats). */
  connected(c: H1Connection, up: boolean): void;
  /** The connection is gone for good (connect failed, closed, or broken): never hand it a request again. */
  gone(c: H1Connection): void;
}

const enum Body {
  /** Reading the status line and headers. */
  Head = 0,
  /** `content-length` bytes left in `left`. */
  Length = 1,
  /** A chunk-size line next. */
  ChunkSize = 2,
  /** `left` bytes of chunk data. */
  ChunkData = 3,
  /** The CRLF after a chunk's data. */
  ChunkEnd = 4,
  /** Trailer lines, until an empty one. */
  Trailers = 5,
  /** Until the server closes the connection. */
  UntilClose = 6,
}

/** Longest chunk-size or trailer line, and most trailer bytes: far above any real one. */
const MAX_LINE = 8 * 1024;
const CR = 13;
const LF = 10;

/** A request head, serialised once per header object for its last method, path and host (the hot path sends one). */
interface Head {
  method: string;
  path: string;
  host: string;
  text: string;
}
const heads = new WeakMap<object, Head>();
const NO_HEADERS: Readonly<Record<string, string>> = {};

function headOf(req: H1Request, host: string): string {
  const headers = req.headers ?? NO_HEADERS;
  const h = heads.get(headers);
  if (h !== undefined && h.path === req.path && h.method === req.method && h.host === host) return h.text;
  let text = `${req.method} ${req.path} HTTP/1.1\r\nhost: ${host}\r\nconnection: keep-alive\r\n`;
  for (const [name, value] of Object.entries(headers)) {
    const n = name.toLowerCase();
    // Framing is this client's own; a caller's value for these would contradict it.
    if (n === 'host' || n === 'content-length' || n === 'connection' || n === 'transfer-encoding') continue;
    if (/[\r\n\0]/.test(name) || /[\r\n\0]/.test(value)) throw new H1Error(H1_CODES.badHeader, `request header ${JSON.stringify(name)} holds a line break or NUL`);
    text += `${name}: ${value}\r\n`;
  }
  heads.set(headers, { method: req.method, path: req.path, host, text });
  return text;
}

/** One keep-alive connection (see the module comment). */
export class H1Connection {
  private readonly owner: H1Owner;
  private readonly connectFn: Connect;
  private readonly host: string;
  private readonly maxHeader: number;
  private socket: Socket | null = null;
  private connecting = false;
  private dead = false;
  /** The request on the wire, and its handler. */
  private handler: H1Handler | null = null;
  private pending: H1Request | null = null;
  // Per-response parser state (reset for every response; no allocation per request).
  private state: Body = Body.Head;
  private left = 0;
  /** Bytes of an unfinished chunk-size or trailer line, kept across reads. */
  private carry: Buffer | null = null;
  /** An unfinished response head, kept across reads (`headLen` bytes of `headBuf`). */
  private headBuf: Buffer | null = null;
  private headLen = 0;
  private keepAlive = true;
  private trailerBytes = 0;
  private sawCr = false;
  /** Trailer fields read so far (name, value, ...): made on the first one (most responses have none). */
  private trailers: string[] | null = null;
  /** The response just completed inside `read` (its handler is told once the chunk is consumed). */
  private done: H1Handler | null = null;
  private doneTrailers: string[] | null = null;
  private readonly abortFn = (err?: Error): void => this.abort(err);
  /** Reads of a shared-read socket: bytes `b[0, n)`. */
  private readonly onReadFn = (b: Buffer, n: number): void => this.read(b, n);
  /** `data` events of any other socket. */
  private readonly onDataFn = (b: Buffer): void => this.read(b, b.length);
  private readonly onEndFn = (): void => this.eof();
  private readonly onErrorFn = (err: Error): void => this.fail(err);
  private readonly onCloseFn = (): void => this.eof();

  constructor(owner: H1Owner, connect: Connect, host: string, maxHeader: number) {
    this.owner = owner;
    this.connectFn = connect;
    this.host = host;
    this.maxHeader = maxHeader;
  }

  /** Socket open and usable. */
  get isConnected(): boolean {
    const s = this.socket;
    return s !== null && !this.dead && !s.destroyed && s.writable;
  }

  /** No request may be given to it any more. */
  get isDead(): boolean {
    return this.dead;
  }

  /** Sends `req` (the connection must be idle): connects first if it has no socket. */
  dispatch(req: H1Request, handler: H1Handler): void {
    this.handler = handler;
    const s = this.socket;
    if (s) {
      // The pool hands out only connected ones (isConnected); a socket closed in between fails the request.
      if (s.destroyed || !s.writable) return this.fail(new H1Error(H1_CODES.closed, 'the connection closed before the request was sent'));
      return this.write(req);
    }
    this.pending = req;
    if (this.connecting) return;
    this.connecting = true;
    this.connectFn((err, socket) => {
      this.connecting = false;
      if (err || !socket) {
        this.dead = true;
        this.owner.gone(this);
        return this.finishWithError(err ?? new Error('connect failed'));
      }
      if (this.dead) {
        socket.destroy();
        return;
      }
      this.attach(socket);
      const p = this.pending;
      this.pending = null;
      if (p && this.handler) this.write(p);
    });
  }

  /** Closes the socket; a request on it ends with `err`. */
  destroy(err: Error = new H1Error(H1_CODES.closed, 'the connection was closed by dsprobe')): void {
    if (this.dead && !this.socket) return this.finishWithError(err);
    this.kill();
    this.finishWithError(err);
  }

  // ---- internals ---------------------------------------------------------------------------------------

  private attach(socket: Socket): void {
    this.socket = socket;
    if (readsShared(socket)) setReader(socket, this.onReadFn);
    else socket.on('data', this.onDataFn);
    socket.on('end', this.onEndFn);
    socket.on('error', this.onErrorFn);
    socket.on('close', this.onCloseFn);
    this.owner.connected(this, true);
  }

  private write(req: H1Request): void {
    const h = this.handler as H1Handler;
    let msg: string;
    try {
      const body = req.body;
      msg =
        body === undefined && (req.method === 'GET' || req.method === 'HEAD')
          ? `${headOf(req, this.host)}\r\n`
          : `${headOf(req, this.host)}content-length: ${Buffer.byteLength(body ?? '')}\r\n\r\n${body ?? ''}`;
    } catch (err) {
      return this.finishWithError(err as Error, true);
    }
    this.state = Body.Head;
    this.carry = null;
    this.headLen = 0;
    this.headBuf = null;
    this.keepAlive = true;
    this.sawCr = false;
    h.onConnect(this.abortFn);
    // The handler may have aborted it at once (already settled).
    if (this.handler !== h || !this.socket) return;
    this.socket.write(msg);
  }

  private abort(err?: Error): void {
    if (!this.handler) return;
    this.kill();
    this.finishWithError(err ?? new Error('aborted'));
  }

  /** Ends the current request with `err` (once); `keep`: the connection itself is fine. */
  private finishWithError(err: Error, keep = false): void {
    const h = this.handler;
    this.handler = null;
    this.pending = null;
    if (keep && !this.dead) this.owner.idle(this);
    h?.onError(err);
  }

  /** Closes the socket and leaves the pool for good. */
  private kill(): void {
    if (!this.dead) {
      this.dead = true;
      this.owner.gone(this);
    }
    const s = this.socket;
    if (s) {
      this.socket = null;
      if (readsShared(s)) setReader(s, null);
      else s.off('data', this.onDataFn);
      s.off('end', this.onEndFn);
      s.off('close', this.onCloseFn);
      // An error after the kill has no one to tell; keep a listener so it is not thrown.
      s.destroy();
      this.owner.connected(this, false);
    }
  }

  private fail(err: Error): void {
    this.kill();
    this.finishWithError(err);
  }

  /** The server closed its side. A response framed by the close is complete; any other one is cut. */
  private eof(): void {
    if (this.handler && this.state === Body.UntilClose) {
      const h = this.handler;
      this.handler = null;
      this.kill();
      h.onComplete(null);
      return;
    }
    this.fail(new H1Error(H1_CODES.closed, 'the server closed the connection before the response was complete'));
  }

  private broken(message: string): void {
    this.fail(new H1Error(H1_CODES.parse, message));
  }

  /** A response ended; `read` tells its handler once the rest of the chunk is looked at. */
  private complete(trailers: string[] | null): void {
    this.done = this.handler;
    this.doneTrailers = trailers;
    this.handler = null;
  }

  /** Reads bytes `b[0, n)` (past `n`, `b` holds whatever an earlier read left there). */
  private read(b: Buffer, n: number): void {
    if (!this.handler) {
      // Bytes with no request on the wire: the server is out of step; nothing it says later can be trusted.
      this.kill();
      return;
    }
    let pos = 0;
    while (pos < n && this.handler) {
      switch (this.state) {
        case Body.Head:
          pos = this.readHead(b, pos, n);
          break;
        case Body.Length:
        case Body.ChunkData: {
          // `left` bytes of a body or of one chunk, handed on in place.
          const take = Math.min(this.left, n - pos);
          this.left -= take;
          const h: H1Handler = this.handler;
          h.onData(b, pos, pos + take);
          pos += take;
          if (this.left === 0 && this.handler === h) {
            if (this.state === Body.Length) this.complete(null);
            else this.state = Body.ChunkEnd;
          }
          break;
        }
        case Body.ChunkSize:
          pos = this.readChunkSize(b, pos, n);
          break;
        case Body.ChunkEnd:
          pos = this.readChunkEnd(b, pos, n);
          break;
        case Body.Trailers:
          pos = this.readTrailers(b, pos, n);
          break;
        case Body.UntilClose:
          this.handler.onData(b, pos, n);
          pos = n;
          break;
      }
    }
    const done = this.done;
    if (done) {
      this.done = null;
      const trailers = this.doneTrailers;
      this.doneTrailers = null;
      // Bytes past the end of the response, before the next request was sent: the connection is out of step.
      if (pos < n || !this.keepAlive) this.kill();
      done.onComplete(trailers);
      if (!this.dead) this.owner.idle(this);
    } else if (pos < n && !this.handler && this.socket) this.kill();
  }

  /** Joins kept bytes with the new ones, `b[pos, n)` (a view: copy what must be kept). */
  private joined(b: Buffer, pos: number, n: number): Buffer {
    const rest = b.subarray(pos, n);
    const c = this.carry;
    this.carry = null;
    return c ? Buffer.concat([c, rest]) : rest;
  }

  /** Status line and headers; returns the position after them (or `n` when they are not complete yet). */
  private readHead(b: Buffer, pos: number, n: number): number {
    const max = this.maxHeader;
    if (this.headLen === 0) {
      // The usual case: the whole head in one read.
      const end = headEnd(b, pos, n);
      if (end >= 0) return end - pos > max ? this.overflow(n) : this.parseHead(b.toString('latin1', pos, end), end);
    }
    // A head split over reads: append the new bytes (never more than the limit allows) and look for its end only
    // in what is new (three bytes back, for a terminator split over the reads): linear however it trickles in.
    const before = this.headLen;
    const take = Math.min(n - pos, max + 4 - before);
    if (!this.headBuf || this.headBuf.length < before + take) {
      const grown = Buffer.allocUnsafe(Math.min(max + 4, Math.max(1024, (before + take) * 2)));
      if (this.headBuf) this.headBuf.copy(grown, 0, 0, before);
      this.headBuf = grown;
    }
    b.copy(this.headBuf, before, pos, pos + take);
    this.headLen = before + take;
    const end = headEnd(this.headBuf, Math.max(0, before - 3), this.headLen);
    if (end < 0) {
      if (this.headLen > max) return this.overflow(n);
      return n;
    }
    if (end > max) return this.overflow(n);
    const text = this.headBuf.toString('latin1', 0, end);
    this.headLen = 0;
    this.headBuf = null;
    return this.parseHead(text, pos + (end - before));
  }

  /** Fails the request for its head's size; returns `n` (the rest of the read is not looked at). */
  private overflow(n: number): number {
    this.headLen = 0;
    this.headBuf = null;
    this.fail(new H1Error(H1_CODES.headersOverflow, `response headers longer than ${this.maxHeader} bytes`));
    return n;
  }

  /** Reads a complete head (`text`, its blank line included); `after`: where the body starts in the current read. */
  private parseHead(text: string, after: number): number {
    // Lines end in LF (a CR before it is dropped); scanned in place, no split or regex on the common path.
    let eol = text.indexOf('\n');
    if (eol < 0) eol = text.length;
    const first = text.slice(0, eol > 0 && text.charCodeAt(eol - 1) === CR ? eol - 1 : eol);
    const minor = statusLineMinor(first);
    if (minor < 0) {
      this.broken(`not an HTTP/1.1 status line: ${JSON.stringify(first.slice(0, 80))}`);
      return after;
    }
    const status = (first.charCodeAt(9) - 48) * 100 + (first.charCodeAt(10) - 48) * 10 + (first.charCodeAt(11) - 48);
    const statusText = first.length > 13 ? first.slice(13) : '';
    const raw: string[] = [];
    let length = -1;
    let chunked = false;
    let close = minor === 0;
    for (let at = eol + 1; at < text.length; ) {
      let end = text.indexOf('\n', at);
      if (end < 0) end = text.length;
      const lineEnd = end > at && text.charCodeAt(end - 1) === CR ? end - 1 : end;
      const from = at;
      at = end + 1;
      if (lineEnd === from) continue;
      const colon = text.indexOf(':', from);
      if (colon <= from || colon >= lineEnd) {
        this.broken(`a header line without a name: ${JSON.stringify(text.slice(from, Math.min(lineEnd, from + 80)))}`);
        return after;
      }
      const name = text.slice(from, colon).trim();
      const value = text.slice(colon + 1, lineEnd).trim();
      raw.push(name, value);
      const c = name.charCodeAt(0) | 0x20;
      if (c !== 99 /* c */ && c !== 116 /* t */) continue;
      const lower = name.toLowerCase();
      if (lower === 'content-length') {
        if (!/^\d{1,15}$/.test(value) || (length >= 0 && Number(value) !== length)) {
          this.broken(`a bad content-length: ${JSON.stringify(value.slice(0, 40))}`);
          return after;
        }
        length = Number(value);
      } else if (lower === 'transfer-encoding') chunked = /(?:^|,)\s*chunked\s*$/i.test(value);
      else if (lower === 'connection') {
        const v = value.toLowerCase();
        if (v.includes('close')) close = true;
        else if (v.includes('keep-alive')) close = false;
      }
    }
    if (status < 200) {
      // 1xx: informational, another head follows (101 would switch protocols: dsprobe never asks for it).
      if (status === 101) {
        this.broken('the server switched protocols (101), which dsprobe never asked for');
        return after;
      }
      return after;
    }
    const h = this.handler as H1Handler;
    if (status === 204 || status === 304) this.state = Body.Length;
    else if (chunked) this.state = Body.ChunkSize;
    else if (length >= 0) this.state = Body.Length;
    else {
      this.state = Body.UntilClose;
      close = true;
    }
    this.left = status === 204 || status === 304 ? 0 : Math.max(length, 0);
    this.keepAlive = !close;
    this.trailerBytes = 0;
    h.onHeaders(status, raw, noop, statusText);
    if (this.handler === h && this.state === Body.Length && this.left === 0) this.complete(null);
    return after;
  }

  /** A chunk-size line (`1a;ext=1\r\n`); returns the position after it. */
  private readChunkSize(b: Buffer, pos: number, n: number): number {
    const nl = lfIn(b, pos, n);
    if (nl < 0 || this.carry) {
      const buf = this.joined(b, pos, n);
      const at = buf.indexOf(LF);
      if (at < 0) {
        if (buf.length > MAX_LINE) this.broken('a chunk-size line longer than 8 KiB');
        else this.carry = Buffer.from(buf);
        return n;
      }
      this.chunkSize(buf, 0, at);
      // The line ended inside this read: continue right after it there.
      return n - (buf.length - at - 1);
    }
    this.chunkSize(b, pos, nl);
    return nl + 1;
  }

  /** Reads the hex size in `buf[from, lf)` and moves to its data (or to the trailers for size 0). */
  private chunkSize(buf: Buffer, from: number, lf: number): void {
    let size = 0;
    let digits = 0;
    let i = from;
    for (; i < lf; i++) {
      const c = buf[i] as number;
      const d = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : c >= 65 && c <= 70 ? c - 55 : -1;
      if (d < 0) break;
      size = size * 16 + d;
      digits++;
    }
    // After the digits: optional spaces and `;extensions`, then CR.
    const rest = i < lf ? buf[i] : CR;
    if (digits === 0 || digits > 12 || (rest !== CR && rest !== 59 /* ; */ && rest !== 32 && rest !== 9)) {
      this.broken(`a bad chunk size: ${JSON.stringify(buf.toString('latin1', from, Math.min(lf, from + 40)))}`);
      return;
    }
    if (size === 0) {
      this.state = Body.Trailers;
      this.trailers = null;
    } else {
      this.left = size;
      this.state = Body.ChunkData;
    }
  }

  /** The CRLF that ends a chunk's data (its CR and LF may come in two reads; a bare LF is accepted). */
  private readChunkEnd(b: Buffer, pos: number, n: number): number {
    const c = b[pos] as number;
    if (c === CR && !this.sawCr) {
      this.sawCr = true;
      return pos + 1;
    }
    if (c === LF) {
      this.sawCr = false;
      this.state = Body.ChunkSize;
      return pos + 1;
    }
    this.broken('chunk data not followed by CRLF');
    return n;
  }

  /** Trailer lines after the last chunk, up to the empty line that ends the response. */
  private readTrailers(b: Buffer, pos: number, n: number): number {
    const buf = this.joined(b, pos, n);
    let at = 0;
    for (;;) {
      const nl = buf.indexOf(LF, at);
      if (nl < 0) {
        this.trailerBytes += buf.length - at;
        if (this.trailerBytes > MAX_LINE) this.broken('trailers longer than 8 KiB');
        else this.carry = Buffer.from(buf.subarray(at));
        return n;
      }
      const line = buf.toString('latin1', at, nl > at && buf[nl - 1] === CR ? nl - 1 : nl);
      at = nl + 1;
      if (line.length === 0) {
        this.complete(this.trailers);
        return n - (buf.length - at);
      }
      this.trailerBytes += line.length;
      if (this.trailerBytes > MAX_LINE) {
        this.broken('trailers longer than 8 KiB');
        return n;
      }
      const colon = line.indexOf(':');
      if (colon > 0) (this.trailers ??= []).push(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
    }
  }
}

function noop(): void {}

/**
 * Index of the first LF in `b[from, to)`, or -1. A loop rather than `indexOf`: a chunk-size line is a few bytes,
 * where the native call costs more than the scan, and the search must stop at `to` (past it lie an earlier
 * read's bytes).
 */
export function lfIn(b: Uint8Array, from: number, to: number): number {
  for (let i = from; i < to; i++) if (b[i] === LF) return i;
  return -1;
}

/**
 * The minor version (0 or 1) of a status line `HTTP/1.x DDD[ reason]`, or -1 when it is not one (the old
 * `^HTTP\/1\.([01]) (\d{3})(?: (.*))?$`, without a regex).
 */
function statusLineMinor(line: string): number {
  if (line.length < 12 || !line.startsWith('HTTP/1.') || line.charCodeAt(8) !== 32) return -1;
  const minor = line.charCodeAt(7) - 48;
  if (minor !== 0 && minor !== 1) return -1;
  for (let i = 9; i < 12; i++) {
    const d = line.charCodeAt(i);
    if (d < 48 || d > 57) return -1;
  }
  if (line.length > 12 && line.charCodeAt(12) !== 32) return -1;
  // The reason phrase runs to the line's end: no CR or LF inside (the line was cut at LF, CR dropped).
  return line.indexOf('\r') < 0 ? minor : -1;
}

/** Index just past the blank line that ends a header block (CRLFCRLF or LFLF), or -1. */
function headEnd(b: Buffer, from: number, to: number): number {
  for (;;) {
    const nl = b.indexOf(LF, from);
    if (nl < 0 || nl >= to) return -1;
    const next = nl + 1 < to ? b[nl + 1] : undefined;
    if (next === LF) return nl + 2;
    if (next === CR && nl + 2 < to && b[nl + 2] === LF) return nl + 3;
    if (next === undefined || (next === CR && nl + 2 >= to)) return -1;
    from = nl + 1;
  }
}

import { StringDecoder } from 'node:string_decoder';

/**
 * An incremental Server-Sent Events parser (WHATWG HTML "event stream interpretation").
 *
 * Why hand-written: dsprobe parses thousands of streams at once, and must see what other parsers drop:
 * `: keep-alive` comments are surfaced as events so the prober can timestamp the queue wait.
 *
 * - Input: raw bytes in arbitrary chunks (Buffer/Uint8Array). UTF-8 is decoded with node's StringDecoder
 *   (about 4x cheaper per chunk than a streaming TextDecoder on Node 20), so a multi-byte character split across chunks is fine and
 *   invalid bytes become U+FFFD; a leading BOM is dropped, as the spec asks. The decoder is made only once a chunk
 *   ends inside a character (most streams never do; it allocates a buffer per stream).
 * - Lines end in LF, CR or CRLF; a CRLF split across two chunks counts once (`pendingCR`).
 * - Cost is O(n) in the bytes received: each chunk's text is scanned once; an unfinished line is kept as
 *   pieces and joined once when its terminator arrives (no re-scanning of a growing buffer).
 * - Never throws on any input.
 */

/** Receives what the parser finds. Called synchronously from `push`/`end`. */
export interface SseHandler {
  /** A comment line (`: text`); `text` is what follows the colon, one leading space removed. */
  onComment(text: string): void;
  /**
   * A dispatched event. `event` is `message` when no `event:` field was given; `data` is the data lines joined
   * by LF; `id` is the last event id seen so far in the stream (spec: it persists across events).
   */
  onMessage(event: string, data: string, id: string): void;
  /** A valid `retry:` field (milliseconds). */
  onRetry?(ms: number): void;
  /**
   * A line whose field name is not one of `event`, `data`, `id`, `retry`. The spec says to ignore it; dsprobe
   * surfaces it so a raw JSON error body written into an event stream can still be classified.
   */
  onOtherLine?(line: string): void;
  /**
   * A line (`line`) or an event's data (`event`) grew past the parser's limit. The parser stops (every later
   * push is ignored) and keeps nothing of it: memory stays bounded whatever the server sends.
   */
  onOverflow?(what: 'line' | 'event'): void;
}

/** Default longest line and event data (characters): far above any real chunk, far below what hurts. */
export const SSE_MAX_LINE = 4 * 1024 * 1024;

const LF = '\n';
const CR = '\r';

/**
 * True when `b` ends with a whole UTF-8 sequence (so decoding it alone loses nothing to the next chunk). Unsure
 * cases (a stray continuation run, a lead byte past 0xF7) answer false: the StringDecoder then decides, as always.
 */
export function endsOnBoundary(b: Uint8Array): boolean {
  const n = b.length;
  const last = b[n - 1] as number;
  if (last < 0x80) return true;
  // Back over continuation bytes (10xxxxxx) to the sequence's lead byte, at most 3 of them.
  let i = n - 1;
  while (i > n - 4 && i > 0 && ((b[i] as number) & 0xc0) === 0x80) i--;
  const lead = b[i] as number;
  const need = lead >= 0xf0 && lead <= 0xf7 ? 4 : lead >= 0xe0 && lead <= 0xef ? 3 : lead >= 0xc0 && lead <= 0xdf ? 2 : 0;
  return need > 0 && n - i === need;
}

/** Incremental SSE parser: feed chunks with `push`, then call `end` once. */
export class SseParser {
  private readonly h: SseHandler;
  /**
   * Made only when a chunk ends inside a UTF-8 character (a StringDecoder allocates a buffer of its own, per
   * stream); until then each chunk decodes on its own, to the same text (decode()).
   */
  private decoder: StringDecoder | null = null;
  /** Nothing decoded yet: a leading BOM is still to be dropped. */
  private atStart = true;
  /** Pieces of the current unfinished line (joined when its terminator arrives). */
  /** Made on the first line split over chunks (most streams never split one). */
  private partial: string[] | null = null;
  /** The previous chunk ended in CR: an LF at the start of the next one belongs to it. */
  private pendingCR = false;
  private eventType = '';
  private data = '';
  private hasData = false;
  private lastId = '';
  private ended = false;
  /** Characters held in `partial` (a length check per chunk, no copy). */
  private partialLen = 0;
  private readonly maxLine: number;

  /** `maxLine`: longest line, and longest event data, in characters (default SSE_MAX_LINE). */
  constructor(handler: SseHandler, maxLine = SSE_MAX_LINE) {
    this.h = handler;
    this.maxLine = maxLine;
  }

  /**
   * True when nothing is pending (no partial line or event, no decoder state; at the start, or past it) and a line of
   * `bytes` bytes would not pass the limit: a chunk that is exactly one `data: X` LF LF would then be read as that
   * one event and leave the parser as it is, so a caller may read such a chunk itself (fast-delta.ts, matchFrame).
   */
  wholeEventFits(bytes: number): boolean {
    return !this.ended && this.decoder === null && (this.atStart || this.betweenEvents) && bytes - 2 <= this.maxLine;
  }

  /**
   * The caller read a whole event itself (wholeEventFits). Were it the stream's first bytes, they began `data:`, so
   * no BOM is left to drop: the start is past, as if the parser had read them.
   */
  eventReadByCaller(): void {
    this.atStart = false;
  }

  /** Between events: no partial line, event field or CR pending, and past the start (a BOM is settled). */
  private get betweenEvents(): boolean {
    return !this.hasData && this.partial === null && !this.pendingCR && !this.atStart && this.eventType.length === 0;
  }

  /** Feeds one chunk of bytes. */
  push(chunk: Uint8Array): void {
    if (this.ended || chunk.length === 0) return;
    this.pushText(this.decode(chunk));
  }

  /** The chunk's text: on its own while every chunk so far ended on a character boundary, else via the decoder. */
  private decode(chunk: Uint8Array): string {
    if (this.decoder === null) {
      if (endsOnBoundary(chunk)) {
        return Buffer.isBuffer(chunk) ? chunk.toString('utf8') : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length).toString('utf8');
      }
      this.decoder = new StringDecoder('utf8');
    }
    return this.decoder.write(chunk as Buffer);
  }

  /**
   * Ends the stream: flushes the decoder and the last line. Per the spec an event not yet terminated by a blank
   * line is discarded; returns true when such an unfinished event (or line) was pending, so callers can tell a
   * cut frame from a clean end.
   */
  end(): boolean {
    if (this.ended) return false;
    const tail = this.decoder ? this.decoder.end() : '';
    if (tail.length > 0) this.pushText(tail);
    this.ended = true;
    let unfinished = this.hasData;
    if (this.partial !== null) {
      const line = this.partial.join('');
      this.partial = null;
      this.partialLen = 0;
      // A final line without terminator is not processed (spec), but it means the stream was cut mid-frame.
      if (line.length > 0) unfinished = true;
    }
    this.hasData = false;
    this.data = '';
    this.eventType = '';
    return unfinished;
  }

  private pushText(s: string): void {
    if (s.length === 0) return;
    // The common chunk at one event per read: exactly `data: X` LF LF with nothing pending. Dispatched as the
    // general path below would (one data line, an empty line; type `message`), with one slice instead of a line
    // scan; any CR, a longer line or other state takes the general path.
    if (this.betweenEvents) {
      const n = s.length;
      if (
        n > 8 &&
        n - 2 <= this.maxLine &&
        s.charCodeAt(n - 1) === 10 &&
        s.charCodeAt(n - 2) === 10 &&
        s.startsWith('data: ') &&
        s.indexOf(LF, 6) === n - 2 &&
        s.indexOf(CR, 6) === -1
      ) {
        this.h.onMessage('message', s.slice(6, n - 2), this.lastId);
        return;
      }
    }
    if (this.atStart) {
      this.atStart = false;
      if (s.charCodeAt(0) === 0xfeff) s = s.slice(1);
    }
    const n = s.length;
    if (n === 0) return;
    let pos = 0;
    if (this.pendingCR) {
      this.pendingCR = false;
      if (s.charCodeAt(0) === 10) pos = 1;
    }
    // Next CR / LF positions, cached so each is searched once per chunk: O(n), never quadratic.
    let nextLf = s.indexOf(LF, pos);
    let nextCr = s.indexOf(CR, pos);
    while (pos < n) {
      if (nextLf !== -1 && nextLf < pos) nextLf = s.indexOf(LF, pos);
      if (nextCr !== -1 && nextCr < pos) nextCr = s.indexOf(CR, pos);
      let eol: number;
      if (nextLf === -1) eol = nextCr;
      else if (nextCr === -1) eol = nextLf;
      else eol = nextLf < nextCr ? nextLf : nextCr;
      if (eol === -1) {
        this.partialLen += n - pos;
        if (this.partialLen > this.maxLine) return this.overflow('line');
        (this.partial ??= []).push(pos === 0 ? s : s.slice(pos));
        return;
      }
      if (this.partialLen + eol - pos > this.maxLine) return this.overflow('line');
      let line = s.slice(pos, eol);
      if (this.partial !== null) {
        this.partial.push(line);
        line = this.partial.join('');
        this.partial = null;
        this.partialLen = 0;
      }
      if (s.charCodeAt(eol) === 13) {
        if (eol + 1 === n) {
          this.pendingCR = true;
          pos = n;
        } else pos = s.charCodeAt(eol + 1) === 10 ? eol + 2 : eol + 1;
      } else pos = eol + 1;
      this.line(line);
      if (this.ended) return;
    }
  }

  /** Past the limit: drop what is held and stop parsing (the caller cuts the connection). */
  private overflow(what: 'line' | 'event'): void {
    this.ended = true;
    this.partial = null;
    this.partialLen = 0;
    this.data = '';
    this.hasData = false;
    this.h.onOverflow?.(what);
  }

  private line(line: string): void {
    if (line.length === 0) {
      this.dispatch();
      return;
    }
    const c0 = line.charCodeAt(0);
    if (c0 === 58 /* : */) {
      this.h.onComment(line.charCodeAt(1) === 32 ? line.slice(2) : line.slice(1));
      return;
    }
    const colon = line.indexOf(':');
    let value: string;
    let nameEnd: number;
    if (colon === -1) {
      nameEnd = line.length;
      value = '';
    } else {
      nameEnd = colon;
      value = line.charCodeAt(colon + 1) === 32 ? line.slice(colon + 2) : line.slice(colon + 1);
    }
    // Field names compared without slicing: the common `data` line costs one slice (the value).
    if (nameEnd === 4 && line.startsWith('data')) {
      if (this.hasData) {
        if (this.data.length + value.length >= this.maxLine) return this.overflow('event');
        this.data += LF + value;
      } else {
        this.data = value;
        this.hasData = true;
      }
    } else if (nameEnd === 5 && line.startsWith('event')) {
      this.eventType = value;
    } else if (nameEnd === 2 && line.startsWith('id')) {
      if (value.indexOf('\0') === -1) this.lastId = value;
    } else if (nameEnd === 5 && line.startsWith('retry')) {
      if (/^[0-9]+$/.test(value)) this.h.onRetry?.(Number(value));
    } else {
      this.h.onOtherLine?.(line);
    }
  }

  private dispatch(): void {
    if (!this.hasData) {
      this.eventType = '';
      return;
    }
    const type = this.eventType.length > 0 ? this.eventType : 'message';
    const data = this.data;
    this.data = '';
    this.hasData = false;
    this.eventType = '';
    this.h.onMessage(type, data, this.lastId);
  }
}

/** A parsed SSE item, for callers that prefer values to callbacks (tests, tools). */
export type SseItem =
  | { kind: 'comment'; text: string }
  | { kind: 'message'; event: string; data: string; id: string }
  | { kind: 'retry'; ms: number }
  | { kind: 'other'; line: string };

/** Parses a whole byte stream given as chunks into a list of items (convenience over SseParser). */
export function parseSseChunks(chunks: Iterable<Uint8Array>): { items: SseItem[]; unfinished: boolean } {
  const items: SseItem[] = [];
  const p = new SseParser({
    onComment: (text) => items.push({ kind: 'comment', text }),
    onMessage: (event, data, id) => items.push({ kind: 'message', event, data, id }),
    onRetry: (ms) => items.push({ kind: 'retry', ms }),
    onOtherLine: (line) => items.push({ kind: 'other', line }),
  });
  for (const c of chunks) p.push(c);
  const unfinished = p.end();
  return { items, unfinished };
}

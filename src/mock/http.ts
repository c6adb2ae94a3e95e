/**
 * Two small HTTP helpers shared by the mock's routes.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { openaiDialect } from './openai.js';

/** Largest request body accepted, bytes (a 1M-token prompt is about 4 MB). */
export const MAX_BODY = 64 * 1024 * 1024;
/**
 * Most request-body bytes held at once by all requests of this process together: an upload that would go
 * past it is answered 413 as its bytes arrive (never buffered first), so eight oversized uploads at once
 * cost at most this, and nothing stays after them.
 */
export const MAX_BODIES_TOTAL = 256 * 1024 * 1024;
let heldTotal = 0;

/** Request-body bytes held right now, all requests together (tests read it). */
export function heldBodyBytes(): number {
  return heldTotal;
}

/** Sends a complete JSON response. */
export function sendJson(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

/**
 * Collects a request body as text, answering 413 past MAX_BODY (a declared content-length is refused before
 * any byte is read) or when all bodies held at once would pass MAX_BODIES_TOTAL.
 */
export function readBody(req: IncomingMessage, res: ServerResponse, done: (body: string) => void): void {
  let chunks: Buffer[] = [];
  let size = 0;
  let rejected = false;
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    heldTotal -= size;
    chunks = [];
  };
  const reject = (message: string) => {
    rejected = true;
    release();
    if (!res.headersSent) {
      res.setHeader('connection', 'close');
      sendJson(res, 413, openaiDialect.errorBody(413, message));
    }
    // Stop reading: the rest of the upload is never buffered.
    req.pause();
    res.on('finish', () => req.destroy());
  };
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > MAX_BODY) return reject(`Request body larger than ${MAX_BODY} bytes`);
  req.on('data', (c: Buffer) => {
    if (rejected) return;
    if (size + c.length > MAX_BODY) return reject(`Request body larger than ${MAX_BODY} bytes`);
    if (heldTotal + c.length > MAX_BODIES_TOTAL) return reject('Too many large request bodies at once; retry later');
    size += c.length;
    heldTotal += c.length;
    chunks.push(c);
  });
  req.on('error', release);
  req.on('close', release);
  req.on('end', () => {
    if (rejected) return;
    const text = Buffer.concat(chunks).toString('utf8');
    release();
    done(text);
  });
}


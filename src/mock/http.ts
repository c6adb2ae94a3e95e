/**
 * Two small HTTP helpers shared by the mock's routes.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { openaiDialect } from './openai.js';

/** Largest request body accepted, bytes (a 1M-token prompt is about 4 MB). */
const MAX_BODY = 64 * 1024 * 1024;

/** Sends a complete JSON response. */
export function sendJson(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

/** Collects a request body as text, answering 413 past MAX_BODY. */
export function readBody(req: IncomingMessage, res: ServerResponse, done: (body: string) => void): void {
  const chunks: Buffer[] = [];
  let size = 0;
  req.on('data', (c: Buffer) => {
    size += c.length;
    if (size > MAX_BODY) {
      sendJson(res, 413, openaiDialect.errorBody(413, `Request body larger than ${MAX_BODY} bytes`));
      req.destroy();
      return;
    }
    chunks.push(c);
  });
  req.on('end', () => {
    if (size <= MAX_BODY) done(Buffer.concat(chunks).toString('utf8'));
  });
}


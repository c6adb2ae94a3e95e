// An OpenAI stream's closing chunk (finish_reason and usage) read in bytes from a head another stream's parsed closing
// chunk taught (closing-chunk.ts): taken only when parsing it would have said the same, and then with the same facts.
import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import { openAiDialect } from '../../src/protocol/openai.js';
import { newFacts, type ResponseFacts } from '../../src/protocol/dialect.js';

const usageOf = (prompt: number, completion: number) =>
  `{"prompt_tokens":${prompt},"completion_tokens":${completion},"total_tokens":${prompt + completion},"prompt_tokens_details":{"cached_tokens":64},"prompt_cache_hit_tokens":64,"prompt_cache_miss_tokens":${prompt - 64}}`;
const closing = (id = 'chatcmpl-7f3a', reason = 'stop', usage = usageOf(1200, 100), delta = '{"content":""}') =>
  `{"id":"${id}","object":"chat.completion.chunk","created":1745225423,"model":"deepseek-v4-flash","system_fingerprint":"fp_01","choices":[{"index":0,"delta":${delta},"logprobs":null,"finish_reason":"${reason}"}],"usage":${usage}}`;
const frame = (data: string) => Buffer.from(`data: ${data}\n\n`);

/** The chunk read by parsing it (as the SSE parser's text path hands it over); this teaches the thread's heads. */
function parsed(data: string): ResponseFacts {
  const f = newFacts();
  openAiDialect.streamReader(f).message('message', data, 5);
  return f;
}

/** The frame offered to the byte path: the facts when it took it, else null. */
function inBytes(b: Buffer): ResponseFacts | null {
  const f = newFacts();
  const r = openAiDialect.streamReader(f);
  return r.frame?.(b, 0, b.length, 5) === true ? f : null;
}

describe('closing chunk in bytes', () => {
  test('another response of a learned shape: its reason and usage as parsing gives them, usage of any length', () => {
    parsed(closing());
    for (const u of [usageOf(8, 3), usageOf(123456, 7), '{"prompt_tokens":5}', '{ "prompt_tokens" : 9 , "completion_tokens":2 }']) {
      const data = closing('chatcmpl-9b21', 'stop', u);
      const f = inBytes(frame(data));
      expect(f, u).not.toBeNull();
      expect(f).toEqual(parsed(data));
      expect(f?.finish_reason).toBe('stop');
      expect(f?.usage).toBeDefined();
    }
  });

  test('another finish reason is parsed, then learned; a chunk with text, or with usage not last, is never learned', () => {
    parsed(closing());
    const length = closing('chatcmpl-9b21', 'length');
    expect(inBytes(frame(length))).toBeNull();
    parsed(length);
    expect(inBytes(frame(closing('chatcmpl-1111', 'length')))?.finish_reason).toBe('length');
    expect(inBytes(frame(closing('chatcmpl-1111', 'stop')))?.finish_reason).toBe('stop');
    // Text in the closing chunk: a token event, which the byte path does not count.
    const texted = (id: string) => closing(id, 'stop', usageOf(10, 1), '{"content":"bye"}');
    parsed(texted('chatcmpl-7f3a'));
    expect(inBytes(frame(texted('chatcmpl-2222')))).toBeNull();
    // `usage` not the last key, or only nested: no head.
    const notLast = (id: string) => closing(id, 'length').replace(/}$/, ',"extra":1}');
    parsed(notLast('chatcmpl-7f3a'));
    expect(inBytes(frame(notLast('chatcmpl-2222')))).toBeNull();
    const nested = (id: string) => `{"id":"${id}","choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"meta":{"usage":{"prompt_tokens":1}}}`;
    parsed(nested('a1'));
    expect(inBytes(frame(nested('a2')))).toBeNull();
    // The last `"usage":` nested inside the top-level usage: no head from it, so a frame that is that text up to
    // the nested key, an object and one `}` (not JSON: braces left open) is never read in bytes.
    const inner = (id: string) => closing(id, 'stop', '{"prompt_tokens":1,"x":{"usage":{"a":1}}}');
    parsed(inner('chatcmpl-7f3a'));
    const cut = inner('chatcmpl-3333');
    const open = `${cut.slice(0, cut.lastIndexOf('"usage":') + 8)}{"prompt_tokens":7}}`;
    expect(() => JSON.parse(open)).toThrow();
    expect(inBytes(frame(open))).toBeNull();
  });

  test('two events in one frame, a bad usage, or other framing go to the parser', () => {
    parsed(closing());
    const data = closing('chatcmpl-9b21');
    expect(inBytes(Buffer.from(`data: ${data}\n\ndata: [DONE]\n\n`))).toBeNull();
    expect(inBytes(frame(data.replace('"prompt_tokens":1200', '"prompt_tokens":1200\n')))).toBeNull();
    expect(inBytes(frame(data.replace('"prompt_tokens":1200', '"prompt_tokens":12x0')))).toBeNull();
    expect(inBytes(frame(data.replace(/}$/, '}}')))).toBeNull();
    expect(inBytes(frame(data.replace('"usage":{', '"usage":[')))).toBeNull();
    expect(inBytes(Buffer.from(`data:${data}\n\n`))).toBeNull();
    expect(inBytes(Buffer.from(`data: ${data}\r\n\r\n`))).toBeNull();
  });

  test('property: any bytes changed anywhere: a frame read in bytes is valid JSON, and parsing it gives the same facts', () => {
    parsed(closing());
    const base = frame(closing('chatcmpl-9b21', 'stop', usageOf(4321, 765)));
    const byte = fc.oneof(fc.constantFrom(...Buffer.from('0123456789"\\ ,:{}[]-.eEnulxz\n\u007f')), fc.integer({ min: 0, max: 255 }));
    let taken = 0;
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: base.length - 1 }), byte), { minLength: 1, maxLength: 4 }), (edits) => {
        const b = Buffer.from(base);
        for (const [at, v] of edits) b[at] = v;
        const f = inBytes(b);
        if (f === null) return;
        taken++;
        const data = b.toString('utf8', 6, b.length - 2);
        expect(() => JSON.parse(data)).not.toThrow();
        expect(f).toEqual(parsed(data));
        // Parsing may have taught another head: the original stays the one tried first.
        parsed(closing());
      }),
      { numRuns: 4000 },
    );
    // Not vacuous: edits in the id and in the usage's digits are read in bytes.
    expect(taken).toBeGreaterThan(50);
  });
});

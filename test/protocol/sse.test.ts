import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import { StringDecoder } from 'node:string_decoder';
import { endsOnBoundary, parseSseChunks, SseParser, type SseItem } from '../../src/protocol/sse.js';

const enc = new TextEncoder();
const bytes = (s: string) => enc.encode(s);

function parse(...chunks: (string | Uint8Array)[]) {
  return parseSseChunks(chunks.map((c) => (typeof c === 'string' ? bytes(c) : c)));
}

/** Splits `b` at the given cut points. */
function splitAt(b: Uint8Array, cuts: number[]): Uint8Array[] {
  const pts = [...new Set(cuts.map((c) => Math.max(0, Math.min(b.length, c))))].sort((a, c) => a - c);
  const out: Uint8Array[] = [];
  let prev = 0;
  for (const p of pts) {
    out.push(b.subarray(prev, p));
    prev = p;
  }
  out.push(b.subarray(prev));
  return out;
}

describe('SSE parser: framing', () => {
  test('data frames with LF, CRLF and CR line ends give the same events', () => {
    const lf = parse('data: a\n\ndata: b\n\n').items;
    const crlf = parse('data: a\r\n\r\ndata: b\r\n\r\n').items;
    const cr = parse('data: a\r\rdata: b\r\r').items;
    const want: SseItem[] = [
      { kind: 'message', event: 'message', data: 'a', id: '' },
      { kind: 'message', event: 'message', data: 'b', id: '' },
    ];
    expect(lf).toEqual(want);
    expect(crlf).toEqual(want);
    expect(cr).toEqual(want);
  });

  test('a CRLF split across two chunks counts as one line end, not two', () => {
    // If the split CRLF counted twice, the blank line would dispatch after "data: a" alone.
    const r = parse('data: a\r', '\ndata: b\r\n\r\n');
    expect(r.items).toEqual([{ kind: 'message', event: 'message', data: 'a\nb', id: '' }]);
  });

  test('a CR at a chunk end followed by a split multi-byte character ends the line once', () => {
    // The middle chunk is the first byte of a 2-byte character: it decodes to nothing until the next chunk.
    const e = bytes('é');
    const r = parse('data: a\r', e.subarray(0, 1), e.subarray(1), '\n\n');
    // CR ended the line "data: a"; the LF after "é" ends a line "é" (an unknown field), then a blank line.
    expect(r.items).toEqual([
      { kind: 'other', line: 'é' },
      { kind: 'message', event: 'message', data: 'a', id: '' },
    ]);
  });

  test('event, id and retry fields; multi-line data; id persists; unnamed event is "message"', () => {
    const r = parse('event: message_start\nid: 7\ndata: {"a":1}\n\nretry: 1500\ndata: x\ndata: y\n\n');
    expect(r.items).toEqual([
      { kind: 'message', event: 'message_start', data: '{"a":1}', id: '7' },
      { kind: 'retry', ms: 1500 },
      { kind: 'message', event: 'message', data: 'x\ny', id: '7' },
    ]);
  });

  test('comments are surfaced (keep-alives), with one leading space removed', () => {
    const r = parse(': keep-alive\n\n:no-space\n\ndata: d\n\n');
    expect(r.items).toEqual([
      { kind: 'comment', text: 'keep-alive' },
      { kind: 'comment', text: 'no-space' },
      { kind: 'message', event: 'message', data: 'd', id: '' },
    ]);
  });

  test('spec details: no space after colon, field without colon, empty data, invalid retry, NUL in id', () => {
    const r = parse('data:x\n\ndata\n\nretry: 12a\nid: a\0b\ndata: z\n\nevent: only\n\n');
    expect(r.items).toEqual([
      { kind: 'message', event: 'message', data: 'x', id: '' },
      { kind: 'message', event: 'message', data: '', id: '' },
      { kind: 'message', event: 'message', data: 'z', id: '' },
    ]);
  });

  test('a leading BOM is dropped, even split across chunks; a later one is kept', () => {
    const b = bytes('\uFEFFdata: a\n\n');
    const r = parse(b.subarray(0, 1), b.subarray(1, 2), b.subarray(2));
    expect(r.items).toEqual([{ kind: 'message', event: 'message', data: 'a', id: '' }]);
    expect(parse('data: \uFEFFa\n\n').items[0]).toMatchObject({ data: '\uFEFFa' });
  });

  test('a first event its caller read (wholeEventFits at the start, then eventReadByCaller): a later BOM is kept', () => {
    const messages: string[] = [];
    const p = new SseParser({ onComment() {}, onMessage: (_event, data) => messages.push(data), onRetry() {}, onOtherLine() {} });
    expect(p.wholeEventFits(10)).toBe(true);
    p.eventReadByCaller();
    p.push(bytes('\uFEFFdata: b\n\n'));
    // Not the stream's start: the BOM is part of the field name, which is then no `data` field.
    expect(messages).toEqual([]);
  });

  test('several frames in one chunk and a frame split over many chunks', () => {
    const s = 'data: 1\n\ndata: 2\n\n: c\ndata: 3\n\n';
    const whole = parse(s).items;
    expect(whole.filter((i) => i.kind === 'message')).toHaveLength(3);
    expect(parse(...s.split('')).items).toEqual(whole);
  });

  test('an event not closed by a blank line is not dispatched, and end() reports it', () => {
    const r = parse('data: complete\n\ndata: {"cut');
    expect(r.items).toEqual([{ kind: 'message', event: 'message', data: 'complete', id: '' }]);
    expect(r.unfinished).toBe(true);
    expect(parse('data: a\n\n').unfinished).toBe(false);
    expect(parse('data: a\n').unfinished).toBe(true);
  });

  test('a JSON line that is not an SSE field is surfaced as other (raw error bodies)', () => {
    const r = parse(': keep-alive\n\n{"error":{"message":"m"}}\n');
    expect(r.items[1]).toEqual({ kind: 'other', line: '{"error":{"message":"m"}}' });
  });

  test('multi-byte characters split at every byte boundary decode intact', () => {
    const b = bytes('data: 中文 🎉 é\n\n');
    expect(parse(...Array.from(b, (x) => Uint8Array.of(x))).items).toEqual([
      { kind: 'message', event: 'message', data: '中文 🎉 é', id: '' },
    ]);
  });

  test('a long line fed in many small chunks is assembled once (large input)', () => {
    const payload = 'x'.repeat(1 << 20);
    const b = bytes(`data: ${payload}\n\n`);
    const chunks: Uint8Array[] = [];
    for (let i = 0; i < b.length; i += 1000) chunks.push(b.subarray(i, i + 1000));
    const r = parseSseChunks(chunks);
    expect(r.items).toHaveLength(1);
    expect((r.items[0] as { data: string }).data.length).toBe(1 << 20);
  });

  test('push after end is ignored; end twice is harmless', () => {
    const got: string[] = [];
    const p = new SseParser({ onComment: () => undefined, onMessage: (_e, d) => got.push(d) });
    p.push(bytes('data: a\n\n'));
    expect(p.end()).toBe(false);
    p.push(bytes('data: b\n\n'));
    expect(p.end()).toBe(false);
    expect(got).toEqual(['a']);
  });
});

// ---- property tests -------------------------------------------------------------------------------------

const fieldText = fc.string({ unit: fc.constantFrom('a', 'b', ' ', ':', '{', '}', '"', 'é', '中', '🎉', '\0', 'x') });
const eol = fc.constantFrom('\n', '\r', '\r\n');
const line = fc.oneof(
  fieldText.map((t) => `data: ${t}`),
  fieldText.map((t) => `data:${t}`),
  fieldText.map((t) => `event: ${t}`),
  fieldText.map((t) => `id: ${t}`),
  fc.integer({ min: 0, max: 99999 }).map((n) => `retry: ${n}`),
  fieldText.map((t) => `: ${t}`),
  fc.constant(': keep-alive'),
  fieldText.map((t) => `${t.replace(/:/g, '')}`),
  fc.constant(''),
);
const stream = fc
  .tuple(fc.boolean(), fc.array(fc.tuple(line, eol), { maxLength: 40 }))
  .map(([bom, ls]) => (bom ? '\uFEFF' : '') + ls.map(([l, e]) => l + e).join(''));

describe('SSE parser: properties', () => {
  test('the decoder made only when needed: any bytes (valid UTF-8 or not), any split, the text a StringDecoder gives', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.array(fc.nat(), { maxLength: 8 }), (b, cuts) => {
        const chunks = splitAt(b, cuts.map((c) => c % (b.length + 1))).filter((c) => c.length > 0);
        const ref = new StringDecoder('utf8');
        const want = chunks.map((c) => ref.write(Buffer.from(c))).join('') + ref.end();
        // What SseParser.decode does: each chunk alone until one ends inside a character, then the decoder.
        let dec: StringDecoder | null = null;
        let got = '';
        for (const c of chunks) {
          if (!dec && endsOnBoundary(c)) got += Buffer.from(c).toString('utf8');
          else got += (dec ??= new StringDecoder('utf8')).write(Buffer.from(c));
        }
        got += dec ? dec.end() : '';
        expect(got).toBe(want);
      }),
      { numRuns: 3000 },
    );
  });

  test('a data line with bytes that are not UTF-8, split anywhere: the same events as in one chunk', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 24 }), fc.array(fc.nat(), { maxLength: 6 }), (junk, cuts) => {
        const clean = junk.map((x) => (x === 10 || x === 13 ? 32 : x));
        const b = new Uint8Array([...bytes('data: '), ...clean, ...bytes('\n\n')]);
        expect(parseSseChunks(splitAt(b, cuts.map((c) => c % (b.length + 1))))).toEqual(parseSseChunks([b]));
      }),
      { numRuns: 2000 },
    );
  });

  test('any split of a valid byte stream into chunks yields the same events', () => {
    fc.assert(
      fc.property(stream, fc.array(fc.nat(), { maxLength: 12 }), (s, cuts) => {
        const b = bytes(s);
        const whole = parseSseChunks([b]);
        const split = parseSseChunks(splitAt(b, cuts.map((c) => c % (b.length + 1))));
        expect(split).toEqual(whole);
      }),
      { numRuns: 500 },
    );
  });

  test('chunks cut after every blank line (one whole event per read, the fast path) equal byte-at-a-time, limits included', () => {
    const dataEvent = fieldText.map((t) => `data: ${t}\n\n`);
    const events = fc.array(fc.oneof(dataEvent, dataEvent, stream), { maxLength: 30 });
    const parse = (chunks: Uint8Array[], maxLine: number) => {
      const items: unknown[] = [];
      const p = new SseParser(
        {
          onComment: (text) => items.push(['comment', text]),
          onMessage: (event, data, id) => items.push(['message', event, data, id]),
          onRetry: (ms) => items.push(['retry', ms]),
          onOtherLine: (l) => items.push(['other', l]),
          onOverflow: (what) => items.push(['overflow', what]),
        },
        maxLine,
      );
      for (const c of chunks) p.push(c);
      return [items, p.end()];
    };
    fc.assert(
      fc.property(events, fc.integer({ min: 1, max: 12 }), (es, maxLine) => {
        const text = es.join('');
        const b = bytes(text);
        const byByte = Array.from(b, (x) => Uint8Array.of(x));
        const byEvent = text.split(/(?<=\n\n)/).filter((t) => t.length > 0).map(bytes);
        expect(parse(byEvent, 1 << 20)).toEqual(parse(byByte, 1 << 20));
        expect(parse(byEvent, maxLine)).toEqual(parse(byByte, maxLine));
      }),
      { numRuns: 500 },
    );
  });

  test('byte-at-a-time equals one chunk', () => {
    fc.assert(
      fc.property(stream, (s) => {
        const b = bytes(s);
        expect(parseSseChunks(Array.from(b, (x) => Uint8Array.of(x)))).toEqual(parseSseChunks([b]));
      }),
      { numRuns: 200 },
    );
  });

  test('random bytes never throw, and are split-invariant too', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), fc.array(fc.nat(), { maxLength: 8 }), (b, cuts) => {
        const whole = parseSseChunks([b]);
        const split = parseSseChunks(splitAt(b, cuts.map((c) => c % (b.length + 1))));
        expect(split).toEqual(whole);
      }),
      { numRuns: 500 },
    );
  });

  test('data round-trips: frames built from arbitrary text come back unchanged', () => {
    const text = fc.string({ unit: 'grapheme' }).filter((t) => !/[\r\n]/.test(t));
    fc.assert(
      fc.property(fc.array(text, { minLength: 1, maxLength: 10 }), eol, (datas, e) => {
        const s = datas.map((d) => `data: ${d}${e}${e}`).join('');
        const got = parseSseChunks([bytes(s)]).items.map((i) => (i.kind === 'message' ? i.data : null));
        expect(got).toEqual(datas);
      }),
      { numRuns: 300 },
    );
  });
});

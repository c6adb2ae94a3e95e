import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import { StringDecoder } from 'node:string_decoder';
import { DeltaTemplates } from '../../src/protocol/fast-delta.js';
import { scanJsonString } from '../../src/protocol/json-bytes.js';

const chunk = (text: string) =>
  `{"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":${JSON.stringify(text)}},"logprobs":null,"finish_reason":null}],"usage":null}`;
const MARK = '"delta":{"content":"';

describe('scanJsonString', () => {
  test('finds the closing quote past escapes, rejects bad escapes and control characters', () => {
    const s = '"a\\"b\\\\\\u00e9\\n"';
    expect(scanJsonString(s, 1)).toBe(s.length - 1);
    expect(scanJsonString('"a\\x"', 1)).toBe(-1);
    expect(scanJsonString('"a\\u12"', 1)).toBe(-1);
    expect(scanJsonString('"a\nb"', 1)).toBe(-1);
    expect(scanJsonString('"abc', 1)).toBe(-1);
  });
  test('agrees with JSON.parse on arbitrary strings', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 64 }), (t) => {
        const s = JSON.stringify(t);
        expect(scanJsonString(s, 1)).toBe(s.length - 1);
      }),
    );
  });
});

describe('DeltaTemplates', () => {
  test('after learning one chunk, same-shaped chunks match without parsing; text emptiness is reported', () => {
    const t = new DeltaTemplates();
    expect(t.match(chunk('hello'))).toBe(-1);
    t.learn(chunk('hello'), MARK, 'hello');
    expect(t.size).toBe(1);
    expect(t.match(chunk('world "quoted" \\ é 🎉\n'))).toBe(1);
    expect(t.match(chunk(''))).toBe(0);
  });

  test('anything that differs outside the text falls back to parsing', () => {
    const t = new DeltaTemplates();
    t.learn(chunk('a'), MARK, 'a');
    expect(t.match(chunk('a').replace('"finish_reason":null', '"finish_reason":"stop"'))).toBe(-1);
    expect(t.match(chunk('a').replace('"usage":null', '"usage":{"prompt_tokens":1}'))).toBe(-1);
    expect(t.match('[DONE]')).toBe(-1);
    // Malformed text bodies: an unescaped quote, a raw newline, a truncated escape.
    const pre = chunk('a').split('"a"')[0] as string;
    const suf = chunk('a').split('"a"')[1] as string;
    expect(t.match(`${pre}"x"y"${suf}`)).toBe(-1);
    expect(t.match(`${pre}"x\ny"${suf}`)).toBe(-1);
    expect(t.match(`${pre}"x\\"${suf}`)).toBe(-1);
  });

  test('does not learn from a chunk whose raw text disagrees with the parsed text, or an ambiguous one', () => {
    const t = new DeltaTemplates();
    t.learn(chunk('a'), MARK, 'b');
    t.learn(`{"x":{"delta":{"content":"a"}},"y":{"delta":{"content":"a"}}}`, MARK, 'a');
    t.learn(chunk('a').replace('"delta":{"content":"', '"delta": {"content": "'), MARK, 'a');
    expect(t.size).toBe(0);
  });

  test('property: a match means JSON.parse would succeed with the same text emptiness', () => {
    const t = new DeltaTemplates();
    t.learn(chunk('seed'), MARK, 'seed');
    const pre = chunk('seed').slice(0, chunk('seed').indexOf(MARK) + MARK.length);
    const suf = chunk('seed').slice(pre.length + 'seed'.length);
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom('a', '"', '\\', 'u', '0', 'n', '\n', 'é', '}') }), (body) => {
        const data = pre + body + suf;
        const m = t.match(data);
        let parsed: { choices: { delta: { content: string } }[] } | null = null;
        try {
          parsed = JSON.parse(data);
        } catch {
          parsed = null;
        }
        if (m !== -1) {
          expect(parsed).not.toBeNull();
          expect(m).toBe((parsed?.choices[0]?.delta.content.length ?? 0) > 0 ? 1 : 0);
        }
      }),
      { numRuns: 2000 },
    );
  });
});

describe('DeltaTemplates.matchFrame: a whole `data:` event read in bytes', () => {
  const seed = chunk('seed');
  const pre = seed.slice(0, seed.indexOf(MARK) + MARK.length);
  const suf = seed.slice(pre.length + 'seed'.length);
  const learned = () => {
    const t = new DeltaTemplates();
    t.learn(seed, MARK, 'seed');
    return t;
  };

  test('a frame of the learned shape matches as its text would; other frames go to the text path', () => {
    const t = learned();
    const frame = (text: string) => Buffer.from(`data: ${chunk(text)}\n\n`);
    expect(t.matchFrame(frame('world "quoted" \\ é 🎉\n'))).toBe(1);
    expect(t.matchFrame(frame(''))).toBe(0);
    expect(t.matchFrame(Buffer.from(`data:${chunk('a')}\n\n`))).toBe(-1);
    expect(t.matchFrame(Buffer.from(`data: ${chunk('a')}\r\n\r\n`))).toBe(-1);
    expect(t.matchFrame(Buffer.from(`event: x\ndata: ${chunk('a')}\n\n`))).toBe(-1);
    expect(t.matchFrame(Buffer.from(`data: ${chunk('a').replace('"usage":null', '"usage":{}')}\n\n`))).toBe(-1);
    expect(new DeltaTemplates().matchFrame(frame('a'))).toBe(-1);
  });

  test('property: one byte changed anywhere outside the text (framing, prefix, suffix) and the frame is not matched', () => {
    const t = learned();
    const good = Buffer.from(`data: ${chunk('some text')}\n\n`);
    expect(t.matchFrame(good)).toBe(1);
    const head = 'data: '.length + pre.length;
    const tail = good.length - suf.length - 2;
    fc.assert(
      fc.property(fc.integer({ min: 0, max: head + (good.length - tail) - 1 }), fc.integer({ min: 1, max: 255 }), (k, delta) => {
        const at = k < head ? k : tail + (k - head);
        const bad = Buffer.from(good);
        bad[at] = ((bad[at] as number) + delta) % 256;
        expect(t.matchFrame(bad)).toBe(-1);
      }),
      { numRuns: 2000 },
    );
  });

  test('one buffer read again and again (as a thread reads every socket into one): each read is judged on its own bytes', () => {
    const good = Buffer.from(`data: ${chunk('some text')}\n\n`);
    const shared = Buffer.alloc(4096);
    const head = 'data: '.length;
    // A template tried a few times compares its prefix byte by byte; one tried often, a word at a time: both, at
    // every offset modulo 4 (words read unaligned), with a change in each of the prefix's words and in its last
    // characters (those past the last whole word).
    for (const warm of [0, 40]) {
      for (let at = 100; at < 104; at++) {
        const t = learned();
        good.copy(shared, at);
        for (let i = 0; i < warm; i++) expect(t.matchFrame(shared, at, at + good.length)).toBe(1);
        for (const k of [0, 5, pre.length - 1 - (pre.length % 4), pre.length - 1]) {
          shared[at + head + k] = (shared[at + head + k] as number) ^ 1;
          expect(t.matchFrame(shared, at, at + good.length)).toBe(-1);
          shared[at + head + k] = (shared[at + head + k] as number) ^ 1;
          expect(t.matchFrame(shared, at, at + good.length)).toBe(1);
        }
        shared.fill(0);
      }
    }
  });

  test('property: a frame read in place inside a larger buffer answers as the frame alone; nothing around it is read', () => {
    const t = learned();
    const piece = fc.oneof(
      fc.constantFrom('data: ', pre, suf, 'some text', '\n', '\n\n', '"', '\\', 'x'),
      fc.string({ maxLength: 4 }),
    );
    const bytes = fc.array(piece, { maxLength: 6 }).map((ps) => Buffer.from(ps.join('')));
    fc.assert(
      fc.property(bytes, bytes, bytes, (before, frame, after) => {
        const around = Buffer.concat([before, frame, after]);
        expect(t.matchFrame(around, before.length, before.length + frame.length)).toBe(t.matchFrame(Buffer.from(frame)));
      }),
      { numRuns: 3000 },
    );
    // The cases the property is for: a frame that is whole only with bytes beyond either end is not matched.
    const good = Buffer.from(`data: ${chunk('some text')}\n\n`);
    expect(t.matchFrame(good, 0, good.length - 1)).toBe(-1);
    expect(t.matchFrame(good, 1, good.length)).toBe(-1);
    expect(t.matchFrame(Buffer.concat([Buffer.from('xx'), good, Buffer.from('yy')]), 2, 2 + good.length)).toBe(1);
  });

  test('a template with a character past ASCII is left to the text path, which still matches it', () => {
    const t = new DeltaTemplates();
    const odd = (text: string) => chunk(text).replace('"model":"m"', '"model":"mé"');
    t.learn(odd('seed'), MARK, 'seed');
    expect(t.size).toBe(1);
    expect(t.match(odd('x'))).toBe(1);
    expect(t.matchFrame(Buffer.from(`data: ${odd('x')}\n\n`))).toBe(-1);
  });

  test('property: any body bytes (UTF-8 or not): a byte match is what the decoded text would give', () => {
    const unit = fc.oneof(
      fc.constantFrom(...['a', '"', '\\', 'u', '0', 'n', '\n', '\r', 'é', '}', '\\"', '\\u00e9', '\\x'].map((x) => [...Buffer.from(x)])),
      fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 3 }),
    );
    const t = learned();
    fc.assert(
      fc.property(fc.array(unit, { maxLength: 12 }), (parts) => {
        const body = Buffer.from(parts.flat());
        const frame = Buffer.concat([Buffer.from(`data: ${pre}`), body, Buffer.from(`${suf}\n\n`)]);
        const m = t.matchFrame(frame);
        if (m === -1) return;
        // The text path: the decoded frame is exactly one `data: ` line and a blank line, and its data matches alike.
        const text = new StringDecoder('utf8').end(frame);
        expect(text.startsWith('data: ') && text.endsWith('\n\n')).toBe(true);
        const data = text.slice(6, -2);
        expect(/[\r\n]/.test(data)).toBe(false);
        expect(t.match(data)).toBe(m);
        expect(m).toBe((JSON.parse(data) as { choices: { delta: { content: string } }[] }).choices[0]!.delta.content.length > 0 ? 1 : 0);
      }),
      { numRuns: 3000 },
    );
  });
});

// A new stream's first text delta read in bytes from another stream's learned template (template-prior.ts): it
// must be taken only when parsing it would have said the same (a pure text delta, the same structure), and then
// give the answer and the template parsing would have given.
import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import { DeltaTemplates } from '../../src/protocol/fast-delta.js';
import { TemplatePrior, varyingMask } from '../../src/protocol/template-prior.js';

const MARK = '"delta":{"content":"';
const chunk = (text: string, id = 'chatcmpl-7f3a', created = 1745225423, fp = 'fp_01') =>
  `{"id":"${id}","object":"chat.completion.chunk","created":${created},"model":"deepseek-v4-flash","system_fingerprint":"${fp}","choices":[{"index":0,"delta":{"content":${JSON.stringify(text)}},"logprobs":null,"finish_reason":null}],"usage":null}`;
const frame = (data: string) => Buffer.from(`data: ${data}\n\n`);

/** A chunk without its varying values and with its text emptied: what every chunk of one shape has in common. */
function norm(o: Record<string, unknown>): string {
  const { id: _i, created: _c, system_fingerprint: _f, ...rest } = o;
  return JSON.stringify(rest).replace(/"content":"(?:[^"\\]|\\.)*"/, '"content":""');
}

/** Where a frame of `chunk`'s shape ends its prefix (after `data: `). */
const PREFIX_END = 'data: '.length + chunk('seed').indexOf(MARK) + MARK.length;

/** Copies of the frame `base` with one to four of its prefix bytes changed, each to a byte from `byte`. */
const editedFrames = (base: Buffer, byte: fc.Arbitrary<number>) =>
  fc.array(fc.tuple(fc.integer({ min: 0, max: PREFIX_END - 1 }), byte), { minLength: 1, maxLength: 4 }).map((edits) => {
    const b = Buffer.from(base);
    for (const [at, v] of edits) b[at] = v;
    return b;
  });

/** A prior taught by one stream that parsed `seed` (as OpenAiStream.message does). */
function taught(seed = chunk('seed')): TemplatePrior {
  const prior = new TemplatePrior();
  new DeltaTemplates(prior).learn(seed, MARK, 'seed');
  return prior;
}

describe('varyingMask', () => {
  test('marks the bodies and digits of the top-level id, created and system_fingerprint values, nothing else', () => {
    const p = chunk('x').slice(0, chunk('x').indexOf(MARK) + MARK.length);
    const m = varyingMask(p);
    const marked = [...p].filter((_, i) => m[i] !== 0).join('');
    expect(marked).toBe('chatcmpl-7f3a' + '1745225423' + 'fp_01');
    // A nested "id", a key named like a value, a value with an escape, a non-object: not marked.
    const nested = '{"choices":[{"id":"n1","delta":{"content":"';
    expect(varyingMask(nested).every((v) => v === 0)).toBe(true);
    const escaped = '{"id":"a\\"b","created":-1.5e3,"delta":{"content":"';
    const me = varyingMask(escaped);
    expect([...escaped].filter((_, i) => me[i] !== 0).join('')).toBe('1' + '5' + '3');
    expect(varyingMask('["id","x"]').every((v) => v === 0)).toBe(true);
    // Another top-level number keeps its digits.
    const numbers = '{"n":5,"created":7,"seq":"9","delta":{"content":"';
    const mn = varyingMask(numbers);
    expect([...numbers].filter((_, i) => mn[i] !== 0).join('')).toBe('7');
  });
});

describe('DeltaTemplates.adoptFrame', () => {
  test('another response of the same shape: its first delta is read in bytes, and the shared template then matches', () => {
    const prior = taught();
    const t = new DeltaTemplates(prior);
    expect(t.adoptFrame(frame(chunk('Hello', 'chatcmpl-9b21', 1745225999, 'fp_77')))).toBe(1);
    expect(t.size).toBe(1);
    expect(t.matchFrame(frame(chunk(' world', 'chatcmpl-9b21', 1745225999, 'fp_77')))).toBe(1);
    expect(t.match(chunk(' world', 'chatcmpl-9b21', 1745225999, 'fp_77'))).toBe(1);
    // The template is the thread's, not a copy: any valid values in those fields match it, in bytes and in text.
    expect(t.matchFrame(frame(chunk(' world')))).toBe(1);
    expect(t.match(chunk('', 'chatcmpl-0000', 1000000000, 'fp_xy'))).toBe(0);
    // Invalid ones do not: a quote or a byte past ASCII in a string value, a letter or a new leading zero in a number.
    for (const bad of [chunk('x', 'chatcmpl-9b2"'), chunk('x', 'chatcmpl-9b2\u00e9'.slice(0, 13)), chunk('x', 'chatcmpl-7f3a', 1745225423, 'fp_0\u0001'.slice(0, 5))]) {
      expect(t.matchFrame(frame(bad))).toBe(-1);
      expect(t.match(bad)).toBe(-1);
    }
    const numberBad = [chunk('x').replace('1745225423', '174522542x'), chunk('x').replace('1745225423', '0745225423')];
    for (const bad of numberBad) {
      expect(t.matchFrame(frame(bad))).toBe(-1);
      expect(t.match(bad)).toBe(-1);
    }
    expect(t.matchFrame(Buffer.from(`data: ${chunk('x', 'chatcmpl-9b2é')}\n\n`))).toBe(-1);
    expect(new DeltaTemplates(prior).adoptFrame(frame(chunk('', 'chatcmpl-0000', 1)))).toBe(-1); // another length
    expect(new DeltaTemplates(prior).adoptFrame(frame(chunk('', 'chatcmpl-0000')))).toBe(0);
  });

  test('only from a prior, and only while the stream has learned fewer than two templates', () => {
    expect(new DeltaTemplates(null).adoptFrame(frame(chunk('a')))).toBe(-1);
    expect(new DeltaTemplates(new TemplatePrior()).adoptFrame(frame(chunk('a')))).toBe(-1);
    const t = new DeltaTemplates(taught());
    t.learn(chunk('a', 'other-id-xyz'), MARK, 'a');
    t.learn(chunk('a', 'other-id-xy2'), MARK, 'a');
    expect(t.size).toBe(2);
    expect(t.adoptFrame(frame(chunk('a')))).toBe(-1);
  });

  test('a thinking stream (reasoning, then answer) adopts both of its shapes from the two kept', () => {
    const prior = new TemplatePrior();
    const reasoning = (text: string, id = 'chatcmpl-7f3a') => chunk(text, id).replace('"delta":{"content":', '"delta":{"reasoning_content":');
    const first = new DeltaTemplates(prior);
    first.learn(reasoning('r'), '"delta":{"reasoning_content":"', 'r');
    first.learn(chunk('a'), MARK, 'a');
    expect(prior.size).toBe(2);
    const next = new DeltaTemplates(prior);
    expect(next.adoptFrame(frame(reasoning('think', 'chatcmpl-9b21')))).toBe(1);
    expect(next.adoptFrame(frame(chunk('say', 'chatcmpl-9b21')))).toBe(1);
    expect(next.size).toBe(2);
    expect(next.matchFrame(frame(reasoning('more', 'chatcmpl-9b21')))).toBe(1);
    expect(next.matchFrame(frame(chunk('more', 'chatcmpl-9b21')))).toBe(1);
  });

  test('adoptsWhole: a whole chunk of no effect (the role chunk), but for the varying values', () => {
    const q = new TemplatePrior();
    const role = (id: string) => chunk('', id).replace('"delta":{"content":""}', '"delta":{"role":"assistant","content":""}');
    q.offer({ prefix: role('chatcmpl-7f3a'), suffix: '' });
    const whole = (data: string) => q.adoptsWhole(Buffer.from(data), 0, Buffer.byteLength(data));
    expect(whole(role('chatcmpl-9b21'))).toBe(true);
    expect(whole(role('chatcmpl-9b21').replace('"role":"assistant"', '"role":"assistanx"'))).toBe(false);
    expect(whole(role('chatcmpl-9b21') + ' ')).toBe(false);
    expect(whole(role('chatcmpl-9b2'))).toBe(false);
  });

  test('anything but those values differing, or a value made invalid, goes to the text path', () => {
    const prior = taught();
    const adopt = (data: string) => new DeltaTemplates(prior).adoptFrame(frame(data));
    const good = chunk('Hi', 'chatcmpl-9b21', 1745225999);
    expect(adopt(good)).toBe(1);
    for (const [from, to] of [
      ['"model":"deepseek-v4-flash"', '"model":"deepseek-v4-flasx"'], // another value, not a varying one
      ['"object":"chat.completion.chunk"', '"objecx":"chat.completion.chunk"'], // a key
      ['"id":"chatcmpl-9b21"', '"id":"chatcmpl-9b2""'.slice(0, -1)], // a quote ends the id early
      ['"id":"chatcmpl-9b21"', '"id":"chatcmpl-9b2\\"'], // a backslash
      ['"id":"chatcmpl-9b21"', '"id":"chatcmpl-9b2\u0001"'], // a control character
      ['"created":1745225999', '"created":0745225999'], // a new leading zero
      ['"created":1745225999', '"created":174522599x'], // not a digit
      ['"index":0', '"index":1'], // a number, not a varying one
      ['"finish_reason":null', '"finish_reason":nulx'],
    ] as const) {
      const bad = good.replace(from, to);
      expect(bad, `${from} -> ${to}`).not.toBe(good);
      expect(adopt(bad), `${from} -> ${to}`).toBe(-1);
    }
    // A text body that is no valid JSON string, a suffix that differs, framing that differs.
    expect(adopt(good.replace('"Hi"', '"H\ni"'))).toBe(-1);
    expect(adopt(good.replace('"usage":null', '"usage":nulx'))).toBe(-1);
    expect(new DeltaTemplates(prior).adoptFrame(Buffer.from(`data:${good}\n\n`))).toBe(-1);
    expect(new DeltaTemplates(prior).adoptFrame(Buffer.from(`data: ${good}\r\n\r\n`))).toBe(-1);
  });

  test('property: any bytes changed in the prefix: a frame adopted parses to the teacher chunk but for id, created, fingerprint and text', () => {
    const seed = chunk('seed');
    const prior = taught(seed);
    const base = Buffer.from(`data: ${chunk('some text')}\n\n`);
    const teacher = norm(JSON.parse(seed) as Record<string, unknown>);
    const byte = fc.oneof(fc.constantFrom(...Buffer.from('0123456789"\\ ,:{}[]-.eEnulxz\u007f')), fc.integer({ min: 0, max: 255 }));
    let adopted = 0;
    fc.assert(
      fc.property(editedFrames(base, byte), (b) => {
        const t = new DeltaTemplates(prior);
        const m = t.adoptFrame(b);
        if (m === -1) return;
        adopted++;
        const data = b.toString('latin1', 6, b.length - 2);
        const o = JSON.parse(data) as Record<string, unknown>;
        expect(norm(o)).toBe(teacher);
        expect(m).toBe(1);
        // Parsing the frame would have learned a template of the same shape, and that one takes it too.
        const p = new DeltaTemplates();
        p.learn(data, MARK, 'some text');
        expect(p.matchFrame(b)).toBe(1);
        expect(t.matchFrame(b)).toBe(1);
      }),
      { numRuns: 4000 },
    );
    // The property is not vacuous: edits inside the varying values are adopted.
    expect(adopted).toBeGreaterThan(50);
  });

  test('property: a stream holding the shared template answers alike in bytes and in text, and what it takes parses as the teacher', () => {
    const seed = chunk('seed');
    const prior = taught(seed);
    const t = new DeltaTemplates(prior);
    expect(t.adoptFrame(frame(chunk('first', 'chatcmpl-9b21')))).toBe(1);
    const base = Buffer.from(`data: ${chunk('more text', 'chatcmpl-9b21')}\n\n`);
    const teacher = norm(JSON.parse(seed) as Record<string, unknown>);
    const byte = fc.oneof(fc.constantFrom(...Buffer.from('0123456789"\\ ,:{}[]-.eEnulxz\u007f\u0001')), fc.integer({ min: 0, max: 127 }));
    let taken = 0;
    fc.assert(
      fc.property(editedFrames(base, byte), (b) => {
        const m = t.matchFrame(b);
        // ASCII edits: the text is the bytes, so the text path must answer the same.
        const text = b.toString('latin1');
        if (text.startsWith('data: ') && text.endsWith('\n\n') && !/[\r\n]/.test(text.slice(6, -2))) expect(t.match(text.slice(6, -2))).toBe(m);
        if (m === -1) return;
        taken++;
        expect(m).toBe(1);
        expect(norm(JSON.parse(text.slice(6, -2)) as Record<string, unknown>)).toBe(teacher);
      }),
      { numRuns: 4000 },
    );
    expect(taken).toBeGreaterThan(50);
  });
});

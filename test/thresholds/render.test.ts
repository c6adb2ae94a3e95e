import { describe, expect, it } from 'vitest';
import { renderJUnit, xmlEscape } from '../../src/report/junit.js';
import { renderMarkdownSummary } from '../../src/report/markdown.js';
import { renderJsonSummary, safeUrl } from '../../src/report/summary-json.js';
import { evaluateThresholds } from '../../src/measure/thresholds.js';
import { fixtureReport } from './fixture.js';

interface El {
  name: string;
  attrs: Record<string, string>;
  children: El[];
  text: string;
}

/**
 * A strict little XML reader (elements, attributes, text, the five predefined entities, numeric
 * references, the XML declaration). Throws on anything malformed: unclosed or mismatched tags,
 * unknown entities, raw `<` or `&`, duplicate attributes, characters XML 1.0 forbids.
 */
function parseXml(src: string): El {
  let i = 0;
  const fail = (m: string) => {
    throw new Error(`${m} at ${i}: ${JSON.stringify(src.slice(i, i + 30))}`);
  };
  if (/[^\x09\x0A\x0D\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u.test(src)) fail('forbidden character');
  const decode = (s: string) => {
    if (/<|&(?!(amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);)/.test(s)) fail('raw < or & in text');
    return s.replace(/&(amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);/g, (_m, e: string) =>
      e === 'amp' ? '&' : e === 'lt' ? '<' : e === 'gt' ? '>' : e === 'quot' ? '"' : e === 'apos' ? "'" : String.fromCodePoint(e[1] === 'x' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10)),
    );
  };
  const ws = () => {
    while (/\s/.test(src[i] ?? '')) i++;
  };
  if (src.startsWith('<?xml')) {
    const end = src.indexOf('?>');
    if (end < 0) fail('bad declaration');
    i = end + 2;
  }
  ws();
  const element = (): El => {
    if (src[i] !== '<') fail('expected <');
    i++;
    const name = /^[A-Za-z_][\w.-]*/.exec(src.slice(i))?.[0] ?? fail('bad name');
    i += name!.length;
    const el: El = { name: name!, attrs: {}, children: [], text: '' };
    for (;;) {
      ws();
      if (src.startsWith('/>', i)) {
        i += 2;
        return el;
      }
      if (src[i] === '>') {
        i++;
        break;
      }
      const an = /^[A-Za-z_][\w.-]*/.exec(src.slice(i))?.[0] ?? fail('bad attribute');
      i += an!.length;
      if (src[i] !== '=' || src[i + 1] !== '"') fail('expected ="');
      const end = src.indexOf('"', i + 2);
      if (end < 0) fail('unterminated attribute');
      if (an! in el.attrs) fail('duplicate attribute');
      el.attrs[an!] = decode(src.slice(i + 2, end));
      i = end + 1;
    }
    for (;;) {
      const lt = src.indexOf('<', i);
      if (lt < 0) fail(`unclosed <${el.name}>`);
      el.text += decode(src.slice(i, lt));
      i = lt;
      if (src.startsWith('</', i)) {
        const close = `</${el.name}>`;
        if (!src.startsWith(close, i)) fail(`mismatched close of <${el.name}>`);
        i += close.length;
        return el;
      }
      el.children.push(element());
    }
  };
  const root = element();
  ws();
  if (i !== src.length) fail('content after the root');
  return root;
}

function reportWithThresholds() {
  const r = fixtureReport();
  r.thresholds = evaluateThresholds(
    [
      { expression: 'cap(deepseek-v4-flash) >= 2000', abort_on_fail: false },
      { expression: 'rate_429(deepseek-v4-flash, inflight <= 200) < 1%', abort_on_fail: true },
      { expression: 'p99(ttft, deepseek-v4-flash) < 2.5s', abort_on_fail: false },
    ],
    r,
  );
  return r;
}

describe('renderJUnit', () => {
  it('is well-formed JUnit: one case per threshold with the actual value on failures, one per cap, one for the run', () => {
    const xml = renderJUnit(reportWithThresholds());
    const root = parseXml(xml);
    expect(root.name).toBe('testsuites');
    expect(root.attrs).toMatchObject({ tests: '6', failures: '2', errors: '0', time: '12.345' });
    const [th, caps, run] = root.children;
    expect(root.children.map((s) => s.name)).toEqual(['testsuite', 'testsuite', 'testsuite']);
    expect(th!.attrs).toMatchObject({ name: 'dsprobe.fixture.thresholds', tests: '3', failures: '2', timestamp: '2026-01-02T03:04:05' });
    expect(th!.children.map((c) => c.attrs.name)).toEqual([
      'cap(deepseek-v4-flash) >= 2000',
      'rate_429(deepseek-v4-flash, inflight <= 200) < 1%',
      'p99(ttft, deepseek-v4-flash) < 2.5s',
    ]);
    const fail0 = th!.children[0]!.children.find((c) => c.name === 'failure')!;
    expect(fail0.attrs.message).toBe('cap(deepseek-v4-flash) >= 2000 failed: actual 399');
    expect(th!.children[1]!.children.map((c) => c.name)).toEqual(['system-out']);
    expect(th!.children[2]!.children[0]!.attrs.message).toMatch(/failed: actual 3s/);
    expect(caps!.children.map((c) => c.attrs.name)).toEqual(['cap of deepseek-v4-flash', 'cap of deepseek-v4-pro']);
    expect(caps!.children[0]!.children[0]!.text).toMatch(/status: found\nestimate: 399/);
    expect(run!.children[0]!.attrs).toMatchObject({ name: 'run completed' });
    expect(run!.children[0]!.children).toEqual([]);
  });

  it('marks an unfinished run as an error and an unclear cap as skipped', () => {
    const r = reportWithThresholds();
    r.status = 'budget_exceeded';
    r.status_reason = 'spent $2.01 > budget $2';
    r.models[1]!.cap.status = 'unclear';
    r.models[1]!.cap.evidence = ['429s came and went'];
    const root = parseXml(renderJUnit(r));
    expect(root.attrs.errors).toBe('1');
    const run = root.children[2]!.children[0]!;
    expect(run.children[0]!.name).toBe('error');
    expect(run.children[0]!.attrs.message).toBe('run budget_exceeded: spent $2.01 > budget $2');
    const pro = root.children[1]!.children[1]!;
    expect(pro.children.map((c) => c.name)).toEqual(['skipped', 'system-out']);
    expect(root.children[1]!.attrs.skipped).toBe('1');
  });

  it('escapes hostile text and drops characters XML forbids', () => {
    const r = reportWithThresholds();
    r.name = 'a"b<c>&\'d';
    r.models[0]!.cap.evidence = ['server said: </system-out><evil a="1">\u0000\u001b]8;;x'];
    r.warnings = [']]> & <![CDATA['];
    const xml = renderJUnit(r);
    const root = parseXml(xml); // throws if malformed
    expect(root.attrs.name).toBe('dsprobe a"b<c>&\'d');
    expect(root.children[1]!.children[0]!.children[0]!.text).toContain('</system-out><evil a="1">]8;;x');
    expect(xmlEscape('\u0001ok\uFFFE')).toBe('ok');
  });
});

describe('renderMarkdownSummary', () => {
  it('shows the verdict, caps and thresholds as tables', () => {
    const md = renderMarkdownSummary(reportWithThresholds());
    expect(md.split('\n')[0]).toBe('## ❌ dsprobe: fixture: 2 of 3 threshold(s) failed');
    expect(md).toContain('| deepseek-v4-flash | **399** | found | 398 | 400 | – | 2,500 | -2101 | – |');
    expect(md).toContain('| deepseek-v4-pro | **–** | not_reached | 50 | – |');
    expect(md).toContain('| ❌ | `cap(deepseek-v4-flash) >= 2000` | 399 |  |');
    expect(md).toContain('| ✅ | `rate_429(deepseek-v4-flash, inflight <= 200) < 1%` | 0% |  |');
    expect(md).toMatch(/\*\*Cost:\*\* \$0\.01 at DeepSeek prices \(the mock bills nothing\), 600 requests \(556 admitted\), 1,500 tokens\./);
  });

  it('passes, and escapes pipes and HTML from untrusted text', () => {
    const r = fixtureReport();
    r.warnings = ['a | b <script>alert(1)</script>'];
    const md = renderMarkdownSummary(r);
    expect(md.split('\n')[0]).toBe('## ✅ dsprobe: fixture: completed');
    expect(md).toContain('- a \\| b &lt;script&gt;alert(1)&lt;/script&gt;');
    expect(md).not.toContain('<script>');
  });

  it('says when the run did not complete, and never prints URL credentials', () => {
    const r = fixtureReport();
    r.status = 'interrupted';
    r.status_reason = 'Ctrl-C';
    r.target = { url: 'https://user:secret@api.example.test/v1?key=abc', protocol: 'openai', mock: false, keys: 2 };
    const md = renderMarkdownSummary(r);
    expect(md.split('\n')[0]).toBe('## ⚠️ dsprobe: fixture: run interrupted: Ctrl-C');
    expect(md).toContain('`https://api.example.test/v1`');
    expect(md).not.toContain('secret');
    expect(md).not.toContain('key=abc');
  });
});

describe('renderJsonSummary', () => {
  it('summarises verdict, caps, thresholds and cost', () => {
    const s = renderJsonSummary(reportWithThresholds()) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    expect(s).toMatchObject({ schema: 'dsprobe.summary/v1', name: 'fixture', status: 'completed', passed: false, thresholds_failed: 2, thresholds_total: 3 });
    expect(s.models[0]).toMatchObject({ model: 'deepseek-v4-flash', cap: { status: 'found', estimate: 399, low: 398, high: 400 }, steps: 3 });
    expect(s.thresholds[0]).toEqual({ expression: 'cap(deepseek-v4-flash) >= 2000', passed: false, actual: 399, actual_text: '399' });
    expect(s.cost.usd).toBe(0.0123);
    expect(JSON.parse(JSON.stringify(s))).toEqual(s);
  });
  it('passed only when the run completed and every threshold passed', () => {
    const r = fixtureReport();
    expect((renderJsonSummary(r) as { passed: boolean }).passed).toBe(true);
    r.status = 'interrupted';
    expect((renderJsonSummary(r) as { passed: boolean }).passed).toBe(false);
  });
  it('safeUrl strips credentials and queries', () => {
    expect(safeUrl('https://u:p@h.test:8443/v1?api_key=x#f')).toBe('https://h.test:8443/v1');
    expect(safeUrl('mock')).toBe('mock');
  });
});

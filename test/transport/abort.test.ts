/**
 * AbortHandle: the light per-request abort the driver hands the prober, with AbortSignal's semantics.
 */
import { describe, expect, test } from 'vitest';
import { AbortHandle } from '../../src/transport/abort.js';

describe('AbortHandle', () => {
  test('abort calls each listener once, in order; a removed one is not called', () => {
    const h = new AbortHandle();
    const calls: string[] = [];
    const a = { handleEvent: () => calls.push('a') };
    const b = { handleEvent: () => calls.push('b') };
    const c = () => calls.push('c'); // a function listener, as AbortSignal takes
    h.addEventListener('abort', a);
    h.addEventListener('abort', b);
    h.addEventListener('abort', b); // added twice: called once, as with EventTarget
    h.addEventListener('abort', c);
    h.removeEventListener('abort', b);
    expect(h.aborted).toBe(false);
    expect(h.signal).toBe(h);
    h.abort();
    h.abort();
    expect(h.aborted).toBe(true);
    expect(calls).toEqual(['a', 'c']);
  });

  test('a listener added after the abort is not called (as with AbortSignal)', () => {
    const h = new AbortHandle();
    h.abort();
    let called = false;
    h.addEventListener('abort', { handleEvent: () => (called = true) });
    expect(called).toBe(false);
  });

  test('the first listener removed, later ones still fire', () => {
    const h = new AbortHandle();
    const calls: string[] = [];
    const a = { handleEvent: () => calls.push('a') };
    h.addEventListener('abort', a);
    h.removeEventListener('abort', a);
    h.addEventListener('abort', { handleEvent: () => calls.push('b') });
    h.abort();
    expect(calls).toEqual(['b']);
  });
});

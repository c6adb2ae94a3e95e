import { describe, expect, test } from 'vitest';
import { manualClock } from '../../src/time/clock.js';
import { DeadlineSweep } from '../../src/transport/deadlines.js';

const tick = () => new Promise((r) => setImmediate(r));

describe('DeadlineSweep', () => {
  test('fires each deadline once, in order, when the clock passes it; cancelled ones never fire', async () => {
    const clock = manualClock(0);
    const sweep = new DeadlineSweep(clock);
    const fired: string[] = [];
    sweep.add(300, () => fired.push('c'));
    sweep.add(100, () => fired.push('a'));
    const b = sweep.add(200, () => fired.push('b'));
    sweep.add(200, () => fired.push('b2'));
    b.cancel();
    b.cancel();
    expect(sweep.size).toBe(3);
    clock.advance(150);
    await tick();
    expect(fired).toEqual(['a']);
    clock.advance(100);
    await tick();
    expect(fired).toEqual(['a', 'b2']);
    clock.advance(1000);
    await tick();
    expect(fired).toEqual(['a', 'b2', 'c']);
    expect(sweep.size).toBe(0);
  });

  test('heap stays consistent under random inserts and cancels', async () => {
    const clock = manualClock(0);
    const sweep = new DeadlineSweep(clock);
    const fired: number[] = [];
    const live = new Map<number, { cancel(): void }>();
    let seed = 42;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
    for (let i = 0; i < 2000; i++) {
      const at = Math.floor(rnd() * 10_000) + 1;
      live.set(i, sweep.add(at, () => fired.push(at)));
      if (rnd() < 0.4) {
        const k = Math.floor(rnd() * i);
        live.get(k)?.cancel();
        live.delete(k);
      }
    }
    const expected = live.size;
    for (let t = 0; t < 10_010; t += 500) {
      clock.advance(500);
      await tick();
    }
    expect(fired.length).toBe(expected);
    // Fired in non-decreasing deadline order across sweeps.
    for (let i = 1; i < fired.length; i++) expect(fired[i]).toBeGreaterThanOrEqual(fired[i - 1] as number);
  });

  test('close drops everything without firing', async () => {
    const clock = manualClock(0);
    const sweep = new DeadlineSweep(clock);
    let n = 0;
    sweep.add(10, () => n++);
    sweep.close();
    sweep.add(5, () => n++);
    clock.advance(100);
    await tick();
    expect(n).toBe(0);
  });
});

/**
 * The host's CPU steal: time this machine's virtual CPUs had work but the hypervisor ran something else (another
 * guest of a shared or overcommitted host). Linux counts it in /proc/stat.
 *
 * Why dsprobe reads it: a stolen slice stalls every thread of the machine, dsprobe's included. A read due in it
 * waits, its timestamp is late, and the latency figures of the level grow by it, exactly as they grow by
 * dsprobe's own lag. Measured on the 2-core VM these benches run on (2026-12-03): 44.6 % of the CPU time stolen
 * during an engine-bench run, when the same run had shown its figures halved half an hour before. A level's
 * report says how much was stolen, so a slow level on a busy host is not read as the server's doing, nor as
 * dsprobe's alone.
 *
 * Elsewhere (macOS, Windows, a container without /proc) nothing is read and nothing is reported.
 */
import fs from 'node:fs';

/** Cumulative CPU time of every CPU, in the kernel's ticks: the part stolen, and all of it. */
export interface HostCpuTicks {
  steal: number;
  total: number;
}

/** Reads the counters now (null: not available here). */
export type HostCpuReader = () => HostCpuTicks | null;

/**
 * The counters from /proc/stat's text: its `cpu` line, `user nice system idle iowait irq softirq steal [guest
 * guest_nice]`. Guest time is already counted in user and nice, so it is left out of the total. Null when the
 * line is not there or too short to hold the steal column (kernels before 2.6.11).
 */
export function parseProcStat(text: string): HostCpuTicks | null {
  const line = /^cpu\s+([^\n]*)/m.exec(text)?.[1];
  if (line === undefined) return null;
  const f = line.trim().split(/\s+/).map(Number);
  if (f.length < 8 || f.slice(0, 8).some((v) => !Number.isFinite(v) || v < 0)) return null;
  let total = 0;
  for (let i = 0; i < 8; i++) total += f[i] as number;
  return { steal: f[7] as number, total };
}

/** A reader of `path` (default /proc/stat): null once it cannot be read, and from then on. */
export function procStatReader(path = '/proc/stat'): HostCpuReader {
  let gone = false;
  return () => {
    if (gone) return null;
    try {
      const t = parseProcStat(fs.readFileSync(path, 'latin1'));
      if (t === null) gone = true;
      return t;
    } catch {
      gone = true;
      return null;
    }
  };
}

/** The ticks stolen and elapsed since the previous call (the first call only starts the count). */
export function stealMeter(read: HostCpuReader): () => HostCpuTicks | null {
  let last = read();
  return () => {
    const now = read();
    if (now === null || last === null) {
      last = now;
      return null;
    }
    const d = { steal: Math.max(0, now.steal - last.steal), total: Math.max(0, now.total - last.total) };
    last = now;
    return d;
  };
}

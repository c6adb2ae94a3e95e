/**
 * Progress while a run goes: a cli-progress bar per model on a terminal; plain periodic lines otherwise
 * (CI logs). Polls the run's live view; never on the request hot path.
 */
import cliProgress from 'cli-progress';
import type { ModelRun, RunView } from '../run/runner.js';
import type { LoopMonitor } from '../run/loop.js';
import type { CliIO } from './io.js';

export interface Progress {
  stop(): void;
}

interface Line {
  model: string;
  level: number;
  inflight: number;
  admitted: number;
  rate429: string;
  ttft: string;
  elapsed: string;
  /** `running`, or once the model's search decided: `done: cap 2500 (draining 451)`. */
  state: string;
}

/** What a model is doing: still searching, or decided and draining what it still has in flight. */
export function stateOf(m: Pick<ModelRun, 'ended' | 'decided'>, inflight: number): string {
  if (m.ended === 'running' && !m.decided) return 'running';
  const draining = inflight > 0 ? ` (draining ${inflight})` : '';
  const d = m.decided;
  if (!d) return `done${draining}`;
  if (d.status === 'found') return `done: cap ${d.cap}${draining}`;
  if (d.status === 'not_reached') return `done: no cap up to the max${draining}`;
  return `done: unclear${draining}`;
}

function lines(view: RunView): Line[] {
  const elapsed = `${(view.elapsedUs() / 1e6).toFixed(0)}s`;
  return view.models().map((m) => {
    const cur = m.driver.current;
    const live = cur?.live();
    const rate = live && live.requests ? live.rate_limited / live.requests : 0;
    // Rate mode: the drivers stand idle; the current policy's step holds the live figures.
    const policy = cur?.endedBy.startsWith('policy ') ? cur : undefined;
    return {
      model: policy ? `${m.spec.name} [${policy.endedBy}]` : m.spec.name,
      level: policy ? policy.target : m.driver.currentTarget,
      inflight: policy ? policy.inflightNow : m.driver.inflight,
      admitted: policy ? policy.peakAdmittedCount : m.driver.admitted,
      rate429: `${(rate * 100).toFixed(1)}%`,
      ttft: live && live.ttft_p50_ms ? `${live.ttft_p50_ms.toFixed(0)}/${live.ttft_p99_ms.toFixed(0)}ms` : '-',
      elapsed,
      state: stateOf(m, m.driver.inflight),
    };
  });
}

/** Starts the display for `view`; `quiet` prints nothing until the summary. */
export function startProgress(view: RunView, io: CliIO, loop: LoopMonitor, opts: { quiet?: boolean; maxLevel: number }): Progress {
  if (opts.quiet) return { stop() {} };
  if (io.stderr.isTTY) {
    const multi = new cliProgress.MultiBar(
      {
        format:
          '{model} |{bar}| level {level} | in flight {inflight}/{level} (held {admitted}) | 429 {rate429} | ttft p50/p99 {ttft} | {elapsed} | {state}',
        hideCursor: true,
        clearOnComplete: false,
        stream: io.stderr as unknown as NodeJS.WritableStream,
        barsize: 20,
      },
      cliProgress.Presets.shades_classic,
    );
    const bars = new Map<string, cliProgress.SingleBar>();
    const tick = () => {
      for (const l of lines(view)) {
        let b = bars.get(l.model);
        if (!b) {
          b = multi.create(opts.maxLevel, 0, l);
          bars.set(l.model, b);
        }
        b.update(Math.min(opts.maxLevel, l.inflight), l);
      }
    };
    tick();
    const t = setInterval(tick, 250);
    return {
      stop() {
        // No last tick: the bars keep the final level rather than the drained, zeroed state.
        clearInterval(t);
        multi.stop();
      },
    };
  }
  const print = () => {
    const lag = loop.snapshot().delay_p99_ms;
    for (const l of lines(view)) {
      io.stderr.write(
        l.state === 'running'
          ? `[${l.elapsed}] ${l.model} level=${l.level} inflight=${l.inflight} held=${l.admitted} 429=${l.rate429} ttft_p50/p99=${l.ttft} loop_p99=${lag.toFixed(0)}ms\n`
          : `[${l.elapsed}] ${l.model} ${l.state} ttft_p50/p99=${l.ttft} loop_p99=${lag.toFixed(0)}ms\n`,
      );
    }
  };
  const t = setInterval(print, 5000);
  // A model whose search is done says so at once (CI logs), not at the next periodic line.
  const said = new Set<string>();
  const watch = setInterval(() => {
    for (const l of lines(view)) {
      if (l.state === 'running' || said.has(l.model)) continue;
      said.add(l.model);
      io.stderr.write(`[${l.elapsed}] ${l.model} ${l.state}\n`);
    }
  }, 250);
  return {
    stop() {
      clearInterval(t);
      clearInterval(watch);
    },
  };
}

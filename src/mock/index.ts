/**
 * The built-in DeepSeek mock, for programs: `startMock(config)` serves it in this process, or with
 * `{isolate: true}` in a child process so that a prober embedding it never shares its event loop.
 */
import { fork } from 'node:child_process';
import { existsSync } from 'node:fs';
import { request } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DsprobeError, EXIT, usageError, type Problem } from '../errors.js';
import type { Clock } from '../time/clock.js';
import type { MockConfig, MockConfigInput } from './config.js';
import type { MockEvent, MockEventListener } from './events.js';
import { parseMockConfig } from './parse-config.js';
import { createMockServer } from './server.js';
import type { MockState } from './state.js';

export { parseMockConfig } from './parse-config.js';
export { DEFAULT_CAPS, FAULT_KINDS, QUEUE_TIMEOUT_MESSAGE, defaultMockConfig } from './config.js';
export type { MockConfig, MockConfigInput, FaultConfig, FaultKind, ScheduleConfig, LatencyConfig, AccountConfig } from './config.js';
export type { MockEvent, MockEventType, MockEventListener } from './events.js';
export type { MockState, ModelState, AccountStateView, LoopDelay } from './state.js';
export type { BilledUsage } from './billing.js';
export { tooManyMessage } from './accounts.js';

/** A running mock, wherever it runs. */
export interface MockHandle {
  /** `http://127.0.0.1:PORT` (no trailing slash). OpenAI base URL: this; Anthropic: `${url}/anthropic`. */
  url: string;
  /** Whether it runs in a child process. */
  isolated: boolean;
  /** Ends every connection and (isolated) the child process. Safe to call twice. */
  close(): Promise<void>;
  /** The ground-truth snapshot; `resetLoop` restarts the event-loop delay histogram after reading. */
  state(opts?: { resetLoop?: boolean }): Promise<MockState>;
  /** Ground-truth events; the promise resolves once the subscription is live (no event after it is missed). */
  events: { subscribe(listener: MockEventListener): Promise<() => void> };
  /** Isolated only: `listener` is called if the child process exits without being asked to (it died). */
  onExit?(listener: (code: number | null) => void): void;
}

/** Options of startMock. */
export interface StartMockOptions {
  /** Run the mock in its own process (needs the compiled dist/mock/child.js). */
  isolate?: boolean;
  /** In-process only: the clock the mock reads (tests drive cap schedules with a manual clock). */
  clock?: Clock;
}

/**
 * Starts the mock. `config` is validated like a config file (snake_case keys, durations as `10s`); a bad
 * one throws a DsprobeError (exit 2) listing every problem. A taken port throws DSP_PORT_IN_USE (exit 2).
 */
export async function startMock(config?: MockConfigInput, opts: StartMockOptions = {}): Promise<MockHandle> {
  const { config: cfg, problems } = parseMockConfig(config ?? {});
  if (problems.length) throw usageError('invalid mock config', problems);
  return opts.isolate ? startIsolated(cfg) : startInProcess(cfg, opts.clock);
}

/** Starts a mock from an already-normalised config (what the child process and the CLI use). */
export async function startInProcess(cfg: MockConfig, clock?: Clock): Promise<MockHandle> {
  const server = await createMockServer(cfg, clock ? { clock } : {});
  return {
    url: server.url,
    isolated: false,
    close: () => server.close(),
    state: async (o) => server.state(o),
    events: { subscribe: async (l) => server.events.subscribe(l) },
  };
}

/** Messages between parent and child (JSON over the IPC channel). */
type ToChild = { type: 'start'; config: MockConfig } | { type: 'state'; id: number; resetLoop: boolean } | { type: 'close' };
type FromChild =
  | { type: 'ready'; url: string }
  | { type: 'error'; code: string; message: string; exitCode: number; problems: Problem[] }
  | { type: 'state'; id: number; state: MockState };

/** Path of the compiled child entry: next to this module in dist/, or the repo's dist/ when running from src/. */
export function childEntry(): string {
  const dir = dirname(fileURLToPath(import.meta.url));
  const candidates = [join(dir, 'child.js'), join(dir, '..', '..', 'dist', 'mock', 'child.js')];
  const found = candidates.find((p) => existsSync(p));
  if (!found) {
    throw new DsprobeError('DSP_MOCK_CHILD', `cannot find the mock's child entry (${candidates[1]}): build first with \`npx tsc -p tsconfig.json\``, EXIT.INTERNAL);
  }
  return found;
}

async function startIsolated(cfg: MockConfig): Promise<MockHandle> {
  const child = fork(childEntry(), [], { execArgv: [], serialization: 'json', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const send = (m: ToChild) => child.connected && child.send(m);
  const pending = new Map<number, (s: MockState) => void>();
  let nextId = 0;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    const onExit = (code: number | null) => reject(new DsprobeError('DSP_MOCK_CHILD', `the mock's child process exited (code ${code}) before it was ready`, EXIT.RUN_FAILED));
    child.once('exit', onExit);
    child.on('message', (m: FromChild) => {
      if (m.type === 'ready') {
        child.off('exit', onExit);
        resolve(m.url);
      } else if (m.type === 'error') {
        child.off('exit', onExit);
        reject(new DsprobeError(m.code, m.message, m.exitCode as DsprobeError['exitCode'], m.problems));
      } else if (m.type === 'state') {
        pending.get(m.id)?.(m.state);
        pending.delete(m.id);
      }
    });
    send({ type: 'start', config: cfg });
  });
  let closing: Promise<void> | undefined;
  const deathListeners: ((code: number | null) => void)[] = [];
  child.once('exit', (code) => {
    if (!closing) for (const l of deathListeners) l(code);
  });
  return {
    url,
    isolated: true,
    onExit(listener) {
      deathListeners.push(listener);
    },
    close() {
      closing ??= (async () => {
        send({ type: 'close' });
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      })();
      return closing;
    },
    state(o) {
      return new Promise<MockState>((resolve, reject) => {
        if (!child.connected) return reject(new DsprobeError('DSP_MOCK_CLOSED', 'the mock is closed', EXIT.RUN_FAILED));
        const id = ++nextId;
        pending.set(id, resolve);
        send({ type: 'state', id, resetLoop: o?.resetLoop === true });
      });
    },
    events: { subscribe: (l) => subscribeHttp(url, l) },
  };
}

/** Follows GET /_mock/events (NDJSON) of a mock at `url`; resolves with the unsubscribe once headers arrived. */
export function subscribeHttp(url: string, listener: MockEventListener): Promise<() => void> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}/_mock/events`, { agent: false }, (res) => {
      let buf = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buf += chunk;
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          if (line) listener(JSON.parse(line) as MockEvent);
        }
      });
      res.on('error', () => {});
      resolve(() => req.destroy());
    });
    req.on('error', reject);
    req.end();
  });
}

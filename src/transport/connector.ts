/**
 * Connections opened before they are needed, and connect time measured on its own.
 *
 * A pool opens a socket only when a request finds every connection busy, so the first requests of a
 * level of a thousand would each wait behind their own TCP (and TLS) handshake, all at once: a connect storm
 * that lands in TTFT. `warm(n)` opens sockets ahead of a level's clock (at most WARM_PARALLEL handshakes at a
 * time) into a stash; the pool's connector takes a stashed socket before it opens a new one. Every handshake's
 * duration is recorded on its own (`drainConnectTimes`), so connect time is a figure of its own, never hidden
 * in TTFT.
 */
import type { Socket } from 'node:net';
import { buildConnector } from 'undici';
import type { Clock } from '../time/clock.js';
import { markSharedRead, sharedRead } from './shared-read.js';

/** Handshakes in flight at once while warming (a burst of thousands is itself a storm). */
export const WARM_PARALLEL = 64;

/**
 * Handshakes started in one turn of the event loop while warming. On loopback a whole batch of handshakes
 * completes in one poll phase, and starting their successors there (a socket and its connect, ~100 µs each on this
 * 2-core machine) held the thread 20-40 ms while another model's level was being measured; over a network they
 * complete one by one and this never binds. Quickstart, 2026-12-03: 2 of 6 runs had a client-bound level without
 * this cap, 0 of 10 with it; the run's loop delay p99 11.7-16.8 ms against 6.9-11.9.
 */
export const WARM_STARTS_PER_TURN = 16;

type Options = Parameters<buildConnector.connector>[0];
type Callback = Parameters<buildConnector.connector>[1];

/** A connector (undici's, for TCP / TLS and the connect timeout) with a stash of pre-opened sockets. */
export class WarmConnector {
  private readonly inner: buildConnector.connector;
  private readonly clock: Clock;
  private readonly stash: Socket[] = [];
  private times: number[] = [];
  private readonly watchers = new Map<Socket, () => void>();
  /** The origin's connect options, learnt from the pool's first connect or given up front. */
  private readonly origin: Options;
  private closed = false;

  constructor(origin: URL, clock: Clock) {
    // Reads land in one buffer per thread (shared-read.ts): undici's connector hands its options on to
    // `net.connect` and `tls.connect`, which both take `onread`.
    this.inner = buildConnector({ onread: sharedRead() } as buildConnector.BuildOptions);
    this.clock = clock;
    this.origin = {
      hostname: origin.hostname.replace(/^\[|\]$/g, ''),
      host: origin.host,
      protocol: origin.protocol,
      port: origin.port || (origin.protocol === 'https:' ? '443' : '80'),
      servername: origin.hostname,
    };
  }

  /** The function undici calls for a new connection: a stashed socket if one is alive, else a timed handshake. */
  readonly connect = (opts: Options, cb: Callback): void => {
    while (this.stash.length > 0) {
      const s = this.stash.pop() as Socket;
      this.unwatch(s);
      // Asynchronously, as a real connect: a caller does not expect its callback inside the call.
      if (!s.destroyed && s.readyState === 'open') return queueMicrotask(() => cb(null, s));
    }
    this.open(opts, cb);
  };

  /** The same, for the origin this connector was made for (the pool's `Connect`). */
  readonly connectOrigin = (cb: (err: Error | null, socket: Socket | null) => void): void => {
    this.connect(this.origin, (err, sock) => cb(err, (sock as Socket | null) ?? null));
  };

  /** Sockets opened ahead and not yet taken. */
  get stashed(): number {
    return this.stash.length;
  }

  /**
   * Opens `n` sockets into the stash, WARM_PARALLEL at a time; resolves when all are open or failed (a failure
   * is not an error here: the request that needs the connection will meet it and record it).
   */
  warm(n: number): Promise<number> {
    if (n <= 0 || this.closed) return Promise.resolve(0);
    let started = 0;
    let opened = 0;
    let running = 0;
    // Handshakes started in this turn of the loop; the rest wait for its check phase.
    let turn = 0;
    let deferred = false;
    return new Promise((resolve) => {
      const later = (): void => {
        deferred = false;
        turn = 0;
        next();
      };
      const next = (): void => {
        while (running < WARM_PARALLEL && started < n && !this.closed) {
          if (turn >= WARM_STARTS_PER_TURN) {
            if (!deferred) {
              deferred = true;
              setImmediate(later);
            }
            break;
          }
          turn++;
          started++;
          running++;
          this.open(this.origin, (err, sock) => {
            running--;
            if (!err && sock) {
              opened++;
              if (this.closed) sock.destroy();
              else this.keep(sock as Socket);
            }
            next();
          });
        }
        if (running === 0 && (started >= n || this.closed)) resolve(opened);
      };
      next();
    });
  }

  /** Connect durations (µs) since the last call. */
  drainConnectTimes(): number[] {
    const t = this.times;
    this.times = [];
    return t;
  }

  close(): void {
    this.closed = true;
    for (const s of this.stash.splice(0)) s.destroy();
  }

  private keep(sock: Socket): void {
    this.stash.push(sock);
    // A stashed socket the server closes is dropped, not handed to a request.
    const drop = (): void => {
      this.unwatch(sock);
      const i = this.stash.indexOf(sock);
      if (i >= 0) this.stash.splice(i, 1);
    };
    this.watchers.set(sock, drop);
    sock.on('close', drop);
    sock.on('error', drop);
  }

  private unwatch(sock: Socket): void {
    const drop = this.watchers.get(sock);
    if (!drop) return;
    this.watchers.delete(sock);
    sock.off('close', drop);
    sock.off('error', drop);
  }

  private open(opts: Options, cb: Callback): void {
    const t0 = this.clock.nowUs();
    this.inner(opts, (err, sock) => {
      if (err) return cb(err, null);
      this.times.push(this.clock.nowUs() - t0);
      markSharedRead(sock as Socket);
      cb(null, sock as Socket);
    });
  }
}

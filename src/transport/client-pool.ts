/**
 * A connection pool for one origin with O(1) dispatch: undici Clients (one socket each, `pipelining: 1`) on a
 * free list.
 *
 * Why not undici's Pool: its dispatch scans every client for an idle one, twice when the chosen one becomes busy
 * (undici 7, Pool[kGetDispatcher]), so with thousands of streams open each new request walks thousands of
 * clients: measured at 35-45 µs of CPU per request at 2,500-5,000 streams (9 % of dsprobe's whole per-request
 * cost). Here an idle client is popped from a stack, and a client that finishes its request (undici's `drain`)
 * takes the oldest waiting request or goes back on the stack. Semantics otherwise as undici's Pool: at most
 * `connections` clients, requests over that wait in FIFO order, a client whose connect failed is dropped (a new
 * one is made for the next request), a client whose socket closed reconnects on its next request.
 */
import { Client, type Dispatcher } from 'undici';

type Handler = Dispatcher.DispatchHandler;
type Options = Dispatcher.DispatchOptions;

/** Client options plus the most connections to open. */
export interface ClientPoolOptions extends Client.Options {
  connections: number;
}

/** Clients of one origin on a free list (see the module comment). */
export class ClientPool {
  /** Parsed once: undici parses a string origin again for every client it makes. */
  private readonly origin: URL;
  private readonly opts: Client.Options;
  private readonly max: number;
  /** Idle clients, most recently freed last (LIFO: the warmest socket is reused first). */
  private readonly free: Client[] = [];
  private readonly all = new Set<Client>();
  /** Requests waiting for a client (all `max` busy): FIFO, `head` is the next. */
  private waiting: [Options, Handler][] = [];
  private head = 0;
  private connectedCount = 0;
  private destroyed = false;

  constructor(origin: string, opts: ClientPoolOptions) {
    const { connections, ...clientOpts } = opts;
    this.origin = new URL(origin);
    this.opts = clientOpts;
    this.max = Math.max(1, connections);
  }

  /** Connected sockets, and idle clients whose socket is connected (as undici's `pool.stats`). */
  get stats(): { connected: number; free: number } {
    let free = 0;
    for (const c of this.free) if (isConnected(c)) free++;
    return { connected: this.connectedCount, free };
  }

  /** Sends `opts` on an idle client, a new one (under the limit), or queues it for the next client to finish. */
  dispatch(opts: Options, handler: Handler): void {
    if (this.destroyed) {
      handler.onError?.(new Error('the connection pool was closed'));
      return;
    }
    const c = this.free.pop() ?? (this.all.size < this.max ? this.add() : undefined);
    if (c) c.dispatch(opts, handler);
    else this.waiting.push([opts, handler]);
  }

  /** Destroys every client; requests still waiting for a client end with an error. */
  async destroy(): Promise<void> {
    this.destroyed = true;
    const err = new Error('the connection pool was closed');
    for (let i = this.head; i < this.waiting.length; i++) (this.waiting[i] as [Options, Handler])[1].onError?.(err);
    this.waiting = [];
    this.head = 0;
    this.free.length = 0;
    const all = [...this.all];
    this.all.clear();
    await Promise.all(all.map((c) => c.destroy().catch(() => undefined)));
  }

  private add(): Client {
    const c = new Client(this.origin, this.opts);
    this.all.add(c);
    // Once per client, not per request: undici emits `drain` when the client can take its next request.
    c.on('drain', () => this.onDrain(c));
    c.on('connect', () => this.connectedCount++);
    c.on('disconnect', () => this.connectedCount--);
    // As undici's Pool (issue 3895): a client whose connect failed is not reused.
    c.on('connectionError', () => this.all.delete(c));
    return c;
  }

  private onDrain(c: Client): void {
    if (this.destroyed || !this.all.has(c)) return;
    if (this.head < this.waiting.length) {
      const [opts, handler] = this.waiting[this.head] as [Options, Handler];
      this.waiting[this.head++] = undefined as unknown as [Options, Handler];
      if (this.head === this.waiting.length) {
        this.waiting = [];
        this.head = 0;
      }
      c.dispatch(opts, handler);
      return;
    }
    this.free.push(c);
  }
}

/** undici's Client has no public `connected` flag; its stats do. */
function isConnected(c: Client): boolean {
  return (c.stats as { connected?: boolean }).connected === true;
}

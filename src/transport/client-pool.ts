/**
 * A connection pool for one origin with O(1) dispatch: dsprobe's own HTTP/1.1 connections (h1.ts, one request
 * at a time each) on a free list.
 *
 * Why not undici's Pool: its dispatch scans every client for an idle one, twice when the chosen one becomes busy
 * (undici 7, Pool[kGetDispatcher]), so with thousands of streams open each new request walks thousands of
 * clients: measured at 35-45 µs of CPU per request at 2,500-5,000 streams. Here an idle connection is popped
 * from a stack, and a connection that finishes its request takes the oldest waiting request or goes back on the
 * stack. At most `connections` connections; requests over that wait in FIFO order; a connection whose connect
 * failed, or whose socket closed, leaves the pool (the next request opens a new one).
 */
import net from 'node:net';
import tls from 'node:tls';
import { markSharedRead, sharedRead } from './shared-read.js';
import { H1Connection, H1Error, H1_CODES, type Connect, type H1Handler, type H1Owner, type H1Request } from './h1.js';

/** The pool's limits, and how to open a socket (default: a plain TCP / TLS connect to the origin). */
export interface ClientPoolOptions {
  connections: number;
  /** Largest response header block, bytes (default 64 KiB). */
  maxHeaderSize?: number;
  connect?: Connect;
}

/** Connections of one origin on a free list (see the module comment). */
export class ClientPool implements H1Owner {
  private readonly host: string;
  private readonly connectFn: Connect;
  private readonly maxHeader: number;
  private readonly max: number;
  /** Idle connections, most recently freed last (LIFO: the warmest socket is reused first). */
  private readonly free: H1Connection[] = [];
  private readonly all = new Set<H1Connection>();
  /** Requests waiting for a connection (all `max` busy): FIFO, `head` is the next. */
  private waiting: [H1Request, H1Handler][] = [];
  private head = 0;
  private connectedCount = 0;
  private destroyed = false;

  constructor(origin: string, opts: ClientPoolOptions) {
    const u = new URL(origin);
    this.host = u.host;
    this.connectFn = opts.connect ?? plainConnect(u);
    this.maxHeader = opts.maxHeaderSize ?? 64 * 1024;
    this.max = Math.max(1, opts.connections);
  }

  /** Connected sockets, and idle connections whose socket is connected. */
  get stats(): { connected: number; free: number } {
    let free = 0;
    for (const c of this.free) if (c.isConnected) free++;
    return { connected: this.connectedCount, free };
  }

  /** Sends `req` on an idle connection, a new one (under the limit), or queues it for the next to finish. */
  dispatch(req: H1Request, handler: H1Handler): void {
    if (this.destroyed) {
      handler.onError(new H1Error(H1_CODES.closed, 'the connection pool was closed'));
      return;
    }
    let c = this.free.pop();
    // A free connection whose socket closed meanwhile has left `all`: skip it.
    while (c && (c.isDead || !this.all.has(c))) c = this.free.pop();
    if (!c && this.all.size < this.max) {
      c = new H1Connection(this, this.connectFn, this.host, this.maxHeader);
      this.all.add(c);
    }
    if (c) c.dispatch(req, handler);
    else this.waiting.push([req, handler]);
  }

  /** Closes every connection; requests still waiting for one end with an error. */
  async destroy(): Promise<void> {
    this.destroyed = true;
    const err = new H1Error(H1_CODES.closed, 'the connection pool was closed');
    const waiting = this.waiting;
    const head = this.head;
    this.waiting = [];
    this.head = 0;
    this.free.length = 0;
    for (let i = head; i < waiting.length; i++) (waiting[i] as [H1Request, H1Handler])[1].onError(err);
    const all = [...this.all];
    this.all.clear();
    for (const c of all) c.destroy(err);
  }

  // ---- H1Owner ------------------------------------------------------------------------------------------

  idle(c: H1Connection): void {
    if (this.destroyed || !this.all.has(c)) return;
    const next = this.takeWaiting();
    if (next) c.dispatch(next[0], next[1]);
    else this.free.push(c);
  }

  connected(_c: H1Connection, up: boolean): void {
    this.connectedCount += up ? 1 : -1;
  }

  gone(c: H1Connection): void {
    if (!this.all.delete(c)) return;
    // A slot opened: a waiting request gets a new connection.
    const next = this.destroyed ? undefined : this.takeWaiting();
    if (next) queueMicrotask(() => this.dispatch(next[0], next[1]));
  }

  /** The oldest request waiting for a connection, taken off the queue. */
  private takeWaiting(): [H1Request, H1Handler] | undefined {
    if (this.head >= this.waiting.length) return undefined;
    const next = this.waiting[this.head] as [H1Request, H1Handler];
    this.waiting[this.head++] = undefined as unknown as [H1Request, H1Handler];
    if (this.head === this.waiting.length) {
      this.waiting = [];
      this.head = 0;
    }
    return next;
  }
}

/** A plain TCP (or TLS) connect to `origin`, for a pool without a connector of its own. */
function plainConnect(origin: URL): Connect {
  const host = origin.hostname.replace(/^\[|\]$/g, '');
  const tlsOn = origin.protocol === 'https:';
  const port = Number(origin.port || (tlsOn ? 443 : 80));
  return (cb) => {
    const onread = sharedRead();
    const s = tlsOn ? tls.connect({ host, port, servername: net.isIP(host) ? undefined : host, onread } as tls.ConnectionOptions) : net.connect({ host, port, onread });
    const ok = (): void => {
      s.off('error', bad);
      s.setNoDelay(true);
      markSharedRead(s);
      cb(null, s);
    };
    const bad = (err: Error): void => {
      s.off(tlsOn ? 'secureConnect' : 'connect', ok);
      s.destroy();
      cb(err, null);
    };
    s.once(tlsOn ? 'secureConnect' : 'connect', ok);
    s.once('error', bad);
  };
}

/**
 * `--metrics HOST:PORT`: serves a LiveMetrics registry at GET /metrics (Prometheus text exposition) for `run`
 * and `watch`. Port 0 picks a free port; the address actually bound is printed on stderr.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { usageError } from '../errors.js';
import type { LiveMetrics } from '../report/metrics.js';

/** A running metrics endpoint. */
export interface MetricsServer {
  /** `http://host:port/metrics`. */
  url: string;
  close(): Promise<void>;
}

/** `HOST:PORT`, `:PORT` or `[::1]:PORT` -> host and port; a usage error (exit 2) otherwise. */
export function parseListen(text: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(text.trim());
  const port = m ? Number(m[3]) : NaN;
  if (!m || !(port >= 0 && port <= 65535)) {
    throw usageError(`--metrics: expected HOST:PORT (got ${JSON.stringify(text)})`, [
      { path: '--metrics', message: 'expected HOST:PORT, e.g. 127.0.0.1:9464 (port 0 picks a free one)', hint: 'Prometheus scrapes http://HOST:PORT/metrics' },
    ]);
  }
  return { host: m[1] ?? (m[2] || '127.0.0.1'), port };
}

/** Starts serving `metrics`; a port in use is a usage error (exit 2). */
export async function startMetricsServer(listen: string, metrics: LiveMetrics): Promise<MetricsServer> {
  const { host, port } = parseListen(listen);
  const server = http.createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('dsprobe serves only /metrics\n');
      return;
    }
    metrics.render().then(
      (text) => res.writeHead(200, { 'content-type': metrics.contentType }).end(text),
      (err: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`metrics failed: ${String(err)}\n`),
    );
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(usageError(`--metrics: cannot listen on ${listen} (${err.code ?? err.message})`, [{ path: '--metrics', message: 'the address cannot be bound', hint: 'pick another port, or port 0' }])),
    );
    server.listen(port, host, () => resolve());
  });
  const a = server.address() as AddressInfo;
  const shown = a.family === 'IPv6' ? `[${a.address}]` : a.address;
  return {
    url: `http://${shown}:${a.port}/metrics`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}

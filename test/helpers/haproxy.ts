/**
 * A real, unrelated queue: Debian's haproxy with `maxconn` on its one server and `timeout queue`, in front of an
 * upstream. Requests beyond maxconn wait in haproxy's queue without any answer and get 503 when the queue timeout
 * runs out: no 429 ever. Installed by .ci/run (haproxy).
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { tmpDir } from './cli.js';
import { freePort, startDaemon, type Limiter } from './nginx.js';

export const HAPROXY = ['/usr/sbin/haproxy', '/usr/bin/haproxy'].find((p) => fs.existsSync(p)) ?? null;

/** Starts haproxy on 127.0.0.1 with `maxconn` concurrent requests to `upstream` and a queue timeout of `queueMs`. */
export async function startHaproxyQueue(upstream: string, maxconn: number, queueMs: number): Promise<Limiter> {
  if (!HAPROXY) throw new Error('haproxy is not installed (apt-get install haproxy)');
  const dir = tmpDir('dsprobe-haproxy-');
  const port = await freePort();
  const up = new URL(upstream);
  const conf = `
global
  # Below the usual hard limit of open files (haproxy needs about twice maxconn).
  maxconn 4000
defaults
  mode http
  timeout connect 5s
  timeout client 120s
  timeout server 120s
  timeout queue ${queueMs}ms
frontend fe
  bind 127.0.0.1:${port}
  default_backend be
backend be
  server up ${up.hostname}:${up.port} maxconn ${maxconn}
`;
  const file = path.join(dir, 'haproxy.cfg');
  fs.writeFileSync(file, conf);
  const check = spawnSync(HAPROXY, ['-c', '-f', file], { encoding: 'utf8' });
  if (check.status !== 0) throw new Error(`haproxy config check failed: ${check.stderr}${check.stdout}`);
  return startDaemon(HAPROXY, ['-db', '-f', file], port, 'SIGTERM');
}

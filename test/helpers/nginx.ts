/**
 * A real, unrelated concurrency limiter: Debian's nginx with `limit_conn` (status 429) in front of an upstream.
 * dsprobe must find its limit as it would find DeepSeek's cap. Installed by .ci/run (nginx-light).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { tmpDir } from './cli.js';

export const NGINX = ['/usr/sbin/nginx', '/usr/bin/nginx'].find((p) => fs.existsSync(p)) ?? null;

/** A free loopback port (bound, then released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

export interface Limiter {
  url: string;
  stop(): Promise<void>;
}

/** Starts nginx on 127.0.0.1 allowing `limit` concurrent requests to `upstream` (http://127.0.0.1:PORT). */
export async function startNginxLimiter(upstream: string, limit: number): Promise<Limiter> {
  if (!NGINX) throw new Error('nginx is not installed (apt-get install nginx-light)');
  const dir = tmpDir('dsprobe-nginx-');
  const port = await freePort();
  const up = new URL(upstream);
  for (const d of ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) fs.mkdirSync(path.join(dir, d));
  const conf = `
user root;
worker_processes 1;
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 16384; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  limit_conn_zone $server_name zone=perserver:1m;
  upstream backend { server ${up.hostname}:${up.port}; keepalive 256; }
  server {
    listen 127.0.0.1:${port};
    server_name limiter;
    limit_conn perserver ${limit};
    limit_conn_status 429;
    location / {
      proxy_pass http://backend;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffering off;
      proxy_read_timeout 600s;
    }
  }
}
`;
  fs.writeFileSync(path.join(dir, 'nginx.conf'), conf);
  const test = spawnSync(NGINX, ['-t', '-p', dir, '-c', path.join(dir, 'nginx.conf')], { encoding: 'utf8' });
  if (test.status !== 0) throw new Error(`nginx config test failed: ${test.stderr}`);
  return startDaemon(NGINX, ['-p', dir, '-c', path.join(dir, 'nginx.conf')], port, 'SIGQUIT');
}

/**
 * Starts a server binary in the foreground, waits until it accepts connections on `port` (at most 5 s), and
 * returns it as a Limiter whose stop() sends `stopSignal` and waits for the exit.
 */
export async function startDaemon(bin: string, args: string[], port: number, stopSignal: NodeJS.Signals): Promise<Limiter> {
  const child: ChildProcess = spawn(bin, args, { stdio: 'ignore' });
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (ok) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url: `http://127.0.0.1:${port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill(stopSignal);
      }),
  };
}

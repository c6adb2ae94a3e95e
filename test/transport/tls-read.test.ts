// TLS load sockets read into the thread's shared buffer as plain TCP ones do (`tls.connect` takes `onread` and hands
// it the decrypted bytes): checked in a process of its own, which trusts the test certificate from its start.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { expect, test } from 'vitest';
import { ROOT } from '../helpers/cli.js';

test('a TLS socket from the connector reads through the shared buffer, and a stream over it is read whole', () => {
  const out = execFileSync(process.execPath, [path.join(ROOT, 'test', 'fixtures', 'tls-read.mjs')], {
    env: { ...process.env, NODE_EXTRA_CA_CERTS: path.join(ROOT, 'test', 'fixtures', 'tls', 'cert.pem') },
    encoding: 'utf8',
  });
  expect(JSON.parse(out.trim().split('\n').pop() as string)).toEqual({ shared: true, outcome: 'ok', token_events: 2, status: 200 });
});

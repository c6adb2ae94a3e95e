/**
 * Entry point of an isolated mock (startMock(config, {isolate: true})): a child process that serves the
 * mock on its own event loop and talks to its parent over the IPC channel. It exits when told to close or
 * when the parent goes away. This file, like cli/, may touch `process`: it is the mock's own entry point.
 */
import { DsprobeError } from '../errors.js';
import type { MockConfig } from './config.js';
import { createMockServer, type MockServer } from './server.js';

let server: MockServer | undefined;
let closing = false;

function send(m: unknown): void {
  if (!process.connected) return;
  try {
    process.send!(m, undefined, {}, (err) => {
      if (err) void shutdown();
    });
  } catch {
    void shutdown();
  }
}

async function shutdown(): Promise<void> {
  if (closing) return;
  closing = true;
  // The parent may be gone already (SIGKILL): the channel is then closed, and disconnecting again would throw
  // ERR_IPC_DISCONNECTED. Leave quietly, whatever the server's close does.
  await server?.close().catch(() => undefined);
  if (process.connected) process.disconnect();
  process.exit(0);
}

// A write on a channel that closed under us: not worth a stack trace, the parent is gone.
process.on('error', () => void shutdown());

process.on('message', (m: { type: string; config?: MockConfig; id?: number; resetLoop?: boolean }) => {
  if (m.type === 'start' && m.config) {
    createMockServer(m.config).then(
      (s) => {
        server = s;
        send({ type: 'ready', url: s.url });
      },
      (err: unknown) => {
        const e = err instanceof DsprobeError ? err : undefined;
        send({
          type: 'error',
          code: e?.code ?? 'DSP_MOCK_START',
          message: e?.message ?? String((err as Error)?.message ?? err),
          exitCode: e?.exitCode ?? 1,
          problems: e?.problems ?? [],
        });
        void shutdown();
      },
    );
  } else if (m.type === 'state' && server) {
    send({ type: 'state', id: m.id, state: server.state({ resetLoop: m.resetLoop === true }) });
  } else if (m.type === 'close') {
    void shutdown();
  }
});

process.on('disconnect', () => void shutdown());

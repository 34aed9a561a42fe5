/**
 * A TCP proxy on 127.0.0.1 in front of another address (e.g. the test PostgreSQL), which a test
 * can cut (every open connection reset, new ones closed at once) and restore: a database that
 * goes away without stopping the shared server.
 */
import { createConnection, createServer, type Socket } from 'node:net';

/** A running proxy. */
export interface TcpProxy {
  /** The port it listens on (127.0.0.1). */
  port: number;
  /** Connections it accepted so far. */
  readonly accepted: number;
  /** Resets every open connection and closes new ones until {@link TcpProxy.restore}. */
  cut(): void;
  /**
   * A black hole: open connections stop carrying bytes and new ones are accepted but never
   * answered, as when a network path silently drops packets; no reset is sent.
   */
  freeze(): void;
  /** Forwards new connections again (connections held by `freeze` are reset). */
  restore(): void;
  close(): Promise<void>;
}

/** Starts a proxy to `target` on a free port of 127.0.0.1. */
export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const open = new Set<Socket>();
  let down = false;
  let frozen = false;
  const held = new Set<Socket>();
  let accepted = 0;
  const track = (socket: Socket) => {
    open.add(socket);
    socket.on('close', () => open.delete(socket));
    socket.on('error', () => undefined);
  };
  const server = createServer((client) => {
    track(client);
    if (frozen) {
      held.add(client);
      return;
    }
    if (down) {
      client.resetAndDestroy();
      return;
    }
    accepted += 1;
    const upstream = createConnection(target);
    track(upstream);
    client.pipe(upstream);
    upstream.pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    port,
    get accepted() {
      return accepted;
    },
    cut() {
      down = true;
      for (const socket of open) socket.resetAndDestroy();
    },
    freeze() {
      frozen = true;
      for (const socket of open) {
        socket.unpipe();
        socket.pause();
        held.add(socket);
      }
    },
    restore() {
      down = false;
      frozen = false;
      for (const socket of held) socket.resetAndDestroy();
      held.clear();
    },
    close() {
      for (const socket of open) socket.destroy();
      return new Promise((resolve) =>
        server.close(() => {
          resolve();
        }),
      );
    },
  };
}

/**
 * Raw client sockets for connection tests: held open, trickled a byte at a time, and watched
 * for the server closing them.
 */
import { connect, type Socket } from 'node:net';

/** A client socket and what happened to it. */
export interface Held {
  socket: Socket;
  data: string;
  closed: Promise<number>;
  isClosed: () => boolean;
}

/** Opens a connection and resolves once it is established; `closed` resolves at close (ms since open began). */
export function hold(port: number): Promise<Held> {
  const started = performance.now();
  const socket = connect(port, '127.0.0.1');
  let closed = false;
  const held: Held = {
    socket,
    data: '',
    isClosed: () => closed,
    closed: new Promise((resolve) => {
      socket.on('close', () => {
        closed = true;
        resolve(performance.now() - started);
      });
    }),
  };
  socket.on('data', (d: Buffer) => {
    held.data += d.toString();
  });
  socket.on('error', () => undefined);
  return new Promise((resolve, reject) => {
    socket.once('connect', () => {
      resolve(held);
    });
    socket.once('error', reject);
  });
}

export function within<T>(promise: Promise<T>, ms: number): Promise<T | 'timed out'> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'timed out'>((resolve) => {
    timer = setTimeout(() => {
      resolve('timed out');
    }, ms);
  });
  return Promise.race([promise, deadline]).finally(() => {
    clearTimeout(timer);
  });
}

/** Writes `text` one byte every `everyMs` until the socket closes. */
export function trickle(held: Held, text: string, everyMs: number): void {
  let i = 0;
  const timer = setInterval(() => {
    if (held.isClosed() || held.socket.destroyed) {
      clearInterval(timer);
      return;
    }
    held.socket.write(text[i % text.length] ?? 'a');
    i++;
  }, everyMs);
  void held.closed.then(() => {
    clearInterval(timer);
  });
}

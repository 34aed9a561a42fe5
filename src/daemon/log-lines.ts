/**
 * The daemon's log destination: JSON lines gathered in memory and written to a file descriptor in
 * few writes instead of one write per line (a write per request line cost the device path about
 * a tenth of its CPU). Every write holds whole lines only and, unless one line alone is longer, at
 * most {@link PIPE_ATOMIC_BYTES}, so lines of several workers sharing one pipe are never split.
 * Lines are written within `flushMs`, at once when the buffer is full, and synchronously at exit;
 * a process killed with SIGKILL loses at most the last `flushMs` of lines.
 */
import { writeSync } from 'node:fs';
import type { RequestLine } from '../http/node.js';

/** Largest write a pipe keeps whole among concurrent writers (POSIX PIPE_BUF on Linux). */
export const PIPE_ATOMIC_BYTES = 4096;

/** Options of {@link createLineBuffer}. */
export interface LineBufferOptions {
  /** Where lines go; default 1 (stdout). */
  fd?: number;
  /** Most milliseconds a line waits in memory; default 100. 0 writes every line at once. */
  flushMs?: number;
  /** Largest write of several lines; default {@link PIPE_ATOMIC_BYTES}. */
  maxBytes?: number;
  /** Writes `text` to `fd` (tests count writes); default a blocking `fs.writeSync` of it all. */
  writeAll?: (fd: number, text: string) => void;
}

/** A pino destination that gathers lines (see the module comment). */
export interface LineBuffer {
  /** Takes one line (pino calls this with each JSON line, newline included). */
  write(line: string): void;
  /** Writes what is gathered now, synchronously. */
  flushSync(): void;
  /** The same, for pino's `logger.flush(cb)`; calls `cb` after. */
  flush(cb?: (err?: Error) => void): void;
  /** Writes what is gathered and stops the timer and the exit hook; later lines go straight out. */
  end(): void;
}

/** Writes all of `text`, retrying short writes and EAGAIN (a non-blocking stdout pipe). */
function writeFully(fd: number, text: string): void {
  let data = Buffer.from(text);
  while (data.length > 0) {
    try {
      const n = writeSync(fd, data);
      data = data.subarray(n);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
    }
  }
}

/**
 * Creates a {@link LineBuffer} writing to `options.fd`. A failed write (a closed stdout) drops
 * the lines it held rather than throwing into the request that logged.
 */
export function createLineBuffer(options: LineBufferOptions = {}): LineBuffer {
  const fd = options.fd ?? 1;
  const flushMs = Math.max(0, options.flushMs ?? 100);
  const maxBytes = Math.max(1, options.maxBytes ?? PIPE_ATOMIC_BYTES);
  const writeAll = options.writeAll ?? writeFully;
  let pending = '';
  let pendingBytes = 0;
  let timer: NodeJS.Timeout | undefined;
  let ended = false;
  const out = (text: string): void => {
    try {
      writeAll(fd, text);
    } catch {
      // stdout gone (a closed pipe): nowhere left to say so
    }
  };
  const flushSync = (): void => {
    if (timer !== undefined) {
      clearTimeout(timer);
      timer = undefined;
    }
    if (pending === '') return;
    const text = pending;
    pending = '';
    pendingBytes = 0;
    out(text);
  };
  const onExit = (): void => {
    flushSync();
  };
  process.on('exit', onExit);
  return {
    write(line) {
      if (ended || flushMs === 0) {
        out(line);
        return;
      }
      const bytes = Buffer.byteLength(line);
      if (pendingBytes + bytes > maxBytes) flushSync();
      if (bytes >= maxBytes) {
        out(line); // alone, as a synchronous stream would have written it
        return;
      }
      pending += line;
      pendingBytes += bytes;
      timer ??= setTimeout(flushSync, flushMs).unref();
    },
    flushSync,
    flush(cb) {
      flushSync();
      cb?.();
    },
    end() {
      flushSync();
      ended = true;
      process.off('exit', onExit);
    },
  };
}

/**
 * The edge's request lines as the daemon's pino logger writes them (`level` 30, `time`, the
 * `base` fields, the line's fields, `msg: "request"`), built as one string per request with no
 * logger call; `undefined` when `info` is not enabled, so the caller's logger decides.
 */
export function requestLineWriter(
  destination: { write(line: string): void },
  base: Readonly<Record<string, string | number>>,
  infoEnabled: boolean,
): ((line: RequestLine) => void) | undefined {
  if (!infoEnabled) return undefined;
  const fixed = JSON.stringify(base).slice(1, -1);
  const prefix = fixed === '' ? ',' : `,${fixed},`;
  return (l) => {
    destination.write(
      `{"level":30,"time":${Date.now()}${prefix}"reqId":${JSON.stringify(l.reqId)},"method":${JSON.stringify(l.method)},"route":${JSON.stringify(l.route)},"status":${l.status},"ms":${l.ms},"client":${JSON.stringify(l.client)},"msg":"request"}\n`,
    );
  };
}

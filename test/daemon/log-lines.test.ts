/**
 * The daemon's log destination (issue 20): lines gathered and written a few at a time, each write
 * holding whole lines and at most 4,096 bytes (so lines of workers sharing a pipe never split),
 * written within the flush interval, and at exit; a process that exits right after logging
 * loses nothing. The request lines, built without a logger call, are the lines pino writes.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, test } from '@jest/globals';
import { pino } from 'pino';
import {
  createLineBuffer,
  PIPE_ATOMIC_BYTES,
  requestLineWriter,
} from '../../src/daemon/log-lines.js';

function recorder(): { writes: string[]; writeAll: (fd: number, text: string) => void } {
  const writes: string[] = [];
  return { writes, writeAll: (_fd, text) => writes.push(text) };
}

const line = (i: number, size = 200): string =>
  `${JSON.stringify({ i, pad: 'x'.repeat(Math.max(0, size - 20)) })}\n`;

describe('createLineBuffer', () => {
  test('ok/lines are gathered into writes of whole lines within 4,096 bytes, none lost or reordered', () => {
    const { writes, writeAll } = recorder();
    const buffer = createLineBuffer({ writeAll, flushMs: 60_000 });
    const lines = Array.from({ length: 500 }, (_, i) => line(i, 100 + (i % 7) * 90));
    for (const l of lines) buffer.write(l);
    buffer.end();
    expect(writes.join('')).toBe(lines.join(''));
    expect(writes.length).toBeLessThan(lines.length / 5);
    for (const w of writes) {
      expect(Buffer.byteLength(w)).toBeLessThanOrEqual(PIPE_ATOMIC_BYTES);
      expect(w.endsWith('\n')).toBe(true);
    }
  });

  test('ok/a line longer than a write goes out alone, after what came before it', () => {
    const { writes, writeAll } = recorder();
    const buffer = createLineBuffer({ writeAll, flushMs: 60_000 });
    const long = line(2, 10_000);
    buffer.write(line(1));
    buffer.write(long);
    buffer.write(line(3));
    buffer.flushSync();
    expect(writes).toEqual([line(1), long, line(3)]);
    buffer.end();
  });

  test('ok/gathered lines are written once the interval passes', async () => {
    const { writes, writeAll } = recorder();
    const buffer = createLineBuffer({ writeAll, flushMs: 5 });
    buffer.write(line(1));
    expect(writes).toEqual([]);
    for (let i = 0; i < 200 && writes.length === 0; i++)
      await new Promise((done) => setTimeout(done, 10));
    expect(writes).toEqual([line(1)]);
    buffer.end();
  });

  test('ok/flushMs 0 and an ended buffer write every line at once; pino flush(cb) writes and calls back', () => {
    const { writes, writeAll } = recorder();
    const direct = createLineBuffer({ writeAll, flushMs: 0 });
    direct.write(line(1));
    expect(writes).toEqual([line(1)]);
    direct.end();
    const buffer = createLineBuffer({ writeAll, flushMs: 60_000 });
    buffer.write(line(2));
    let called = false;
    buffer.flush(() => (called = true));
    expect(called).toBe(true);
    expect(writes).toEqual([line(1), line(2)]);
    buffer.end();
    buffer.write(line(3));
    expect(writes).toEqual([line(1), line(2), line(3)]);
  });

  test('ok/a failing write does not throw into the caller', () => {
    const buffer = createLineBuffer({
      flushMs: 60_000,
      writeAll: () => {
        throw Object.assign(new Error('EPIPE'), { code: 'EPIPE' });
      },
    });
    buffer.write(line(1));
    expect(() => {
      buffer.flushSync();
    }).not.toThrow();
    buffer.end();
  });

  test('ok/a process that exits right after logging writes every line (exit hook), through pino', () => {
    const script = `
      import { pino } from 'pino';
      import { createLineBuffer } from './src/daemon/log-lines.ts';
      const log = pino({ base: null }, createLineBuffer({ flushMs: 60_000 }));
      for (let i = 0; i < 300; i++) log.info({ i }, 'line');
      process.exit(0);
    `;
    const out = spawnSync(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', script],
      {
        encoding: 'utf8',
        env: { ...process.env, NODE_OPTIONS: '' },
      },
    );
    expect(out.status).toBe(0);
    const lines = out.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { i: number });
    expect(lines.map((l) => l.i)).toEqual(Array.from({ length: 300 }, (_, i) => i));
  });
});

describe('requestLineWriter', () => {
  const fields = {
    reqId: 'b2f1c1a0-1111-4444-8888-123456789abc',
    method: 'PUT',
    route: '/mdm',
    status: 200,
    ms: 3,
    client: '::ffff:127.0.0.1',
  };

  /** What pino writes for the same line, and what the writer writes. */
  function both(base: Record<string, string | number>, line = fields): [string, string] {
    const seen: string[] = [];
    const logger = pino({ level: 'info', base }, { write: (s: string) => seen.push(s) });
    logger.info(line, 'request');
    const out: string[] = [];
    const write = requestLineWriter({ write: (s) => out.push(s) }, base, true);
    write?.(line);
    return [seen[0] ?? '', out[0] ?? ''];
  }

  /** The line without its time, which the two take at different instants. */
  const timeless = (s: string): string => s.replace(/"time":\d+,/, '');

  test('ok/the line is what pino writes for the same fields: keys, order, values, newline', () => {
    for (const base of [{ service: 'orchard' }, { service: 'orchard', worker: 1 }, {}]) {
      const [pinoLine, ours] = both(base);
      expect(ours.endsWith('}\n')).toBe(true);
      expect(timeless(ours)).toBe(timeless(pinoLine));
      expect(Object.keys(JSON.parse(ours) as object)).toEqual(
        Object.keys(JSON.parse(pinoLine) as object),
      );
    }
  });

  test('bad/quotes, backslashes and control characters in a field stay inside it', () => {
    const hostile = {
      ...fields,
      method: 'P"U\\T\n',
      client: '1.2.3.4"},{"level":60',
      route: 'a\u0000b',
    };
    const [pinoLine, ours] = both({ service: 'orchard' }, hostile);
    expect(ours.split('\n')).toHaveLength(2);
    const parsed = JSON.parse(ours) as Record<string, unknown>;
    expect(parsed).toMatchObject({ level: 30, method: hostile.method, client: hostile.client });
    expect(parsed.route).toBe(hostile.route);
    expect(timeless(ours)).toBe(timeless(pinoLine));
  });

  test('ok/nothing is built when info is not enabled: the caller keeps its logger', () => {
    expect(requestLineWriter({ write: () => undefined }, {}, false)).toBeUndefined();
  });
});

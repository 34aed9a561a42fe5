/**
 * The listener connection of {@link pgCoordination}: one `pg.Client` of its own running `LISTEN`
 * on Orchard's channel, reconnecting by itself (every `reconnectMs`) whenever it is lost. After
 * every (re)connect each topic's listeners are called once, since notifications sent while it was
 * away are gone: a listener only drops a cache, so an extra call costs a reload, never correctness.
 */
import pg from 'pg';
import type { Logger } from '../../logger.js';

/** Options of {@link coordinationListener}. */
export interface ListenerOptions {
  url: string;
  channel: string;
  /** This process's id: its own notifications, already delivered locally, are ignored. */
  origin: string;
  logger?: Logger;
  reconnectMs?: number;
}

/** A running listener. */
export interface CoordinationListener {
  /** Adds a listener of `topic`; returns its removal. */
  on(topic: string, fn: () => void): () => void;
  /** Calls the listeners of `topic` in this process now. */
  local(topic: string): void;
  /** True while the listener connection is up and listening. */
  readonly connected: boolean;
  /** Resolves once the listener connection is up and listening (at once when it is). */
  whenListening(): Promise<void>;
  /** Ends the connection and stops reconnecting. */
  close(): Promise<void>;
}

function parse(payload: string | undefined): { o?: unknown; t?: unknown } {
  try {
    const value: unknown = JSON.parse(payload ?? '');
    return typeof value === 'object' && value !== null ? value : {};
  } catch {
    return {};
  }
}

/** Starts listening (asynchronously: the first connection is made in the background). */
export function coordinationListener(options: ListenerOptions): CoordinationListener {
  const topics = new Map<string, Set<() => void>>();
  const reconnectMs = options.reconnectMs ?? 1000;
  let client: pg.Client | undefined;
  let connected = false;
  let closed = false;
  let timer: NodeJS.Timeout | undefined;
  let waiters: (() => void)[] = [];

  // Read through a function: `closed` and `client` change while a connect is awaited.
  const current = (c: pg.Client): boolean => !closed && client === c;
  const fire = (topic: string): void => {
    for (const fn of topics.get(topic) ?? []) {
      try {
        fn();
      } catch (err) {
        options.logger?.warn({ err, topic }, 'coordination listener failed');
      }
    }
  };
  const fireAll = (): void => {
    for (const topic of topics.keys()) fire(topic);
  };
  const lost = (c: pg.Client): void => {
    if (client !== c) return;
    client = undefined;
    connected = false;
    c.end().catch(() => undefined);
    if (!closed) {
      options.logger?.warn({}, 'coordination listener connection lost; reconnecting');
      schedule();
    }
  };
  const connect = async (): Promise<void> => {
    timer = undefined;
    if (closed) return;
    const c = new pg.Client({
      connectionString: options.url,
      application_name: 'orchard-listen',
      // A silently dropped network is noticed (and the connection made again) by TCP keepalive.
      keepAlive: true,
      keepAliveInitialDelayMillis: 10_000,
    });
    client = c;
    c.on('error', () => {
      lost(c);
    });
    c.on('end', () => {
      lost(c);
    });
    c.on('notification', (message) => {
      const { o, t } = parse(message.payload);
      if (o !== options.origin && typeof t === 'string') fire(t);
    });
    try {
      await c.connect();
      await c.query(`LISTEN ${options.channel}`);
      if (!current(c)) {
        await c.end().catch(() => undefined);
        return;
      }
      connected = true;
      const woken = waiters;
      waiters = [];
      for (const wake of woken) wake();
      fireAll();
    } catch {
      lost(c);
    }
  };
  function schedule(): void {
    if (timer !== undefined || closed) return;
    timer = setTimeout(() => void connect(), reconnectMs);
    timer.unref();
  }
  void connect();
  return {
    on(topic, fn) {
      let set = topics.get(topic);
      if (!set) topics.set(topic, (set = new Set()));
      set.add(fn);
      return () => {
        set.delete(fn);
      };
    },
    local: fire,
    get connected() {
      return connected;
    },
    whenListening() {
      if (connected) return Promise.resolve();
      return new Promise((resolve) => waiters.push(resolve));
    },
    async close() {
      closed = true;
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
      const c = client;
      client = undefined;
      connected = false;
      if (c) await c.end().catch(() => undefined);
    },
  };
}

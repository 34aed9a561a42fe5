/**
 * Spawns the real daemon (`node bin/orchard serve`) as a child process on 127.0.0.1 with a tmp
 * data dir, waits for its "listening" log line, and gives the base URL, the admin key, the log
 * lines it wrote, a JSON API helper, and kill/stop/restart (restart keeps the data dir and port).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Options of {@link spawnDaemon}. */
export interface SpawnOptions {
  /** Extra flags for `orchard serve`. */
  args?: string[];
  env?: Record<string, string>;
  /** Reuse a data dir (default: a new tmp dir, removed by `cleanup()`). */
  dataDir?: string;
  /** Default: a random 43-character key passed with --api-key. `null` passes none. */
  apiKey?: string | null;
  /** Default 60 s. */
  readyTimeoutMs?: number;
  /** `--ca-key-type`; default `rsa-2048` (fast to create). `null` passes none: the daemon's default. */
  caKeyType?: string | null;
}

/** An answer of {@link TestDaemon.api}. */
export interface ApiAnswer {
  status: number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON of any shape
  body: any;
  headers: Headers;
}

/** A running daemon child. */
export interface TestDaemon {
  url: string;
  port: number;
  dataDir: string;
  apiKey: string | undefined;
  /** Every stdout line so far (pino JSON), across restarts. */
  readonly stdout: string[];
  /** Everything on stderr so far, across restarts. */
  stderr(): string;
  /**
   * Resolves once a stdout line contains `text` (a line may arrive after the HTTP answer it goes
   * with: the pipe and the socket are not ordered); rejects after `timeoutMs` with the lines.
   */
  waitForLine(text: string, timeoutMs?: number): Promise<string>;
  /** JSON request to the admin API (or any path); `key` defaults to the admin key, `null` sends none. */
  api(method: string, path: string, body?: unknown, key?: string | null): Promise<ApiAnswer>;
  /** Sends a signal and resolves the exit code (or the signal name). */
  kill(signal?: NodeJS.Signals): Promise<number | string>;
  /** Starts it again on the same data dir and port. */
  restart(extraArgs?: string[]): Promise<void>;
  /** Kills (if running) and removes a data dir this helper created. */
  cleanup(): Promise<void>;
}

const ROOT = new URL('../..', import.meta.url).pathname;

function waitReady(child: ChildProcess, lines: string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let buffer = '';
    const timer = setTimeout(() => {
      reject(new Error(`daemon not ready after ${timeoutMs} ms:\n${lines.join('\n')}`));
    }, timeoutMs);
    child.stdout?.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      let nl: number;
      while ((nl = buffer.indexOf('\n')) !== -1) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        lines.push(line);
        if (line.includes('"msg":"listening"')) {
          clearTimeout(timer);
          resolve((JSON.parse(line) as { url: string }).url);
        }
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(
        new Error(`daemon exited with ${String(code)} before listening:\n${lines.join('\n')}`),
      );
    });
  });
}

/** Starts the daemon and waits until it listens. */
export async function spawnDaemon(options: SpawnOptions = {}): Promise<TestDaemon> {
  const ownDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'orchard-daemon-'));
  const apiKey =
    options.apiKey === null
      ? undefined
      : (options.apiKey ?? `test_${randomBytes(32).toString('base64url')}`);
  const stdout: string[] = [];
  let stderr = '';
  let child: ChildProcess;
  let port = 0;
  let url = '';

  async function start(extra: string[]): Promise<void> {
    const args = [
      'bin/orchard',
      'serve',
      '--listen',
      `127.0.0.1:${port}`,
      '--data-dir',
      dataDir,
      ...(options.caKeyType === null ? [] : ['--ca-key-type', options.caKeyType ?? 'rsa-2048']),
      ...(apiKey === undefined ? [] : ['--api-key', apiKey]),
      ...(options.args ?? []),
      ...extra,
    ];
    child = spawn(process.execPath, args, {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    url = await waitReady(child, stdout, options.readyTimeoutMs ?? 60_000);
    port = Number(new URL(url).port);
  }

  function kill(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | string> {
    return new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) {
        resolve(child.exitCode ?? child.signalCode ?? -1);
        return;
      }
      child.once('exit', (code, sig) => {
        resolve(code ?? sig ?? -1);
      });
      child.kill(signal);
    });
  }

  async function waitForLine(text: string, timeoutMs = 30_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = stdout.find((l) => l.includes(text));
      if (found !== undefined) return found;
      if (Date.now() > deadline)
        throw new Error(`no stdout line with ${text} after ${timeoutMs} ms:\n${stdout.join('\n')}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  await start([]);
  return {
    waitForLine,
    get url() {
      return url;
    },
    get port() {
      return port;
    },
    dataDir,
    apiKey,
    stdout,
    stderr: () => stderr,
    async api(method, path, body, key) {
      const auth = key === null ? undefined : (key ?? apiKey);
      const res = await fetch(url + path, {
        method,
        headers: {
          ...(auth === undefined ? {} : { authorization: `Bearer ${auth}` }),
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = JSON.parse(text);
      } catch {
        // not JSON: keep the text
      }
      return { status: res.status, body: parsed, headers: res.headers };
    },
    kill,
    restart: (extra = []) => start(extra),
    async cleanup() {
      await kill('SIGKILL');
      if (ownDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * In-process daemon for the admin API tests: `startDaemon` on 127.0.0.1:0 with a tmp data dir,
 * a push certificate (APNs unreachable, pushes fail without blocking), an in-memory log, and
 * devices enrolled as real ones are: an enrollment link and SCEP (see `scep-enroll.ts`).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { resolveConfig } from '../../src/daemon/config.js';
import { startDaemon, type RunningDaemon } from '../../src/daemon/daemon.js';
import { createApnsTestPki, issuePushCertificate, newTopic } from '../push/pki.js';
import type { DeviceEmulator } from '../support/device-emulator.js';
import { fetchFrom } from './peer.js';
import { scepEnroller, type ScepEnroller } from './scep-enroll.js';

/** A running in-process daemon. */
export interface Harness {
  daemon: RunningDaemon;
  dataDir: string;
  apiKey: string;
  topic: string;
  logs: string[];
  api(
    method: string,
    path: string,
    body?: unknown,
    key?: string | null,
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON of any shape
  ): Promise<{ status: number; body: any }>;
  raw(
    method: string,
    path: string,
    headers?: Record<string, string>,
    body?: Buffer,
  ): Promise<{ status: number; body: string; headers: Record<string, unknown> }>;
  /**
   * A device enrolled from a fresh enrollment link over SCEP (Authenticate and TokenUpdate sent);
   * `from` sends the link fetch and SCEP requests from that loopback address instead.
   */
  device(options?: { from?: string }): Promise<DeviceEmulator>;
  close(): Promise<void>;
}

/** Options of {@link startHarness} beyond flags. */
export interface HarnessOptions {
  /** The daemon's clock (see `StartOptions.clock`). */
  clock?: () => Date;
  /** Configure the push certificate (default true). */
  push?: boolean;
  /** Receives what the daemon prints on stderr (the first-start banner, push help). */
  print?: (text: string) => void;
}

/** Starts the daemon in this process. */
export async function startHarness(
  extra: Record<string, string> = {},
  options: HarnessOptions = {},
): Promise<Harness> {
  const dataDir = mkdtempSync(join(tmpdir(), 'orchard-admin-'));
  const pki = await createApnsTestPki();
  const topic = newTopic();
  const push = await issuePushCertificate(pki, { topic });
  writeFileSync(join(dataDir, 'push.pem'), push.certPem);
  writeFileSync(join(dataDir, 'push.key'), push.keyPem);
  const apiKey = `k_${randomBytes(32).toString('base64url')}`;
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      logs.push(...chunk.toString().split('\n').filter(Boolean));
      done();
    },
  });
  const config = resolveConfig(
    {
      listen: '127.0.0.1:0',
      dataDir,
      apiKey,
      caKeyType: 'rsa-2048',
      ...(options.push === false
        ? {}
        : { pushCert: join(dataDir, 'push.pem'), pushKey: join(dataDir, 'push.key') }),
      apnsUrl: 'https://127.0.0.1:9',
      logLevel: 'debug',
      // Suites here send many unauthenticated requests; rate-limit.test.ts turns limits on.
      rateLimit: 'off',
      ...extra,
    },
    {},
  );
  const daemon = await startDaemon(config, {
    logDestination: sink,
    print: options.print ?? (() => undefined),
    ...(options.clock === undefined ? {} : { clock: options.clock }),
  });
  const raw: Harness['raw'] = (method, path, headers = {}, body) =>
    new Promise((resolve, reject) => {
      const req = request(daemon.url + '/', { method, path, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          resolve({
            status: res.statusCode ?? 0,
            body: Buffer.concat(chunks).toString(),
            headers: res.headers,
          });
        });
      });
      req.on('error', reject);
      req.end(body);
    });
  let enroller: Promise<ScepEnroller> | undefined;
  const harness: Harness = {
    daemon,
    dataDir,
    apiKey,
    topic,
    logs,
    async api(method, path, body, key) {
      const auth = key === null ? undefined : (key ?? apiKey);
      const res = await raw(
        method,
        path,
        {
          ...(auth === undefined ? {} : { authorization: `Bearer ${auth}` }),
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body === undefined ? undefined : Buffer.from(JSON.stringify(body)),
      );
      let parsed: unknown = res.body;
      try {
        parsed = JSON.parse(res.body);
      } catch {
        // keep the text
      }
      return { status: res.status, body: parsed };
    },
    raw,
    async device(options = {}) {
      const from =
        options.from === undefined
          ? (enroller ??= scepEnroller(harness))
          : scepEnroller(harness, fetchFrom(options.from));
      return (await (await from).enrollDevice()).device;
    },
    async close() {
      await daemon.close(1000);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return harness;
}

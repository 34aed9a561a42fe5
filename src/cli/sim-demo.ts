/**
 * `orchard sim --demo`: everything in one process. A daemon on a temporary data directory, a
 * test push identity (topic `com.apple.mgmt.External.<uuid>`) issued by the simulator's APNs CA,
 * and the APNs endpoint the daemon pushes to; `close()` stops both and removes the directory.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveConfig, startDaemon } from '../daemon/index.js';
import { createSimApns, type SimApns } from '../sim/index.js';

/** A running demo: where the daemon listens, its admin key and the APNs endpoint. */
export interface SimDemo {
  url: string;
  apiKey: string;
  apns: SimApns;
  /** Stops the daemon and the endpoint and removes the directory; later calls share the first. */
  close(): Promise<void>;
}

/** Starts the APNs endpoint and a daemon pointed at it; `onPush` gets every accepted push. */
export async function startSimDemo(onPush: (token: string) => void): Promise<SimDemo> {
  const dir = await mkdtemp(join(tmpdir(), 'orchard-sim-'));
  let apns: SimApns | undefined;
  try {
    apns = await createSimApns({
      onPush: (token) => {
        onPush(token);
      },
    });
    const identity = await apns.issuePushIdentity(`com.apple.mgmt.External.${randomUUID()}`);
    const file = (name: string) => join(dir, name);
    await writeFile(file('push.pem'), identity.certPem);
    await writeFile(file('push.key'), identity.keyPem, { mode: 0o600 });
    await writeFile(file('apns-ca.pem'), apns.caPem);
    const apiKey = randomBytes(32).toString('base64url');
    const config = resolveConfig(
      {
        listen: '127.0.0.1:0',
        'data-dir': file('data'),
        'push-cert': file('push.pem'),
        'push-key': file('push.key'),
        'apns-url': apns.url,
        'apns-ca': file('apns-ca.pem'),
        'api-key': apiKey,
        'ca-key-type': 'rsa-2048',
        'log-level': 'silent',
        'rate-limit': 'off',
        'max-connections': '10000',
      },
      {},
    );
    const daemon = await startDaemon(config, { print: () => undefined });
    const started = apns;
    let closing: Promise<void> | undefined;
    const close = async (): Promise<void> => {
      await daemon.close(1000);
      await started.close();
      await rm(dir, { recursive: true, force: true });
    };
    return {
      url: daemon.url,
      apiKey,
      apns: started,
      close: () => (closing ??= close()),
    };
  } catch (error) {
    await apns?.close();
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

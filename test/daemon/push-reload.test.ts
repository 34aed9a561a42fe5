/**
 * Push certificate hot reload in the daemon: renewed PEM files replaced on disk are picked up
 * without a restart; a replacement with another topic is refused (logged, shown in /healthz)
 * and names the enrolled devices it would orphan; at start-up, a topic other than the recorded
 * one is refused unless --push-allow-topic-change.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { resolveConfig } from '../../src/daemon/config.js';
import { startDaemon } from '../../src/daemon/daemon.js';
import {
  createApnsTestPki,
  issuePushCertificate,
  newTopic,
  type ApnsTestPki,
} from '../push/pki.js';
import { startHarness, type Harness } from './harness.js';

let h: Harness;
let pki: ApnsTestPki;

beforeAll(async () => {
  h = await startHarness({ pushWatchInterval: '1s' });
  pki = await createApnsTestPki();
  await h.device();
}, 60_000);

afterAll(async () => {
  await h.close();
});

interface PushHealth {
  topic: string;
  notAfter: string;
  lastReloadAt: string | null;
  reloadError: { code: string; message: string } | null;
}

async function pushHealth(): Promise<PushHealth> {
  const res = await h.api('GET', '/healthz', undefined, null);
  return res.body.push as PushHealth;
}

async function replaceFiles(topic: string, toDays: number): Promise<void> {
  const next = await issuePushCertificate(pki, { topic, toDays });
  writeFileSync(join(h.dataDir, 'push.key'), next.keyPem);
  writeFileSync(join(h.dataDir, 'push.pem'), next.certPem);
}

async function waitFor(check: (p: PushHealth) => boolean): Promise<PushHealth> {
  const until = Date.now() + 15_000;
  for (;;) {
    const p = await pushHealth();
    if (check(p)) return p;
    if (Date.now() > until) throw new Error(`push health never matched: ${JSON.stringify(p)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('push certificate hot reload', () => {
  test('ok/a renewed certificate with the same topic is picked up without a restart', async () => {
    const before = await pushHealth();
    expect(before.lastReloadAt).toBeNull();
    await replaceFiles(h.topic, 200);
    const after = await waitFor((p) => p.lastReloadAt !== null);
    expect(after.topic).toBe(h.topic);
    expect(after.notAfter).not.toBe(before.notAfter);
    expect(after.reloadError).toBeNull();
    expect(h.logs.some((l) => l.includes('push certificate reloaded'))).toBe(true);
  });

  test('fail/a replacement with another topic is refused, logged and shown in /healthz', async () => {
    const before = await pushHealth();
    await replaceFiles(newTopic(), 300);
    const after = await waitFor((p) => p.reloadError !== null);
    expect(after.reloadError?.code).toBe('ERR_PUSH_TOPIC_CHANGED');
    expect(after.reloadError?.message).toMatch(/1 enrolled device\b/);
    expect(after.topic).toBe(h.topic);
    expect(after.notAfter).toBe(before.notAfter);
    expect(h.logs.some((l) => l.includes('push certificate reload refused'))).toBe(true);
  });
});

describe('start-up topic guard', () => {
  const quiet = () =>
    new Writable({
      write(_c, _e, done) {
        done();
      },
    });

  test('fail/a certificate with another topic than the recorded one refuses to start', async () => {
    await h.daemon.close(500);
    // The files on disk now carry another topic (previous test).
    const config = resolveConfig(
      {
        listen: '127.0.0.1:0',
        dataDir: h.dataDir,
        apiKey: h.apiKey,
        pushCert: join(h.dataDir, 'push.pem'),
        pushKey: join(h.dataDir, 'push.key'),
        apnsUrl: 'https://127.0.0.1:9',
      },
      {},
    );
    await expect(startDaemon(config, { logDestination: quiet() })).rejects.toMatchObject({
      code: 'ERR_CONFIG',
      flag: '--push-cert',
      message: expect.stringMatching(
        /1 enrolled device would be orphaned.*--push-allow-topic-change/,
      ),
    });
  });

  test('ok/--push-allow-topic-change starts with the new topic and records it', async () => {
    const flags = {
      listen: '127.0.0.1:0',
      dataDir: h.dataDir,
      apiKey: h.apiKey,
      pushCert: join(h.dataDir, 'push.pem'),
      pushKey: join(h.dataDir, 'push.key'),
      apnsUrl: 'https://127.0.0.1:9',
    };
    const forced = await startDaemon(resolveConfig({ ...flags, pushAllowTopicChange: true }, {}), {
      logDestination: quiet(),
    });
    const health = (await (await fetch(`${forced.url}/healthz`)).json()) as { push: PushHealth };
    expect(health.push.topic).not.toBe(h.topic);
    await forced.close(500);
    // The new topic is now the recorded one: a plain start is accepted.
    const plain = await startDaemon(resolveConfig(flags, {}), { logDestination: quiet() });
    await plain.close(500);
  });
});

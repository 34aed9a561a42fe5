/**
 * `orchard serve`, `orchard apikey` and `orchard enroll` as an operator runs them: first start
 * creates the CA, signing identity and a key printed once (never logged); restart keeps them;
 * invalid configuration exits 2 naming the flag; SIGTERM exits 0; keys are created, listed and
 * revoked offline while the daemon runs. No link that would fail is printed: without a push
 * certificate the first start and `orchard enroll create` say how to get one instead.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApnsTestPki, issuePushCertificate, newTopic } from '../push/pki.js';
import { spawnDaemon, type TestDaemon } from '../support/daemon.js';
import { orchard } from '../support/cli.js';

/** Waits until the daemon's stderr holds `text` (stderr and stdout are separate pipes). */
async function stderrHolds(d: TestDaemon, text: string): Promise<void> {
  const until = Date.now() + 10_000;
  while (!d.stderr().includes(text) && Date.now() < until)
    await new Promise((r) => setTimeout(r, 50));
}

/** What a start without a push certificate must say instead of a link. */
function expectPushHelp(text: string): void {
  expect(text).toContain('APNs MDM push certificate');
  expect(text).toContain('orchard push csr --key push.key --csr push.csr');
  expect(text).toContain('--vendor-cert FILE --vendor-key FILE');
  expect(text).toContain('https://identity.apple.com');
  expect(text).toContain('--push-cert push.pem --push-key push.key');
  expect(text).not.toMatch(/\/enroll\//);
}

describe('orchard serve configuration errors', () => {
  test.each([
    [['--listen', 'nowhere'], '--listen'],
    [['--api-key', ''], '--api-key'],
    [['--database', 'postgres://'], '--database'],
    [
      [
        '--push-cert',
        '/nonexistent.pem',
        '--push-key',
        '/nonexistent.key',
        '--data-dir',
        '/tmp/orchard-cli-bad',
      ],
      '--push-cert',
    ],
  ])(
    'fail/%j exits 2 naming %s',
    async (args, flag) => {
      const r = await orchard('serve', '--ca-key-type', 'rsa-2048', ...args);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(flag);
    },
    60_000,
  );
});

describe('first start, keys and links', () => {
  let d: TestDaemon;
  beforeAll(async () => {
    d = await spawnDaemon({ apiKey: null });
    await stderrHolds(d, 'push.key`.');
  }, 90_000);
  afterAll(async () => {
    await d.cleanup();
  });

  const generatedKey = (): string => /API key[^:]*: (\S+)/.exec(d.stderr())?.[1] ?? '';

  test('ok/first start creates the CA, the signing identity and a key printed once, never logged', async () => {
    for (const f of [
      'ca/ca.pem',
      'ca/ca.key',
      'signing/signing.pem',
      'signing/signing.key',
      'orchard.db',
    ])
      expect(existsSync(join(d.dataDir, f))).toBe(true);
    const key = generatedKey();
    expect(key).toMatch(/^orch_[A-Za-z0-9_-]{43}$/);
    expect(d.stderr()).not.toContain('Enrollment URL');
    expectPushHelp(d.stderr());
    expect(d.stdout.join('\n')).not.toContain(key);
    expect((await d.api('GET', '/api/v1/enrollments', undefined, key)).status).toBe(200);
  });

  test('ok/apikey create, list and revoke work while the daemon runs', async () => {
    const created = await orchard(
      'apikey',
      'create',
      '--name',
      'ci',
      '--scope',
      'read',
      '--data-dir',
      d.dataDir,
    );
    expect(created.code).toBe(0);
    const { id, key } = JSON.parse(created.stdout) as { id: string; key: string };
    expect((await d.api('GET', '/api/v1/enrollments', undefined, key)).status).toBe(200);
    expect((await d.api('POST', '/api/v1/enrollment-tokens', {}, key)).status).toBe(403);
    const listed = await orchard('apikey', 'list', '--data-dir', d.dataDir);
    expect(listed.stdout).toContain(id);
    expect(listed.stdout).not.toContain(key);
    expect((await orchard('apikey', 'revoke', id, '--data-dir', d.dataDir)).code).toBe(0);
    expect((await d.api('GET', '/api/v1/enrollments', undefined, key)).status).toBe(403);
    expect((await orchard('apikey', 'revoke', id, '--data-dir', d.dataDir)).code).toBe(1);
    const audit = await d.api('GET', '/api/v1/audit', undefined, generatedKey());
    expect(
      audit.body.items.map((e: { action: string; actor: string }) => `${e.action} ${e.actor}`),
    ).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^api-key\.revoke cli/),
        expect.stringMatching(/^api-key\.create cli/),
      ]),
    );
  }, 60_000);

  test('fail/enroll create without a push certificate prints no link and says how to get one', async () => {
    const r = await orchard('enroll', 'create', '--data-dir', d.dataDir);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expectPushHelp(r.stderr);
    const key = generatedKey();
    const api = await d.api('POST', '/api/v1/enrollment-tokens', {}, key);
    expect(api.status).toBe(503);
    expect(api.body.code).toBe('ERR_PUSH_DISABLED');
    expectPushHelp(api.body.message as string);
    expect((await d.api('GET', '/api/v1/enrollment-tokens', undefined, key)).body.items).toEqual(
      [],
    );
    expect(
      (await orchard('enroll', 'create', '--expires', 'soon', '--data-dir', d.dataDir)).code,
    ).toBe(2);
  }, 60_000);

  test('ok/SIGTERM exits 0; a restart prints no new key and keeps the old one', async () => {
    const before = d.stderr().length;
    expect(await d.kill('SIGTERM')).toBe(0);
    await d.restart();
    expect(d.stderr().slice(before)).not.toMatch(/API key/);
    expect((await d.api('GET', '/api/v1/enrollments', undefined, generatedKey())).status).toBe(200);
  }, 90_000);
});

describe('first start with a push certificate', () => {
  let d: TestDaemon;
  beforeAll(async () => {
    const push = await issuePushCertificate(await createApnsTestPki(), { topic: newTopic() });
    const dir = mkdtempSync(join(tmpdir(), 'orchard-cli-push-'));
    writeFileSync(join(dir, 'push.pem'), push.certPem);
    writeFileSync(join(dir, 'push.key'), push.keyPem);
    d = await spawnDaemon({
      apiKey: null,
      args: [
        ...['--push-cert', join(dir, 'push.pem'), '--push-key', join(dir, 'push.key')],
        ...['--apns-url', 'https://127.0.0.1:9'],
      ],
    });
    await stderrHolds(d, 'Enrollment URL');
  }, 90_000);
  afterAll(async () => {
    await d.cleanup();
  });

  test('ok/the printed enrollment URL answers a signed profile', async () => {
    const url = /Enrollment URL[^:]*: (http:\/\/127\.0\.0\.1:\d+\/enroll\/[A-Za-z0-9_-]{43})/.exec(
      d.stderr(),
    )?.[1];
    expect(url).toBeDefined();
    expect(d.stderr()).not.toContain('orchard push csr');
    const res = await fetch(url ?? '');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/x-apple-aspen-config');
  });

  test('ok/enroll create prints a link on the recorded public URL that answers a profile', async () => {
    const r = await orchard(
      'enroll',
      'create',
      '--multi-use',
      '--expires',
      '24h',
      '--user',
      'bob',
      '--data-dir',
      d.dataDir,
    );
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { url: string; singleUse: boolean; user: string };
    expect(out).toMatchObject({ singleUse: false, user: 'bob' });
    expect(out.url.startsWith(`${d.url}/enroll/`)).toBe(true);
    expect((await fetch(out.url)).status).toBe(200);
  }, 60_000);
});

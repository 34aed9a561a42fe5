import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { createMemoryChallengeStore } from '../../../src/index.js';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createCsr, parseCsr } from '../../../src/crypto/csr.js';
import {
  anyChallenge,
  createOneTimeChallenges,
  staticChallenge,
  type ChallengeContext,
  type ChallengeValidator,
} from '../../../src/identity/scep/challenge.js';
import { createWebhookValidator } from '../../../src/identity/scep/challenge-webhook.js';
import { createTransientCertificate } from '../../../src/identity/scep/client.js';
import { openSqliteCaStorage } from '../../../src/storage/sqlite/index.js';
import { makeTmpDir } from '../../support/openssl.js';
import { clientKey } from './helpers.js';

function context(challenge: string | undefined): ChallengeContext {
  const key = clientKey();
  const csr = parseCsr(
    createCsr({
      subject: 'CN=c',
      privateKey: key,
      ...(challenge === undefined ? {} : { challengePassword: challenge }),
    }),
  );
  return {
    challenge: csr.challengePassword,
    csr,
    messageType: 'PKCSReq',
    transactionId: 'tx-1',
    signer: createTransientCertificate(key, 'CN=t'),
  };
}

describe('staticChallenge', () => {
  const v = staticChallenge('s3cret');
  test.each([
    ['ok/exact secret', 's3cret', 'accept'],
    ['fail/other secret', 's3cret!', 'reject'],
    ['fail/prefix', 's3cre', 'reject'],
    ['fail/empty', '', 'reject'],
    ['fail/absent', undefined, 'reject'],
  ])('%s', async (_name, given, outcome) => {
    expect((await v(context(given))).outcome).toBe(outcome);
  });

  test('fail/an empty secret is a TypeError', () => {
    expect(() => staticChallenge('')).toThrow(TypeError);
  });
});

describe('one-time challenges', () => {
  let t = new Date('2026-03-01T00:00:00Z');
  const clock = (): Date => t;

  test('ok/bound to its enrollment, accepted once', async () => {
    const otc = createOneTimeChallenges(
      { store: createMemoryChallengeStore(), clock },
      { ttlSeconds: 60 },
    );
    const { challenge, expiresAt } = await otc.issue('enr-42');
    expect(expiresAt.getTime() - t.getTime()).toBe(60_000);
    expect(challenge).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(await otc.validator(context(challenge))).toEqual({
      outcome: 'accept',
      enrollmentId: 'enr-42',
    });
    expect((await otc.validator(context(challenge))).outcome).toBe('reject');
  });

  test('fail/expired challenges are refused', async () => {
    const otc = createOneTimeChallenges(
      { store: createMemoryChallengeStore(), clock },
      { ttlSeconds: 60 },
    );
    const { challenge } = await otc.issue();
    t = new Date(t.getTime() + 61_000);
    expect((await otc.validator(context(challenge))).outcome).toBe('reject');
  });

  test('ok/deterministic with injected randomness; unknown challenges are refused', async () => {
    const otc = createOneTimeChallenges({
      store: createMemoryChallengeStore(),
      clock,
      random: (n) => Buffer.alloc(n, 7),
    });
    const { challenge } = await otc.issue();
    expect(challenge).toBe(Buffer.alloc(32, 7).toString('base64url'));
    expect((await otc.validator(context('guess'))).outcome).toBe('reject');
    expect((await otc.validator(context(undefined))).outcome).toBe('reject');
  });

  test('ok/concurrent use of one challenge on SQLite (two connections): exactly one accept', async () => {
    const tmp = makeTmpDir();
    const a = openSqliteCaStorage({ path: tmp.path('c.sqlite') });
    const b = openSqliteCaStorage({ path: tmp.path('c.sqlite') });
    const issuer = createOneTimeChallenges({ store: a.challenges });
    const other = createOneTimeChallenges({ store: b.challenges });
    const { challenge } = await issuer.issue('enr-1');
    const results = await Promise.all(
      Array.from({ length: 10 }, async (_, i) =>
        (i % 2 ? issuer : other).validator(context(challenge)),
      ),
    );
    expect(results.filter((r) => r.outcome === 'accept')).toHaveLength(1);
    a.close();
    b.close();
    tmp.remove();
  });

  test('fail/a non-positive TTL is a TypeError', () => {
    expect(() =>
      createOneTimeChallenges({ store: createMemoryChallengeStore() }, { ttlSeconds: 0 }),
    ).toThrow(TypeError);
  });
});

describe('anyChallenge', () => {
  const accept: ChallengeValidator = () => ({ outcome: 'accept', enrollmentId: 'a' });
  const reject: ChallengeValidator = () => ({ outcome: 'reject' });
  const pending: ChallengeValidator = () => ({ outcome: 'pending' });
  test.each([
    ['ok/first accept wins', [reject, accept, pending], 'accept'],
    ['ok/pending when none accepts', [reject, pending], 'pending'],
    ['fail/all reject', [reject, reject], 'reject'],
  ])('%s', async (_name, list, outcome) => {
    expect((await anyChallenge(...list)(context('x'))).outcome).toBe(outcome);
  });

  test('ok/a later one-time challenge is not consumed when an earlier validator accepts', async () => {
    const otc = createOneTimeChallenges({ store: createMemoryChallengeStore() });
    const { challenge } = await otc.issue();
    await anyChallenge(accept, otc.validator)(context(challenge));
    expect((await otc.validator(context(challenge))).outcome).toBe('accept');
  });
});

describe('webhook validator', () => {
  let server: Server;
  let origin: string;
  const seen: unknown[] = [];
  let answer: { status: number; body: string } = { status: 200, body: '{"outcome":"accept"}' };

  beforeAll(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        seen.push({
          auth: req.headers.authorization,
          body: JSON.parse(Buffer.concat(chunks).toString()) as unknown,
        });
        if (req.url === '/redirect') res.writeHead(302, { location: '/hook' }).end();
        else res.writeHead(answer.status, { 'content-type': 'application/json' }).end(answer.body);
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    origin = `http://127.0.0.1:${String((server.address() as AddressInfo).port)}`;
  });
  afterAll(async () => {
    await new Promise((r) => server.close(r));
  });

  test.each([
    [
      'ok/accept with an enrollment',
      '{"outcome":"accept","enrollmentId":"e-7"}',
      { outcome: 'accept', enrollmentId: 'e-7' },
    ],
    ['ok/reject', '{"outcome":"reject"}', { outcome: 'reject' }],
    ['ok/pending', '{"outcome":"pending"}', { outcome: 'pending' }],
  ])('%s', async (_name, body, expected) => {
    answer = { status: 200, body };
    const v = createWebhookValidator({
      url: `${origin}/hook`,
      allowedOrigins: [origin],
      bearerToken: 'tok',
    });
    expect(await v(context('the-challenge'))).toEqual(expected);
    const last = seen[seen.length - 1] as { auth: string; body: Record<string, unknown> };
    expect(last.auth).toBe('Bearer tok');
    expect(last.body).toMatchObject({
      challenge: 'the-challenge',
      messageType: 'PKCSReq',
      transactionId: 'tx-1',
      subject: 'CN=c',
    });
  });

  test.each([
    ['fail/500 answer', { status: 500, body: '{}' }],
    ['fail/not JSON', { status: 200, body: 'yes' }],
    ['fail/unknown outcome', { status: 200, body: '{"outcome":"maybe"}' }],
    ['fail/bad enrollmentId', { status: 200, body: '{"outcome":"accept","enrollmentId":5}' }],
  ])('%s is ERR_SCEP_VALIDATOR (503)', async (_name, a) => {
    answer = a;
    const v = createWebhookValidator({ url: `${origin}/hook`, allowedOrigins: [origin] });
    await expect(v(context('c'))).rejects.toMatchObject({
      code: 'ERR_SCEP_VALIDATOR',
      status: 503,
    });
  });

  test('fail/redirects are not followed', async () => {
    answer = { status: 200, body: '{"outcome":"accept"}' };
    const v = createWebhookValidator({ url: `${origin}/redirect`, allowedOrigins: [origin] });
    await expect(v(context('c'))).rejects.toMatchObject({ code: 'ERR_SCEP_VALIDATOR' });
  });

  test('fail/unreachable or slow service', async () => {
    const v = createWebhookValidator({
      url: 'http://127.0.0.1:1/hook',
      allowedOrigins: ['http://127.0.0.1:1'],
      timeoutMs: 500,
    });
    await expect(v(context('c'))).rejects.toMatchObject({ code: 'ERR_SCEP_VALIDATOR' });
  });

  test.each([
    ['fail/origin not allow-listed', 'http://169.254.169.254/latest', ['http://127.0.0.1:9']],
    ['fail/other port of an allowed host', 'http://127.0.0.1:10/x', ['http://127.0.0.1:9']],
    ['fail/not a URL', 'nope', ['http://127.0.0.1:9']],
    ['fail/file URL', 'file:///etc/passwd', ['file://']],
  ])('%s is a TypeError at creation', (_name, url, allowedOrigins) => {
    expect(() => createWebhookValidator({ url, allowedOrigins })).toThrow(TypeError);
  });
});

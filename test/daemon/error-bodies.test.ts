/**
 * Every error answer of every HTTP route carries a stable `code` and a `message` a person can act
 * on (issue 13, item 2): JSON `{code, message}` from the daemon's routes, `CODE: message` text
 * from SCEP. Walks the refusals a client can provoke on a daemon with and without a push
 * certificate, and the renderer's own answers for errors whose message stays in the log.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { AdminError, renderError, StorageError, type Logger } from '../../src/index.js';
import { startHarness, type Harness } from './harness.js';

const TOKEN = 'A'.repeat(43);
const silent = { error: () => undefined, info: () => undefined } as unknown as Logger;
const errorAnswer = (error: unknown, logger: Logger) => renderError(error, 'admin', logger);

/** The code and message of an error body, JSON or SCEP's text. */
function codeAndMessage(res: { body: string; headers: Record<string, unknown> }): {
  code: unknown;
  message: unknown;
} {
  const type = String(res.headers['content-type']);
  if (type.startsWith('application/json')) return JSON.parse(res.body) as never;
  const m = /^(ERR_[A-Z0-9_]+): (.+)\n$/s.exec(res.body);
  return { code: m?.[1] ?? res.body, message: m?.[2] };
}

function expectErrorBody(
  res: { status: number; body: string; headers: Record<string, unknown> },
  status: number,
  code: string,
): void {
  expect(res.status).toBe(status);
  const body = codeAndMessage(res);
  expect(body.code).toBe(code);
  expect(typeof body.message).toBe('string');
  expect((body.message as string).trim()).not.toBe('');
}

describe('with a push certificate', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  }, 60_000);
  afterAll(async () => {
    await h.close();
  });
  const json = { 'content-type': 'application/json' };

  test.each([
    ['unknown route', 'GET', '/nope', {}, undefined, 404, 'ERR_NOT_FOUND'],
    ['unknown API route', 'GET', '/api/v1/nope', {}, undefined, 404, 'ERR_NOT_FOUND'],
    ['API method', 'PUT', '/api/v1/enrollments', {}, undefined, 405, 'ERR_METHOD'],
    ['enrollment method', 'POST', `/enroll/${TOKEN}`, {}, undefined, 405, 'ERR_METHOD'],
    ['unknown link', 'GET', `/enroll/${TOKEN}`, {}, undefined, 404, 'ERR_TOKEN_INVALID'],
    ['malformed link', 'GET', '/enroll/short', {}, undefined, 404, 'ERR_TOKEN_INVALID'],
    ['no API key', 'GET', '/api/v1/enrollments', {}, undefined, 403, 'ERR_API_KEY_MISSING'],
    [
      'admin body past the limit',
      'POST',
      '/api/v1/enrollment-tokens',
      json,
      Buffer.alloc(9 * 1024 * 1024, 32),
      413,
      'ERR_BODY_TOO_LARGE',
    ],
    [
      'admin body not JSON',
      'POST',
      '/api/v1/enrollment-tokens',
      { 'content-type': 'text/plain' },
      Buffer.from('{}'),
      415,
      'ERR_UNSUPPORTED_MEDIA',
    ],
    [
      'malformed JSON',
      'POST',
      '/api/v1/enrollment-tokens',
      json,
      Buffer.from('{'),
      400,
      'ERR_BAD_JSON',
    ],
    ['SCEP operation', 'GET', '/scep?operation=Nope', {}, undefined, 400, 'ERR_SCEP_OPERATION'],
    ['SCEP message', 'GET', '/scep?operation=PKIOperation', {}, undefined, 400, 'ERR_SCEP_MESSAGE'],
    ['SCEP method', 'PUT', '/scep?operation=GetCACert', {}, undefined, 405, 'ERR_METHOD'],
    [
      'SCEP body past the limit',
      'POST',
      '/scep?operation=PKIOperation',
      {},
      Buffer.alloc(65 * 1024, 1),
      413,
      'ERR_BODY_TOO_LARGE',
    ],
    [
      'MDM without a device identity',
      'PUT',
      '/mdm',
      { 'content-type': 'application/x-apple-aspen-mdm-checkin' },
      Buffer.from('<plist/>'),
      400,
      'ERR_IDENTITY_MISSING',
    ],
  ])(
    'fail/%s: %s %s has code and message',
    async (_, method, path, headers, body, status, code) => {
      const auth =
        code === 'ERR_API_KEY_MISSING' || !path.startsWith('/api/')
          ? {}
          : { authorization: `Bearer ${h.apiKey}` };
      expectErrorBody(await h.raw(method, path, { ...auth, ...headers }, body), status, code);
    },
  );
});

describe('without a push certificate', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ rateLimit: '2/min' }, { push: false });
  }, 60_000);
  afterAll(async () => {
    await h.close();
  });

  test('fail/an enrollment link answers 503 ERR_PUSH_DISABLED saying how to get the certificate', async () => {
    const res = await h.raw('GET', `/enroll/${TOKEN}`);
    expectErrorBody(res, 503, 'ERR_PUSH_DISABLED');
    expect(codeAndMessage(res).message).toContain('orchard push csr');
  });

  test('fail/creating a link is refused the same way, and no link is stored', async () => {
    const res = await h.api('POST', '/api/v1/enrollment-tokens', {});
    expect(res.status).toBe(503);
    expect(res.body.code).toBe('ERR_PUSH_DISABLED');
    expect(res.body.message).toContain('https://identity.apple.com');
    expect((await h.api('GET', '/api/v1/enrollment-tokens')).body.items).toEqual([]);
  });

  test('fail/past the rate limit: 429 ERR_RATE_LIMITED with Retry-After', async () => {
    let res = await h.raw('GET', `/enroll/${TOKEN}`);
    for (let i = 0; i < 3 && res.status !== 429; i++) res = await h.raw('GET', `/enroll/${TOKEN}`);
    expectErrorBody(res, 429, 'ERR_RATE_LIMITED');
    expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
  });
});

describe('errors whose own message stays in the log', () => {
  test.each([
    ['a storage outage', new StorageError('disk on fire at /var/lib'), 503, 'ERR_STORAGE'],
    ['an unexpected error', new Error('secret detail'), 500, 'ERR_INTERNAL'],
  ])('fail/%s keeps code and gets a generic message', (_, error, status, code) => {
    const answer = errorAnswer(error, silent);
    expect(answer.status).toBe(status);
    const body = JSON.parse(String(answer.body)) as { code: string; message: string };
    expect(body.code).toBe(code);
    expect(body.message.length).toBeGreaterThan(10);
    expect(body.message).not.toContain(error.message);
  });

  test('ok/an AdminError 503 shows its own message (written for the client)', () => {
    const answer = errorAnswer(new AdminError('ERR_PUSH_DISABLED', 'how to get one'), silent);
    expect(answer.status).toBe(503);
    expect(JSON.parse(String(answer.body))).toEqual({
      code: 'ERR_PUSH_DISABLED',
      message: 'how to get one',
    });
  });
});

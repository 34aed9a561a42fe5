/**
 * Revocation through the admin API, against the real in-process daemon: devices enroll with
 * certificates the daemon's CA issued over SCEP (one-time challenge from a real enrollment link),
 * the operator lists and revokes one by serial, and that device is refused on its next Idle
 * (400 `ERR_DEVICE_CERT_REVOKED`, never 401) and on SCEP renewal, while another keeps working.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { generateKeyPairSync } from 'node:crypto';
import { expectOk } from '../support/device-emulator.js';
import { startHarness, type Harness } from './harness.js';
import { DEVICE_SUBJECT, scepEnroller, type ScepDevice, type ScepEnroller } from './scep-enroll.js';

let h: Harness;
let scep: ScepEnroller;
let readKey: string;
type Enrolled = ScepDevice;
const SUBJECT = DEVICE_SUBJECT;
const pkiOperation: ScepEnroller['pkiOperation'] = (key, o) => scep.pkiOperation(key, o);
const enrollDevice: ScepEnroller['enrollDevice'] = (keys) => scep.enrollDevice(keys);

beforeAll(async () => {
  h = await startHarness();
  scep = await scepEnroller(h);
  readKey = (await h.api('POST', '/api/v1/api-keys', { name: 'reader', scope: 'read' })).body.key;
}, 60_000);

afterAll(async () => {
  await h.close();
});

describe('revoking a device certificate through the admin API', () => {
  let a: Enrolled;
  let b: Enrolled;

  beforeAll(async () => {
    a = await enrollDevice();
    b = await enrollDevice();
  }, 60_000);

  test('ok/enrolled devices poll; the operator lists their certificates', async () => {
    expectOk(await a.device.idle(), 'Idle of A');
    const listed = await h.api('GET', '/api/v1/certificates', undefined, readKey);
    expect(listed.status).toBe(200);
    expect(listed.body.nextCursor).toBeNull();
    const mine = listed.body.items.find((c: { serial: string }) => c.serial === a.serial);
    expect(mine).toMatchObject({
      subject: SUBJECT,
      boundEnrollmentId: a.device.enrollmentId,
      enrollmentId: expect.stringMatching(/^enrollment-token:/),
      revoked: false,
      revokedAt: null,
      notAfter: new Date(a.certificate.validTo).toISOString(),
    });
  });

  test('ok/the list pages in serial order with an opaque cursor', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    for (let i = 0; i < 5; i++) {
      const q: string = cursor === null ? '' : `&cursor=${cursor}`;
      const page = await h.api('GET', `/api/v1/certificates?limit=1${q}`);
      expect(page.status).toBe(200);
      seen.push(...page.body.items.map((c: { serial: string }) => c.serial));
      cursor = page.body.nextCursor as string | null;
      if (cursor === null) break;
    }
    expect(seen).toEqual(
      [a.serial, b.serial].sort((x, y) => x.length - y.length || (x < y ? -1 : 1)),
    );
  });

  test('fail/a read-scope key cannot revoke (403 ERR_API_SCOPE)', async () => {
    const res = await h.api('POST', `/api/v1/certificates/${a.serial}/revoke`, {}, readKey);
    expect(res.status).toBe(403);
    expect(res.body.code).toBe('ERR_API_SCOPE');
    expectOk(await a.device.idle(), 'Idle of A after a refused revocation');
  });

  test.each([
    ['an unknown reason', { reason: 'lost' }, 'ERR_BAD_REQUEST', 400],
    ['a reason of the wrong type', { reason: 1 }, 'ERR_BAD_REQUEST', 400],
    ['an unknown field', { reason: 'superseded', note: 'x' }, 'ERR_BAD_REQUEST', 400],
    ['an array body', ['keyCompromise'], 'ERR_BAD_REQUEST', 400],
  ])('fail/%s is refused', async (_what, body, code, status) => {
    const res = await h.api('POST', `/api/v1/certificates/${a.serial}/revoke`, body);
    expect(res.status).toBe(status);
    expect(res.body.code).toBe(code);
  });

  test.each([
    ['GET', '/api/v1/certificates/7fffffffffffffffffffffff', 'ERR_CA_NOT_FOUND', 404],
    ['POST', '/api/v1/certificates/7fffffffffffffffffffffff/revoke', 'ERR_CA_NOT_FOUND', 404],
    ['GET', '/api/v1/certificates/not-hex', 'ERR_BAD_REQUEST', 400],
    [
      'POST',
      '/api/v1/certificates/12345678901234567890123456789012345678901/revoke',
      'ERR_BAD_REQUEST',
      400,
    ],
    ['GET', '/api/v1/certificates?cursor=zz', 'ERR_BAD_REQUEST', 400],
  ])('fail/%s %s', async (method, path, code, status) => {
    const res = await h.api(method, path, method === 'POST' ? {} : undefined);
    expect(res.status).toBe(status);
    expect(res.body.code).toBe(code);
  });

  test('ok/revoking answers the record, is idempotent and is audit-logged', async () => {
    const first = await h.api('POST', `/api/v1/certificates/${a.serial}/revoke`, {
      reason: 'keyCompromise',
    });
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({
      serial: a.serial,
      revoked: true,
      revocationReason: 'keyCompromise',
      revokedAt: expect.any(String),
    });
    const again = await h.api('POST', `/api/v1/certificates/${a.serial}/revoke`);
    expect(again.status).toBe(200);
    expect(again.body).toEqual(first.body);
    const read = await h.api('GET', `/api/v1/certificates/${a.serial}`, undefined, readKey);
    expect(read.body).toEqual(first.body);
    const audit = await h.api('GET', '/api/v1/audit');
    const entries = audit.body.items.filter(
      (e: { action: string; target: string }) =>
        e.action === 'certificate.revoke' && e.target === a.serial,
    );
    expect(entries).toHaveLength(2);
    expect(entries[1]).toMatchObject({ detail: { reason: 'keyCompromise' } });
  });

  test('fail/the revoked device is refused on its next Idle with 400, never 401', async () => {
    const res = await a.device.idle();
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body.toString())).toMatchObject({ code: 'ERR_DEVICE_CERT_REVOKED' });
    const checkin = await a.device.tokenUpdate();
    expect(checkin.status).toBe(400);
  });

  test('fail/SCEP renewal signed by the revoked certificate is refused (badCertId)', async () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const rep = await pkiOperation(privateKey, {
      renew: { certificate: a.certificate, privateKey: a.privateKey },
    });
    expect(rep).toMatchObject({ status: 'FAILURE', failInfo: 'badCertId' });
  });

  test('ok/the OpenAPI document declares the certificate routes and their scopes', async () => {
    const doc = await h.api('GET', '/api/v1/openapi.json', undefined, null);
    const paths = doc.body.paths as Record<string, Record<string, Record<string, unknown>>>;
    expect(paths['/api/v1/certificates']?.get?.['x-orchard-scope']).toBe('read');
    expect(paths['/api/v1/certificates/{serial}']?.get?.['x-orchard-scope']).toBe('read');
    const revoke = paths['/api/v1/certificates/{serial}/revoke']?.post;
    expect(revoke?.['x-orchard-scope']).toBe('write');
    expect(JSON.stringify(revoke?.requestBody)).toContain('reason');
  });

  test('ok/the other device keeps polling and can still renew', async () => {
    expectOk(await b.device.idle(), 'Idle of B');
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const rep = await pkiOperation(privateKey, {
      renew: { certificate: b.certificate, privateKey: b.privateKey },
    });
    expect(rep.status).toBe('SUCCESS');
  });

  test('ok/the revoked device re-enrolls with a new link and certificate and polls again', async () => {
    const again = await enrollDevice(a.device.keys);
    expect(again.device.enrollmentId).toBe(a.device.enrollmentId);
    expectOk(await again.device.idle(), 'Idle after re-enrollment');
    expect((await a.device.idle()).status).toBe(400);
    const read = await h.api('GET', `/api/v1/certificates/${again.serial}`);
    expect(read.body).toMatchObject({ revoked: false, boundEnrollmentId: a.device.enrollmentId });
  });
});

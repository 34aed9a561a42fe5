/**
 * U+0000, which PostgreSQL refuses in text and jsonb: a device reporting it in its check-in is
 * served on PostgreSQL (the adapter stores U+FFFD in its place, in writes and lookups alike, so
 * the device is found again by what it sends) instead of failing with 503 forever; an
 * administrator's JSON body or web form holding it is refused with 400 naming the field.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, test } from '@jest/globals';
import { Hono } from 'hono';
import { errorPage } from '../../src/http/web/pages.js';
import { formField } from '../../src/http/web/security.js';
import type { AuthenticateMessage, TokenUpdateMessage } from '../../src/protocol/checkin.js';
import { createMdmCore } from '../../src/service/core.js';
import type { MdmRequest } from '../../src/service/ports.js';
import { createPostgresStorage } from '../../src/storage/postgres/index.js';
import { adminApiFixture, callApi } from '../http/admin/support.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase('nul');
});

afterAll(async () => {
  await db.drop();
});

beforeEach(async () => {
  await db.reset();
});

const TOPIC = 'com.apple.mgmt.External.nul';
const AT = new Date(Date.UTC(2026, 0, 1));
const NUL = '\u0000';
const FFFD = '\uFFFD';

describe('U+0000 from devices on PostgreSQL', () => {
  test('ok/a check-in with U+0000 in its UDID, name and serial enrolls, stored with U+FFFD and found by what the device sends', async () => {
    const storage = await createPostgresStorage({ url: db.url, clock: () => AT, pool: { max: 3 } });
    const core = createMdmCore({ storage, clock: () => AT }, { topic: TOPIC });
    const udid = `0000-NUL${NUL}UDID`;
    const req: MdmRequest = {
      enrollment: { id: udid, type: 'device', deviceId: udid },
      body: new Uint8Array(),
    };
    const authenticate: AuthenticateMessage = {
      ...{ MessageType: 'Authenticate', UDID: udid, Topic: TOPIC },
      DeviceName: `Ann${NUL}s iPad`,
      SerialNumber: `F2LX${NUL}`,
      // A literal backslash-u0000 (six characters) is text like any other and stays as it is.
      ProductName: 'iPad13,1 \\u0000',
      Model: 'MY252LL/A',
    };
    const tokenUpdate: TokenUpdateMessage = {
      ...{ MessageType: 'TokenUpdate', UDID: udid, Topic: TOPIC },
      ...{ Token: new Uint8Array([1, 2, 3]), PushMagic: `magic${NUL}` },
    };
    await core.authenticate(req, authenticate);
    await core.tokenUpdate(req, tokenUpdate);
    // A result the delivery service merges into the facts: U+0000 in a key and in a value.
    expect(await storage.mergeFacts(udid, { [`Key${NUL}`]: `v${NUL}`, plain: 'x' })).toBe(true);

    const found = await storage.findEnrollment(udid);
    expect(found).toMatchObject({
      id: `0000-NUL${FFFD}UDID`,
      enrolled: true,
      facts: {
        DeviceName: `Ann${FFFD}s iPad`,
        SerialNumber: `F2LX${FFFD}`,
        ProductName: 'iPad13,1 \\u0000',
        [`Key${FFFD}`]: `v${FFFD}`,
        plain: 'x',
      },
    });
    expect((await storage.findPushInfo([udid]))[0]?.pushMagic).toBe(`magic${FFFD}`);
    // Commands queued for the id the device sends reach it.
    await core.enqueue([udid], { RequestType: 'DeviceInformation', Queries: ['DeviceName'] });
    expect(await storage.nextCommand(udid, { skipNotNow: false, now: AT })).toMatchObject({
      requestType: 'DeviceInformation',
    });
    await core.close();
    await storage.close();
  });
});

describe('U+0000 from administrators', () => {
  test('fail/an admin API JSON body holding U+0000 is refused 400 naming the field, before any handler', async () => {
    const fixture = await adminApiFixture();
    try {
      const answer = await callApi(fixture.app, fixture.writeKey, 'POST', '/api/v1/groups', {
        name: `Sales${NUL}`,
        parentId: 'root',
      });
      expect(answer.status).toBe(400);
      expect(answer.body).toMatchObject({ code: 'ERR_BAD_REQUEST', field: 'name' });
      const nested = await callApi(fixture.app, fixture.writeKey, 'POST', '/api/v1/groups', {
        name: 'Sales',
        extra: { [`k${NUL}`]: 1 },
      });
      expect(nested).toMatchObject({ status: 400, body: { field: 'extra' } });
    } finally {
      fixture.close();
    }
  });

  test('fail/a web form field holding U+0000 is refused with the 400 page', async () => {
    const app = new Hono();
    app.onError(errorPage);
    app.post('/form', async (c) => c.text((await formField(c, 'name')) ?? ''));
    const post = (name: string) =>
      app.request('/form', {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ name }).toString(),
      });
    const refused = await post(`a${NUL}b`);
    expect(refused.status).toBe(400);
    expect(await refused.text()).toContain('NUL');
    const fine = await post('a b');
    expect(await fine.text()).toBe('a b');
  });
});

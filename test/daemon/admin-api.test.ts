/**
 * Admin API behaviour on a running daemon: pagination, request validation on every kind of
 * input, schema validation of commands (422 naming the keys), cancel, enrollment tokens (single
 * and multi-use, expiry, revocation), audit entries, OpenAPI, health, metrics and request ids.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { ROUTES } from '../../src/http/admin/index.js';
import type { DeviceEmulator } from '../support/device-emulator.js';
import { startHarness, type Harness } from './harness.js';

let h: Harness;
let devices: DeviceEmulator[];

beforeAll(async () => {
  h = await startHarness();
  devices = [await h.device(), await h.device(), await h.device()];
}, 60_000);

afterAll(async () => {
  await h.close();
});

describe('enrollments', () => {
  test('ok/pages through every enrollment exactly once', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const q: string = cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`;
      const page = await h.api('GET', `/api/v1/enrollments?limit=2${q}`);
      expect(page.status).toBe(200);
      expect(page.body.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.body.items.map((e: { id: string }) => e.id));
      cursor = page.body.nextCursor;
    } while (cursor !== null);
    expect(seen.sort()).toEqual(devices.map((d) => d.enrollmentId).sort());
  });

  test('ok/one enrollment carries its device facts', async () => {
    const res = await h.api('GET', `/api/v1/enrollments/${devices[0]!.enrollmentId}`);
    expect(res.body).toMatchObject({
      type: 'device',
      enrolled: true,
      serialNumber: 'EMU0001',
      osVersion: '18.1',
    });
    expect(res.body.facts).toMatchObject({ Model: 'iPhone16,1' });
  });

  test.each([
    ['limit=0', 400],
    ['limit=1001', 400],
    ['limit=abc', 400],
    ['enrolled=maybe', 400],
    ['sort=id', 400],
  ])('fail/query %s is %d', async (q, status) => {
    const res = await h.api('GET', `/api/v1/enrollments?${q}`);
    expect(res.status).toBe(status);
    expect(res.body.code).toBe('ERR_BAD_REQUEST');
  });
});

describe('commands', () => {
  test('ok/queue, list, cancel, and a second cancel conflicts', async () => {
    const id = devices[1]!.enrollmentId;
    const q = await h.api('POST', `/api/v1/enrollments/${id}/commands`, {
      RequestType: 'ProfileList',
    });
    expect(q.status).toBe(201);
    const list = await h.api('GET', `/api/v1/enrollments/${id}/commands`);
    expect(list.body.items).toEqual([
      expect.objectContaining({ commandUuid: q.body.commandUuid, status: 'queued' }),
    ]);
    expect(
      (await h.api('DELETE', `/api/v1/enrollments/${id}/commands/${q.body.commandUuid}`)).status,
    ).toBe(200);
    const again = await h.api('DELETE', `/api/v1/enrollments/${id}/commands/${q.body.commandUuid}`);
    expect(again).toMatchObject({ status: 409, body: { code: 'ERR_CONFLICT' } });
    const read = await h.api('GET', `/api/v1/commands/${q.body.commandUuid}`);
    expect(read.body.targets[0].status).toBe('canceled');
  });

  test('ok/one command for many enrollments', async () => {
    const ids = devices.map((d) => d.enrollmentId);
    const q = await h.api('POST', '/api/v1/commands', {
      enrollmentIds: ids,
      command: { RequestType: 'SecurityInfo' },
    });
    expect(q.status).toBe(201);
    const read = await h.api('GET', `/api/v1/commands/${q.body.commandUuid}`);
    expect(read.body.targets.map((t: { enrollmentId: string }) => t.enrollmentId).sort()).toEqual(
      [...ids].sort(),
    );
  });

  test.each([
    [
      'unknown key',
      { RequestType: 'DeviceInformation', Queries: ['DeviceName'], Bogus: 1 },
      422,
      'ERR_VALIDATION',
    ],
    [
      'wrong type',
      { RequestType: 'DeviceInformation', Queries: 'DeviceName' },
      422,
      'ERR_VALIDATION',
    ],
    ['no RequestType', { Queries: [] }, 400, 'ERR_BAD_REQUEST'],
    ['an array', [1, 2], 400, 'ERR_BAD_REQUEST'],
  ])('fail/a command with %s', async (_what, body, status, code) => {
    const res = await h.api(
      'POST',
      `/api/v1/enrollments/${devices[0]!.enrollmentId}/commands`,
      body,
    );
    expect(res.status).toBe(status);
    expect(res.body.code).toBe(code);
    if (status === 422) expect(res.body.issues.length).toBeGreaterThan(0);
  });

  test.each([
    [
      'unknown enrollment',
      'POST',
      '/api/v1/enrollments/NOPE/commands',
      { RequestType: 'ProfileList' },
      404,
    ],
    [
      'unknown command',
      'GET',
      '/api/v1/commands/00000000-0000-4000-8000-000000000000',
      undefined,
      404,
    ],
    ['bad id grammar', 'GET', '/api/v1/enrollments/a%20b', undefined, 400],
    [
      'unknown ids in a batch',
      'POST',
      '/api/v1/commands',
      { enrollmentIds: ['NOPE'], command: { RequestType: 'ProfileList' } },
      404,
    ],
    [
      'empty batch',
      'POST',
      '/api/v1/commands',
      { enrollmentIds: [], command: { RequestType: 'ProfileList' } },
      400,
    ],
    [
      'unknown body field',
      'POST',
      '/api/v1/enrollment-tokens',
      { singleUse: true, color: 'red' },
      400,
    ],
    ['negative expiry', 'POST', '/api/v1/enrollment-tokens', { expiresInSeconds: -1 }, 400],
    ['bad scope', 'POST', '/api/v1/api-keys', { name: 'x', scope: 'admin' }, 400],
    ['wrong method', 'PUT', '/api/v1/enrollments', undefined, 405],
    ['unknown route', 'GET', '/api/v1/nothing', undefined, 404],
  ])('fail/%s', async (_what, method, path, body, status) => {
    const res = await h.api(method, path, body);
    expect(res.status).toBe(status);
    expect(typeof res.body.code).toBe('string');
  });

  test.each([
    [
      'malformed JSON',
      { 'content-type': 'application/json' },
      Buffer.from('{"RequestType":'),
      400,
      'ERR_BAD_JSON',
    ],
    [
      'text/plain',
      { 'content-type': 'text/plain' },
      Buffer.from('{}'),
      415,
      'ERR_UNSUPPORTED_MEDIA',
    ],
    [
      'a command body past 8 MiB',
      { 'content-type': 'application/json' },
      Buffer.alloc(8 * 1024 * 1024 + 10, 32),
      413,
      'ERR_BODY_TOO_LARGE',
    ],
  ])('fail/%s', async (_what, headers, body, status, code) => {
    const res = await h.raw(
      'POST',
      '/api/v1/commands',
      { ...headers, authorization: `Bearer ${h.apiKey}` },
      body,
    );
    expect(res.status).toBe(status);
    expect(JSON.parse(res.body)).toMatchObject({ code });
  });
});

describe('enrollment tokens', () => {
  const create = async (body: object): Promise<{ id: string; url: string }> =>
    (await h.api('POST', '/api/v1/enrollment-tokens', body)).body as { id: string; url: string };
  const fetchProfile = async (url: string) => (await fetch(url)).status;

  test('ok/single use answers until a device enrolls with it, multi-use many times, revoked never', async () => {
    const single = await create({});
    expect(await fetchProfile(single.url)).toBe(200);
    expect(await fetchProfile(single.url)).toBe(200);
    const multi = await create({ singleUse: false, user: 'alice' });
    expect(await fetchProfile(multi.url)).toBe(200);
    expect(await fetchProfile(multi.url)).toBe(200);
    expect((await h.api('DELETE', `/api/v1/enrollment-tokens/${multi.id}`)).status).toBe(200);
    expect(await fetchProfile(multi.url)).toBe(404);
    const listed = await h.api('GET', '/api/v1/enrollment-tokens');
    expect(listed.body.items.find((t: { id: string }) => t.id === multi.id)).toMatchObject({
      uses: 2,
      enrollments: 0,
      user: 'alice',
    });
    expect(JSON.stringify(listed.body)).not.toContain(multi.url.split('/enroll/')[1]);
  });

  test('fail/an expired token answers 404', async () => {
    const t = await create({ expiresInSeconds: 1 });
    await new Promise((r) => setTimeout(r, 1100));
    expect(await fetchProfile(t.url)).toBe(404);
  });

  test.each(['short', 'x'.repeat(43).replace(/x$/, '!'), '%2e%2e'])(
    'fail/token %s is 404',
    async (t) => {
      expect((await h.raw('GET', `/enroll/${t}`)).status).toBe(404);
    },
  );
});

describe('operations', () => {
  test('ok/audit log records who, what and when, newest first', async () => {
    const res = await h.api('GET', '/api/v1/audit?limit=1000');
    const actions = res.body.items.map((e: { action: string }) => e.action);
    expect(actions).toEqual(
      expect.arrayContaining(['command.create', 'command.cancel', 'enrollment-token.revoke']),
    );
    const seqs = res.body.items.map((e: { seq: number }) => e.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => b - a));
    expect(res.body.items[0].actor).toMatch(/^(ak_|device)/);
    expect(Date.parse(res.body.items[0].at)).not.toBeNaN();
  });

  test('ok/OpenAPI documents every route with its security', async () => {
    const doc = (await h.api('GET', '/api/v1/openapi.json', undefined, null)).body;
    for (const r of ROUTES) {
      const op = doc.paths[r.path][r.method.toLowerCase()];
      expect(op['x-orchard-scope']).toBe(r.auth);
      expect(op.security).toEqual(r.auth === 'public' ? [] : [{ apiKey: [] }]);
    }
  });

  test('ok/healthz reports storage and push certificate days left', async () => {
    const res = await h.api('GET', '/healthz', undefined, null);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      status: 'ok',
      storage: { ok: true },
      push: { enabled: true, topic: h.topic },
    });
    expect(res.body.push.daysLeft).toBeGreaterThan(300);
  });

  test('ok/metrics count requests by route template and enrollments by state', async () => {
    const res = await h.raw('GET', '/metrics');
    expect(res.headers['content-type']).toMatch(/^text\/plain; version=0.0.4/);
    expect(res.body).toMatch(
      /orchard_http_requests_total\{route="\/api\/v1\/enrollments",method="GET",status="200"\} \d+/,
    );
    expect(res.body).toMatch(
      /orchard_http_requests_total\{route="\/enroll\/\{token\}",method="GET",status="404"\}/,
    );
    expect(res.body).toMatch(/orchard_enrollments\{state="enrolled"\} 3/);
    expect(res.body).toMatch(/orchard_pushes_total\{outcome="\w+"\} \d+/);
    expect(res.body).toMatch(
      /orchard_http_request_duration_seconds_bucket\{le="\+Inf",route="\/mdm\/checkin"\} \d+/,
    );
  });

  test('ok/metrics add process and runtime metrics, build info and push certificate days left', async () => {
    const res = await h.raw('GET', '/metrics');
    expect(res.body).toMatch(/^process_cpu_user_seconds_total \d/m);
    expect(res.body).toMatch(/^process_resident_memory_bytes \d+/m);
    expect(res.body).toMatch(/^nodejs_eventloop_lag_seconds \d/m);
    expect(res.body).toContain('# TYPE nodejs_gc_duration_seconds histogram');
    expect(res.body).toMatch(
      /^orchard_build_info\{version="\d+\.\d+\.\d+[^"]*",node="v\d+[^"]*"\} 1$/m,
    );
    const days = /^orchard_push_certificate_days_left (-?\d+)$/m.exec(res.body)?.[1];
    const health = await h.api('GET', '/healthz', undefined, null);
    expect(Number(days)).toBe(health.body.push.daysLeft);
    expect(Number(days)).toBeGreaterThan(300);
  });

  test('ok/a request id is echoed and logged', async () => {
    const res = await h.raw('GET', '/healthz', { 'x-request-id': 'trace-123' });
    expect(res.headers['x-request-id']).toBe('trace-123');
    expect(h.logs.some((l) => l.includes('"reqId":"trace-123"'))).toBe(true);
    expect(h.logs.join('\n')).not.toContain(h.apiKey);
  });

  test('ok/an admin refusal is logged with the request id', async () => {
    const res = await h.raw('GET', '/api/v1/enrollments/NO-SUCH-DEVICE', {
      'x-request-id': 'trace-admin',
      authorization: `Bearer ${h.apiKey}`,
    });
    expect(res.status).toBe(404);
    const refusal = h.logs.find(
      (l) => l.includes('"code":"ERR_NOT_FOUND"') && l.includes('"reqId":"trace-admin"'),
    );
    expect(refusal).toBeDefined();
  });
});

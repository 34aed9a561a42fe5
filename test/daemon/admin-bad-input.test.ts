/**
 * Bad input on the admin API is the client's fault, never a 5xx: a foreign `cursor` on every
 * list, a JSON body of `null`, and (as a property over EVERY route in the table) random JSON
 * bodies, path parameters and query strings against a running daemon with a write key. Each
 * refusal is JSON with `code` and `message`; validation refusals name the `field`.
 * Runs per route: ORCHARD_PROPERTY_RUNS (or FC_RUNS), default 100; seed: ORCHARD_PROPERTY_SEED.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import fc from 'fast-check';
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROUTES, type AdminRoute } from '../../src/http/admin/index.js';
import { startHarness, type Harness } from './harness.js';

const RUNS = Number(process.env.ORCHARD_PROPERTY_RUNS ?? process.env.FC_RUNS ?? 100);
const SEED = process.env.ORCHARD_PROPERTY_SEED;

let h: Harness;
/** Values of each path parameter found on the running daemon, by `collection:name` or `name`. */
const plausible: Record<string, string[]> = {};
/** Cursors the lists really returned, to be replayed on other lists. */
const cursors: string[] = [];

async function nextCursor(path: string): Promise<void> {
  const res = await h.api('GET', `${path}?limit=1`);
  expect(res.status).toBe(200);
  if (typeof res.body.nextCursor === 'string') cursors.push(res.body.nextCursor as string);
}

beforeAll(async () => {
  h = await startHarness();
  const devices = [await h.device(), await h.device()];
  const ids = devices.map((d) => d.enrollmentId);
  const uuids: string[] = [];
  for (const id of [...ids, ...ids]) {
    const res = await h.api('POST', `/api/v1/enrollments/${id}/commands`, {
      RequestType: 'ProfileList',
    });
    uuids.push(res.body.commandUuid as string);
  }
  const tokens: string[] = [];
  const keys: string[] = [];
  for (let i = 0; i < 3; i++) {
    tokens.push((await h.api('POST', '/api/v1/enrollment-tokens')).body.id as string);
    // Keys the property may revoke; the harness key stays out of its reach.
    const key = await h.api('POST', '/api/v1/api-keys', { name: `victim${i}`, scope: 'read' });
    keys.push(key.body.id as string);
  }
  const caSerial = new X509Certificate(readFileSync(join(h.dataDir, 'ca', 'ca.pem'))).serialNumber;
  plausible['enrollments:id'] = ids;
  plausible['enrollment-tokens:id'] = tokens;
  plausible['api-keys:id'] = keys;
  plausible.id = [...ids, ...tokens, 'probe-id'];
  plausible.uuid = [...uuids, '00000000-0000-4000-8000-000000000000'];
  plausible.serial = [caSerial, caSerial.toLowerCase(), '01', 'ff:ee'];
  for (const path of [
    '/api/v1/enrollments',
    `/api/v1/enrollments/${ids[0] ?? ''}/commands`,
    '/api/v1/audit',
    '/api/v1/enrollment-tokens',
  ])
    await nextCursor(path);
}, 120_000);

afterAll(async () => {
  await h.close();
});

/** The error body, asserting the answer is a JSON refusal with `code` and `message`. */
function refusal(res: { status: number; body: string }): Record<string, unknown> {
  const body = JSON.parse(res.body) as Record<string, unknown>;
  expect(typeof body.code).toBe('string');
  expect(typeof body.message).toBe('string');
  return body;
}

async function get(path: string): Promise<{ status: number; body: string }> {
  return h.raw('GET', path, { authorization: `Bearer ${h.apiKey}` });
}

describe('issue 12 #5: a foreign cursor or a null body is a 400 naming the field', () => {
  const lists = (): string[] => [
    '/api/v1/enrollments',
    `/api/v1/enrollments/${plausible['enrollments:id']?.[0] ?? ''}/commands`,
    '/api/v1/audit',
  ];
  test.each([
    'garbage',
    '!!not-a-cursor',
    'eyJhIjoxfQ',
    'MQ',
    'InN0cmluZyI',
    '1.5',
    'x'.repeat(512),
  ])(
    'fail/?cursor=%s on the enrollments, commands and audit lists is 400 ERR_BAD_REQUEST field cursor',
    async (cursor) => {
      for (const path of lists()) {
        const res = await get(`${path}?cursor=${encodeURIComponent(cursor)}`);
        // A cursor of the wrong list may still decode as the right type: then it is a page.
        if (res.status === 200) continue;
        expect([path, res.status]).toEqual([path, 400]);
        expect(refusal(res)).toMatchObject({ code: 'ERR_BAD_REQUEST', field: 'cursor' });
      }
    },
  );

  test('fail/?cursor=garbage is refused on every list that takes a cursor', async () => {
    for (const path of lists()) {
      const res = await get(`${path}?cursor=garbage`);
      expect([path, res.status]).toEqual([path, 400]);
      expect(refusal(res)).toMatchObject({ code: 'ERR_BAD_REQUEST', field: 'cursor' });
    }
  });

  test.each(ROUTES.filter((r) => r.method === 'POST').map((r) => [r.path, r] as const))(
    'fail/a JSON body of null on POST %s is 400 naming the field',
    async (_path, route) => {
      const path = route.path.replace(
        /\{(\w+)\}/g,
        (_m, name: string) => plausibleParam(route, name)[0]!,
      );
      const res = await h.raw(
        'POST',
        path,
        { authorization: `Bearer ${h.apiKey}`, 'content-type': 'application/json' },
        Buffer.from('null'),
      );
      expect(res.status).toBe(400);
      const body = refusal(res);
      expect(body.code).toBe('ERR_BAD_REQUEST');
      expect(['body', 'command']).toContain(body.field);
    },
  );
});

// --- the property ---------------------------------------------------------------------------

const NAMES = [
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  'RequestType',
  'Queries',
  'Payload',
  'Identifier',
  'enrollmentIds',
  'command',
  'name',
  'scope',
  'singleUse',
  'expiresInSeconds',
  'user',
  'reason',
];

const text = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.string({ unit: 'binary', maxLength: 12 }),
  fc.constantFrom('', '\u0000', 'a\u0000b', '\uD800', '..', '%', 'x'.repeat(300), ...NAMES),
);
const numberText = fc.oneof(
  fc.integer().map(String),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((n) => JSON.stringify(n)),
  fc.constantFrom(
    '1e400',
    '-1e400',
    '123456789012345678901234567890',
    '9007199254740993',
    '-0',
    '0.1',
    '1e-400',
  ),
);
const key = fc.oneof(text, fc.constantFrom(...NAMES));

/** Random JSON as text, so that `__proto__` keys and numbers beyond double survive as sent. */
const { json } = fc.letrec<{ json: string }>((tie) => ({
  json: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constantFrom('null', 'true', 'false'),
    numberText,
    text.map((s) => JSON.stringify(s)),
    fc.array(tie('json'), { maxLength: 4 }).map((a) => `[${a.join(',')}]`),
    fc
      .array(fc.tuple(key, tie('json')), { maxLength: 4 })
      .map((kv) => `{${kv.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',')}}`),
  ),
}));

const depth = fc.integer({ min: 1, max: 20_000 });
const nestedArrays = depth.map((n) => '['.repeat(n) + ']'.repeat(n));
const nestedObjects = depth.map((n) => '{"a":'.repeat(n) + '1' + '}'.repeat(n));

/** Deep nesting at the root, and inside a command that passes the first checks. */
function deepBody(route: AdminRoute, ids: readonly string[]): fc.Arbitrary<string> {
  const command = fc.oneof(
    nestedArrays.map((v) => `{"RequestType":"DeviceInformation","Queries":${v}}`),
    nestedObjects.map(
      (v) => `{"RequestType":"Settings","Settings":[{"Item":"DeviceName","DeviceName":${v}}]}`,
    ),
    nestedObjects.map((v) => `{"RequestType":"ProfileList","Extra":${v}}`),
  );
  const wrapped =
    route.path === '/api/v1/commands'
      ? command.map((c) => `{"enrollmentIds":${JSON.stringify(ids.slice(0, 1))},"command":${c}}`)
      : command;
  return fc.oneof(nestedArrays, nestedObjects, wrapped);
}

/** A JSON string literal of one of `values`. */
const str = (...values: string[]): fc.Arbitrary<string> =>
  fc.constantFrom(...values.map((v) => JSON.stringify(v)));
/** Mostly `good`, sometimes any JSON: early checks pass, so later code meets hostile values. */
const mostly = (good: fc.Arbitrary<string>): fc.Arbitrary<string> =>
  fc.oneof({ weight: 4, arbitrary: good }, { weight: 1, arbitrary: json });
const field = (name: string, value: fc.Arbitrary<string>): fc.Arbitrary<string> =>
  value.map((v) => `${JSON.stringify(name)}:${v}`);
/** A JSON object with every `required` member, some `optional` ones, and rarely a stranger. */
const obj = (
  required: fc.Arbitrary<string>[],
  optional: fc.Arbitrary<string>[] = [],
): fc.Arbitrary<string> =>
  fc
    .tuple(
      fc.tuple(...required),
      fc.subarray(optional.map((_, i) => i)),
      fc.tuple(...optional),
      fc.option(
        key.chain((k) => field(k, json)),
        { freq: 5 },
      ),
    )
    .map(([req, chosen, opt, stranger]) => {
      const parts = [...req, ...chosen.map((i) => opt[i] ?? ''), ...(stranger ? [stranger] : [])];
      return `{${parts.join(',')}}`;
    });
const type = (t: string): fc.Arbitrary<string> => field('RequestType', str(t));
const listOf = (item: fc.Arbitrary<string>): fc.Arbitrary<string> =>
  fc.array(item, { maxLength: 4 }).map((a) => `[${a.join(',')}]`);

/** Commands of a few shapes, each mostly well-formed, with hostile values in places. */
const commandJson: fc.Arbitrary<string> = fc.oneof(
  obj([type('ProfileList')]),
  obj([type('SecurityInfo')]),
  obj(
    [type('DeviceInformation')],
    [field('Queries', mostly(listOf(mostly(str('DeviceName', 'OSVersion', 'UDID')))))],
  ),
  obj([type('InstallProfile')], [field('Payload', mostly(str('PGRpY3QvPg==', '')))]),
  obj([type('RemoveProfile')], [field('Identifier', mostly(str('com.example.x')))]),
  obj(
    [type('Settings')],
    [
      field(
        'Settings',
        mostly(
          listOf(mostly(obj([field('Item', str('DeviceName'))], [field('DeviceName', json)]))),
        ),
      ),
    ],
  ),
  obj([type('EraseDevice')], [field('PIN', mostly(str('123456')))]),
  obj([
    field(
      'RequestType',
      fc.oneof(
        text.map((t) => JSON.stringify(t)),
        json,
      ),
    ),
  ]),
);

/** Bodies that get past the first checks of a route, so deeper code sees hostile values. */
function plausibleBody(route: AdminRoute, ids: readonly string[]): fc.Arbitrary<string> {
  if (route.path.endsWith('/commands') && route.path.includes('{id}')) return commandJson;
  if (route.path === '/api/v1/commands')
    return obj([
      field('enrollmentIds', mostly(listOf(mostly(str(...ids))))),
      field('command', mostly(commandJson)),
    ]);
  if (route.path === '/api/v1/api-keys')
    return obj([
      field(
        'name',
        mostly(
          fc.oneof(
            str('ci', 'x'.repeat(64)),
            text.map((t) => JSON.stringify(t)),
          ),
        ),
      ),
      field('scope', mostly(str('read', 'write'))),
    ]);
  if (route.path === '/api/v1/enrollment-tokens')
    return obj(
      [],
      [
        field('singleUse', mostly(fc.constantFrom('true', 'false'))),
        field('expiresInSeconds', mostly(numberText)),
        field('user', mostly(text.map((t) => JSON.stringify(t)))),
      ],
    );
  if (route.path.endsWith('/revoke'))
    return obj([], [field('reason', mostly(str('superseded', 'keyCompromise')))]);
  return fc.constantFrom('{}', '{"x":1}');
}

const garbageParam = fc.oneof(
  text,
  fc.string({ unit: 'grapheme', maxLength: 30 }),
  fc.constantFrom('-1', '0', 'f'.repeat(42), '00:11:22', 'a:b:c', 'x'.repeat(257), '%2e%2e'),
);

/** Percent-encodes a segment; lone surrogates (which encodeURIComponent refuses) become U+FFFD. */
const encodeSegment = (s: string): string =>
  encodeURIComponent(s.replace(/[\uD800-\uDFFF]/g, '\uFFFD'));

/** Values of path parameter `name` that exist in the route's collection. */
function plausibleParam(route: AdminRoute, name: string): string[] {
  const collection = route.path.split('/')[3] ?? '';
  return plausible[`${collection}:${name}`] ?? plausible[name] ?? ['probe-id'];
}

function pathOf(route: AdminRoute): fc.Arbitrary<string> {
  const names = [...route.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1] ?? '');
  const values = names.map((n) =>
    fc.oneof(
      { weight: 3, arbitrary: fc.constantFrom(...plausibleParam(route, n)) },
      { weight: 2, arbitrary: garbageParam },
    ),
  );
  return fc.tuple(...values).map((vs) => {
    let i = 0;
    return route.path.replace(/\{\w+\}/g, () => encodeSegment(vs[i++] ?? ''));
  });
}

const queryValue = fc.oneof(
  text,
  numberText,
  fc.constantFrom('true', 'false', '1', '1000', '1001', '0x10', ' 5', '1.5'),
  fc.constant(null).map(() => cursors[0] ?? 'x'),
  fc.nat({ max: 10 }).map((i) => cursors[i % Math.max(cursors.length, 1)] ?? 'x'),
  json.map((j) => Buffer.from(j).toString('base64url')),
);
/** Query parameters a GET route knows besides `limit` and `cursor`. */
const EXTRA_QUERY: Record<string, string[]> = {
  '/api/v1/enrollments': ['enrolled'],
  '/api/v1/certificates': ['enrollmentId'],
};

/** Mostly the route's own parameters with hostile values, sometimes a stranger. */
function queryOf(route: AdminRoute): fc.Arbitrary<string> {
  const names = ['limit', 'cursor', ...(EXTRA_QUERY[route.path] ?? [])];
  const plausibleValue: Record<string, fc.Arbitrary<string>> = {
    limit: fc.constantFrom('1', '2', '100', '1000'),
    enrolled: fc.constantFrom('true', 'false'),
    enrollmentId: fc.constantFrom(...(plausible.id ?? ['probe-id'])),
  };
  const known = fc.record(
    Object.fromEntries(
      names.map((n) => [
        n,
        fc.oneof(
          { weight: n === 'cursor' ? 0 : 3, arbitrary: plausibleValue[n] ?? queryValue },
          { weight: 2, arbitrary: queryValue },
        ),
      ]),
    ),
    { requiredKeys: [] },
  );
  const stranger = fc.option(fc.tuple(fc.oneof(text, fc.constantFrom(...names)), queryValue), {
    freq: 5,
  });
  return fc.tuple(known, stranger).map(([k, extra]) => {
    const q = new URLSearchParams(Object.entries(k) as [string, string][]);
    if (extra !== null) q.append(...extra);
    return q.toString();
  });
}

interface Probe {
  method: string;
  path: string;
  contentType: string | undefined;
  body: string | undefined;
}

const HOSTILE = [
  'null',
  '[]',
  '{}',
  '""',
  '0',
  '1e400',
  '{"__proto__":null}',
  '\u0000',
  '{"a":1,"a":2}',
];

function probe(route: AdminRoute): fc.Arbitrary<Probe> {
  const ids = plausible['enrollments:id'] ?? [];
  return fc.record({
    method: fc.oneof(
      { weight: 9, arbitrary: fc.constant(route.method) },
      { weight: 1, arbitrary: fc.constantFrom('GET', 'POST', 'DELETE', 'PUT') },
    ),
    path: fc
      .tuple(pathOf(route), fc.option(queryOf(route), { freq: route.method === 'GET' ? 5 : 2 }))
      .map(([p, q]) => (q === null || q === '' ? p : `${p}?${q}`)),
    contentType: fc.oneof(
      { weight: 8, arbitrary: fc.constant('application/json') },
      {
        weight: 1,
        arbitrary: fc.constantFrom(undefined, 'application/json; charset=utf-8', 'text/plain'),
      },
    ),
    body:
      route.method === 'POST'
        ? fc.oneof(
            { weight: 6, arbitrary: plausibleBody(route, ids) },
            { weight: 1, arbitrary: json },
            { weight: 1, arbitrary: fc.constantFrom(...HOSTILE) },
            { weight: 1, arbitrary: deepBody(route, ids) },
            { weight: 1, arbitrary: fc.constant(undefined) },
          )
        : fc.oneof(
            { weight: 8, arbitrary: fc.constant(undefined) },
            { weight: 1, arbitrary: fc.constantFrom(...HOSTILE) },
            { weight: 1, arbitrary: json },
          ),
  });
}

function lastError(): string {
  const line = [...h.logs].reverse().find((l) => l.includes('"level":50'));
  return line === undefined ? '(no error logged)' : line.slice(0, 2000);
}

describe('issue 12 #5: random input on every admin route (property)', () => {
  test.each(ROUTES.map((r) => [`${r.method} ${r.path}`, r] as const))(
    'fail/%s: no 5xx, every refusal is JSON with code and message',
    async (_name, route) => {
      await fc.assert(
        fc.asyncProperty(probe(route), async (p) => {
          const body = p.body === undefined ? undefined : Buffer.from(p.body);
          // A declared length, so that a GET or DELETE body is framed and reaches the router.
          const res = await h.raw(
            p.method,
            p.path,
            {
              authorization: `Bearer ${h.apiKey}`,
              ...(p.contentType === undefined ? {} : { 'content-type': p.contentType }),
              ...(body === undefined ? {} : { 'content-length': String(body.length) }),
            },
            body,
          );
          if (res.status >= 500)
            throw new Error(
              `${p.method} ${p.path} answered ${res.status} ${res.body}\n${lastError()}`,
            );
          expect(typeof JSON.parse(res.body)).toBe('object');
          if (res.status >= 400) refusal(res);
        }),
        { numRuns: RUNS, ...(SEED === undefined ? {} : { seed: Number(SEED) }) },
      );
    },
    300_000,
  );
});

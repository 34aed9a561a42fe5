/**
 * Validation of the policy routes from their schemas: every body-taking route (and the query
 * and path parameters) refuses bad input with 400 `ERR_BAD_REQUEST` naming the field, before a
 * handler touches a dependency (the fixture's policy and delivery services throw if used).
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { adminApiFixture, callApi, type AdminApiFixture } from './support.js';

let fixture: AdminApiFixture;

beforeAll(async () => {
  fixture = await adminApiFixture();
});

afterAll(() => {
  fixture.close();
});

/** Sends `raw` (a JSON text) as the body, or no body. */
async function send(method: string, path: string, raw?: string) {
  const res = await fixture.app.request(path, {
    method,
    headers: {
      authorization: `Bearer ${fixture.writeKey}`,
      ...(raw === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(raw === undefined ? {} : { body: raw }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

const POLICIES = '/api/v1/policies';
const ONE = '/api/v1/policies/pol_1';
const ASSIGN = '/api/v1/policies/pol_1/profiles/prf_1';
const GROUP = '/api/v1/groups/global/policy';

describe.each([
  // name, method, path, body, field
  ['fail/a policy that is null', 'POST', POLICIES, 'null', 'body'],
  ['fail/a policy without a name', 'POST', POLICIES, '{"groupId":"global"}', 'name'],
  ['fail/a policy with an empty name', 'POST', POLICIES, '{"name":"","groupId":"g"}', 'name'],
  [
    'fail/a policy with a long name',
    'POST',
    POLICIES,
    `{"name":"${'n'.repeat(129)}","groupId":"g"}`,
    'name',
  ],
  ['fail/a policy without a group', 'POST', POLICIES, '{"name":"x"}', 'groupId'],
  [
    'fail/a policy with a bad group id',
    'POST',
    POLICIES,
    '{"name":"x","groupId":"a b"}',
    'groupId',
  ],
  [
    'fail/a policy with a numeric description',
    'POST',
    POLICIES,
    '{"name":"x","groupId":"g","description":5}',
    'description',
  ],
  [
    'fail/a policy with a long description',
    'POST',
    POLICIES,
    `{"name":"x","groupId":"g","description":"${'d'.repeat(1025)}"}`,
    'description',
  ],
  ['fail/a policy with a stranger', 'POST', POLICIES, '{"name":"x","groupId":"g","x":1}', 'x'],
  ['fail/a change that is an array', 'PATCH', ONE, '[1]', 'body'],
  ['fail/an empty change', 'PATCH', ONE, '{}', 'body'],
  ['fail/a change with a numeric name', 'PATCH', ONE, '{"name":1}', 'name'],
  ['fail/a change to the group ..', 'PATCH', ONE, '{"groupId":".."}', 'groupId'],
  ['fail/a change with a stranger', 'PATCH', ONE, '{"owner":"x"}', 'owner'],
  ['fail/an assignment that is a string', 'PUT', ASSIGN, '"auto"', 'body'],
  [
    'fail/an unknown assignment type',
    'PUT',
    ASSIGN,
    '{"assignmentType":"sometimes"}',
    'assignmentType',
  ],
  ['fail/an unknown removal control', 'PUT', ASSIGN, '{"removal":"maybe"}', 'removal'],
  ['fail/a dryRun that is a string', 'PUT', ASSIGN, '{"dryRun":"yes"}', 'dryRun'],
  ['fail/an assignment with a stranger', 'PUT', ASSIGN, '{"password":"x"}', 'password'],
  ['fail/an unassignment with a body', 'DELETE', ASSIGN, '{"dryRun":true}', 'body'],
  ['fail/a default policy that is null', 'PUT', GROUP, 'null', 'body'],
  ['fail/a default policy without policyId', 'PUT', GROUP, '{}', 'policyId'],
  ['fail/a default policy with a numeric policyId', 'PUT', GROUP, '{"policyId":5}', 'policyId'],
  ['fail/a default policy with a bad policyId', 'PUT', GROUP, '{"policyId":"a b"}', 'policyId'],
  [
    'fail/a default policy with a bad dryRun',
    'PUT',
    GROUP,
    '{"policyId":null,"dryRun":1}',
    'dryRun',
  ],
  ['fail/a default policy with a stranger', 'PUT', GROUP, '{"policyId":null,"x":1}', 'x'],
])('%s', (_name, method, path, body, field) => {
  test('is 400 ERR_BAD_REQUEST naming the field', async () => {
    const res = await send(method, path, body);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ code: 'ERR_BAD_REQUEST', field });
    expect(typeof res.body.message).toBe('string');
  });
});

describe('query and path parameters', () => {
  test.each([
    ['GET', `${POLICIES}?limit=0`, 'limit'],
    ['GET', `${POLICIES}?groupId=a%20b`, 'groupId'],
    ['GET', `${POLICIES}?owner=x`, 'owner'],
    ['GET', '/api/v1/policies/a%20b', 'id'],
    ['GET', '/api/v1/policies/pol_1/profiles/a%20b/removal-password', 'profileId'],
    ['DELETE', `${ASSIGN}?dryRun=maybe`, 'dryRun'],
    ['GET', '/api/v1/groups/a%20b/policy', 'id'],
  ])('fail/%s %s names %s', async (method, path, field) => {
    const res = await callApi(fixture.app, fixture.writeKey, method, path);
    expect(res).toMatchObject({ status: 400, body: { code: 'ERR_BAD_REQUEST', field } });
  });
});

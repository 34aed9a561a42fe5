/** The ACME paths the core routes, and their labels for logs and metrics (never an id). */
import { describe, expect, test } from '@jest/globals';
import { acmePathLabel, parseAcmePath } from '../../src/acme/urls.js';

const ID = 'AbCdEfGhIjKlMnOpQrStUv';

describe('parseAcmePath', () => {
  test.each([
    ['/directory', { kind: 'directory' }],
    ['/new-nonce', { kind: 'new-nonce' }],
    ['/new-account', { kind: 'new-account' }],
    ['/new-order', { kind: 'new-order' }],
    ['/key-change', { kind: 'key-change' }],
    [`/order/${ID}`, { kind: 'order', id: ID }],
    [`/order/${ID}/finalize`, { kind: 'finalize', id: ID }],
    [`/authz/${ID}`, { kind: 'authz', id: ID }],
    [`/chall/${ID}`, { kind: 'chall', id: ID }],
    [`/cert/${ID}`, { kind: 'cert', id: ID }],
    [`/acct/${ID}`, { kind: 'acct', id: ID }],
  ])('ok/%s', (path, route) => {
    expect(parseAcmePath(path)).toEqual(route);
  });

  test.each([
    '',
    '/',
    'directory',
    '/directory/',
    '/order/short',
    `/order/${ID}/`,
    `/authz/${ID}/finalize`,
    `/order/${ID}/finalize/x`,
    `/order/${ID}%2e`,
    `/order/../${ID}`,
    `//order/${ID}`,
    `/certs/${ID}`,
  ])('fail/%s names nothing', (path) => {
    expect(parseAcmePath(path)).toBeUndefined();
  });
});

test.each([
  ['/new-order', '/new-order'],
  [`/order/${ID}/finalize`, '/order/{id}/finalize'],
  [`/chall/${ID}`, '/chall/{id}'],
  ['/anything/else', '{unknown}'],
])('ok/label of %s is %s', (path, label) => {
  expect(acmePathLabel(path)).toBe(label);
});

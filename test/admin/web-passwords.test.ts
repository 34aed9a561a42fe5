/** Password hashing of the portal and the console: format, verification, the dummy check. */
import { describe, expect, test } from '@jest/globals';
import {
  hashPassword,
  passwordProblem,
  verifyDummyPassword,
  verifyPassword,
} from '../../src/admin/passwords.js';

describe('passwords', () => {
  test('ok/a hash is self-describing scrypt and verifies only its password', async () => {
    const stored = await hashPassword('correct horse battery');
    expect(stored).toMatch(/^scrypt\$15\$8\$1\$[A-Za-z0-9+/=]{24}\$[A-Za-z0-9+/=]{44}$/);
    expect(await verifyPassword('correct horse battery', stored)).toBe(true);
    expect(await verifyPassword('correct horse batterY', stored)).toBe(false);
  });

  test('ok/two hashes of one password differ (fresh salt)', async () => {
    const [a, b] = await Promise.all([
      hashPassword('same password!'),
      hashPassword('same password!'),
    ]);
    expect(a).not.toBe(b);
  });

  test.each([
    ['fail/not scrypt', 'bcrypt$15$8$1$AAAA$AAAA'],
    ['fail/missing fields', 'scrypt$15$8'],
    [
      'fail/absurd cost',
      'scrypt$99$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=',
    ],
    ['fail/short key', 'scrypt$15$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAA'],
  ])('%s: a malformed stored hash is no match', async (_name, stored) => {
    expect(await verifyPassword('whatever password', stored)).toBe(false);
  });

  test('ok/the dummy check answers false', async () => {
    expect(await verifyDummyPassword('anything at all')).toBe(false);
  });

  test.each([
    ['fail/11 characters', 'a'.repeat(11), /at least 12/],
    ['fail/too long', 'a'.repeat(1025), /at most 1024/],
  ])('%s', (_name, password, problem) => {
    expect(passwordProblem(password)).toMatch(problem);
  });

  test('ok/12 characters are enough', () => {
    expect(passwordProblem('a'.repeat(12))).toBeUndefined();
  });
});

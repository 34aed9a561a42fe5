import { afterAll, beforeAll, describe, expect, jest, test } from '@jest/globals';
import { execFile } from 'node:child_process';
import { ensureDistBuilt } from '../support/dist.js';
import { createTestPki, opensslVerify, type TestPki } from './sign-fixtures.js';

// Each case starts `node` with tsx several times; on two busy cores that takes a while.
jest.setTimeout(120_000);

let pki: TestPki;
beforeAll(async () => {
  pki = await createTestPki();
  await ensureDistBuilt();
}, 180_000);
afterAll(async () => {
  await pki.cleanup();
});

function example(...args: string[]): Promise<{ code: number; stdout: Buffer; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      'node',
      ['--import', 'tsx', 'examples/sign-profile.ts', ...args],
      { encoding: 'buffer' },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
        resolve({ code, stdout, stderr: stderr.toString() });
      },
    );
  });
}

describe('examples/sign-profile.ts', () => {
  test('ok/its output verifies with openssl against the root', async () => {
    const r = await example(pki.ecSigner.certPath, pki.ecSigner.keyPath, pki.intermediate.certPath);
    expect(r.stderr).toMatch(/signed com\.example\.wifi as CN=Orchard Test ec-signer/);
    expect(r.code).toBe(0);
    const { stdout } = await opensslVerify(pki, 'example.mobileconfig', r.stdout);
    expect(stdout.toString()).toContain('<string>Example Corp</string>');
  });

  test('fail/without arguments it prints its usage and exits 2', async () => {
    const r = await example();
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^usage: /);
  });
});

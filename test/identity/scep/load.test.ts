/**
 * Parallel load: 8 concurrent clients, 400 enrollments against one server on 127.0.0.1 with the
 * SQLite store. 40 of them are Debian's scepclient processes (5 per client lane), the other 360
 * our own client over HTTP: 400 scepclient processes would take minutes on two cores.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import type { CertificateAuthority } from '../../../src/identity/ca/authority.js';
import { openSqliteCaStorage, type SqliteCaStorage } from '../../../src/storage/sqlite/index.js';
import { staticChallenge } from '../../../src/identity/scep/challenge.js';
import { createScepHandler } from '../../../src/http/scep.js';
import { makeTmpDir } from '../../support/openssl.js';
import { startScepServer, type ScepTestServer } from '../../support/scep-server.js';
import { clientKey, enrollHttp, setupCa } from './helpers.js';

const SECRET = 'load-secret';
const LANES = 8;
const TOTAL = 400;
const SCEPCLIENT_PER_LANE = 5;
let storage: SqliteCaStorage;
let ca: CertificateAuthority;
let server: ScepTestServer;
let dir: string;

beforeAll(async () => {
  const tmp = makeTmpDir('orchard-scep-load-');
  dir = tmp.dir;
  storage = openSqliteCaStorage({ path: tmp.path('ca.sqlite') });
  ({ ca } = await setupCa({ store: storage.certificates }));
  server = await startScepServer(
    createScepHandler({ ca, validator: staticChallenge(SECRET) }, { allowSingleDes: true }),
  );
  for (let i = 0; i < LANES; i++) clientKey('rsa-2048', i);
});

afterAll(async () => {
  await server.close();
  storage.close();
});

function scepclient(lane: number, i: number): Promise<string> {
  const d = `${dir}/lane-${String(lane)}-${String(i)}`;
  mkdirSync(d);
  return new Promise((resolve, reject) => {
    execFile(
      'scepclient',
      [
        '-server-url',
        server.url,
        '-challenge',
        SECRET,
        '-cn',
        `sc-${String(lane)}-${String(i)}`,
        '-private-key',
        `${d}/key.pem`,
        '-certificate',
        `${d}/cert.pem`,
      ],
      { timeout: 60_000 },
      (error, stdout) => {
        if (error) reject(new Error(`scepclient failed: ${stdout}`));
        else resolve(new X509Certificate(readFileSync(`${d}/cert.pem`)).serialNumber);
      },
    );
  });
}

async function lane(index: number, count: number): Promise<string[]> {
  const serials: string[] = [];
  for (let i = 0; i < count; i++) {
    if (i < SCEPCLIENT_PER_LANE) {
      serials.push(await scepclient(index, i));
      continue;
    }
    const rep = await enrollHttp(server.url, ca, {
      key: clientKey('rsa-2048', index),
      subject: `CN=load-${String(index)}-${String(i)}`,
      challenge: SECRET,
    });
    if (rep.status !== 'SUCCESS' || rep.certificate === undefined)
      throw new Error(`enrollment failed: ${rep.status}`);
    serials.push(rep.certificate.serialNumber);
  }
  return serials;
}

describe('parallel enrollment', () => {
  test('ok/8 concurrent clients, 400 enrollments: no failure, no duplicate serial, all recorded', async () => {
    const lanes = await Promise.all(
      Array.from({ length: LANES }, (_, i) => lane(i, TOTAL / LANES)),
    );
    const serials = lanes.flat().map((s) => s.toLowerCase().replace(/^0+/, ''));
    expect(serials).toHaveLength(TOTAL);
    expect(new Set(serials).size).toBe(TOTAL);
    expect(await storage.certificates.countIssued()).toBe(TOTAL);
    for (const s of serials.slice(0, 20)) expect(await ca.findIssuedCertificate(s)).toBeDefined();
  }, 240_000);
});

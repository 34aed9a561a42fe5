/**
 * The embedding examples run as real programs (`node --import tsx examples/x.ts`, importing
 * 'orchard-mdm' from dist/), on a free port on 127.0.0.1, and a signed device enrolls and polls
 * against each over HTTP.
 */
import { afterAll, beforeAll, describe, expect, jest, test } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { commandOf, DeviceEmulator } from './support/device-emulator.js';
import { ensureDistBuilt } from './support/dist.js';
import { makeCa, makeLeaf, type TestIdentity } from './support/pki.js';

// Each example starts node with tsx; on two busy cores that takes a while.
jest.setTimeout(120_000);

const TOPIC = 'com.apple.mgmt.External.examples-test';

let ca: TestIdentity;
let dir: string;
beforeAll(async () => {
  await ensureDistBuilt();
  ca = await makeCa({ subject: 'CN=Examples Device CA', keyType: 'ec-p256' });
  dir = mkdtempSync(join(tmpdir(), 'orchard-examples-'));
  writeFileSync(join(dir, 'ca.pem'), ca.certPem);
}, 180_000);
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

interface Running {
  child: ChildProcess;
  url: string;
  output: () => string;
}

function start(file: string): Promise<Running> {
  const child = spawn(process.execPath, ['--import', 'tsx', file], {
    env: {
      PATH: process.env.PATH ?? '',
      PORT: '0',
      DEVICE_CA: join(dir, 'ca.pem'),
      MDM_TOPIC: TOPIC,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer): void => {
      out += chunk.toString();
      const m = /on (http:\/\/127\.0\.0\.1:\d+)\/mdm/.exec(out);
      if (m?.[1]) resolve({ child, url: m[1], output: () => out });
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => {
      reject(new Error(`${file} exited with ${String(code)}:\n${out}`));
    });
  });
}

function stop(r: Running): Promise<unknown> {
  return new Promise((resolve) => {
    if (r.child.exitCode !== null) {
      resolve(r.child.exitCode);
      return;
    }
    r.child.once('exit', resolve);
    r.child.kill('SIGTERM');
  });
}

async function signedDevice(url: string): Promise<DeviceEmulator> {
  const leaf = await makeLeaf(ca, { subject: `CN=${randomUUID()}`, keyType: 'ec-p256' });
  return new DeviceEmulator({
    baseUrl: url,
    topic: TOPIC,
    identity: { certificate: leaf.certificate, privateKey: leaf.privateKey },
  });
}

describe('examples', () => {
  test('ok/node-http-server.ts: enroll, get the DeviceInformation it queues, answer it', async () => {
    const r = await start('examples/node-http-server.ts');
    try {
      const dev = await signedDevice(r.url);
      await dev.enroll();
      const idle = await dev.idle();
      expect(idle.status).toBe(200);
      const cmd = commandOf(idle);
      expect(cmd?.requestType).toBe('DeviceInformation');
      const ack = await dev.answer(cmd?.uuid ?? '', 'Acknowledged', {
        QueryResponses: { DeviceName: 'x' },
      });
      expect(ack.status).toBe(200);
      expect(r.output()).toContain(`enrolled ${dev.enrollmentId}`);
      expect(r.output()).toContain(`result ${cmd?.uuid ?? '?'} Acknowledged`);
      // A device whose certificate is not from DEVICE_CA is refused (400, never 401).
      const stranger = await makeCa({ subject: 'CN=stranger', keyType: 'ec-p256' });
      const bad = new DeviceEmulator({ ...dev.options, identity: stranger });
      expect((await bad.authenticate()).status).toBe(400);
    } finally {
      await stop(r);
    }
  });

  test('ok/fetch-handler.ts: enroll and poll through the fetch bridge', async () => {
    const r = await start('examples/fetch-handler.ts');
    try {
      const dev = await signedDevice(r.url);
      await dev.enroll();
      const idle = await dev.idle();
      expect(idle.status).toBe(200);
      expect(idle.body.length).toBe(0);
      expect(r.output()).toContain(`enrolled ${dev.enrollmentId}`);
      const stranger = await makeCa({ subject: 'CN=stranger', keyType: 'ec-p256' });
      const bad = new DeviceEmulator({ ...dev.options, identity: stranger });
      expect((await bad.idle()).status).toBe(400);
    } finally {
      await stop(r);
    }
  });
});

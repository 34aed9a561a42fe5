/**
 * Profile signing, verification, encryption and the removal decision, as ratios to `signCms` of
 * the same XML bytes in the same run (so the cost of our profile layer shows, not the machine's).
 */
import { createPublicKey } from 'node:crypto';
import {
  createCertificateAuthority,
  generateKeyPairOf,
  issueCertificate,
  signCms,
} from '../src/crypto/index.js';
import { encodePlist, type PlistDict } from '../src/protocol/plist.js';
import { decryptProfile, encryptProfile } from '../src/profile/encrypt.js';
import { canRemove } from '../src/profile/removal.js';
import { signProfile } from '../src/profile/sign.js';
import { verifyProfile } from '../src/profile/verify.js';
import { measure, report } from './lib.js';

async function identity(keyType: 'rsa-2048' | 'ec-p256') {
  const ca = await createCertificateAuthority({ subject: 'CN=Bench CA', keyType: 'rsa-2048' });
  const { privateKey } = await generateKeyPairOf(keyType);
  const certificate = await issueCertificate({
    publicKey: createPublicKey(privateKey),
    subject: `CN=bench ${keyType}`,
    issuer: ca,
  });
  return { certificate, privateKey, root: ca.certificate };
}

function profile(): PlistDict {
  const payloads: PlistDict[] = [];
  for (let i = 0; i < 20; i++) {
    payloads.push({
      PayloadType: 'com.apple.wifi.managed',
      PayloadVersion: 1,
      PayloadIdentifier: `com.example.bench.wifi.${i}`,
      PayloadUUID: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
      SSID_STR: `Network ${i}`,
      AutoJoin: true,
      EncryptionType: 'WPA2',
    });
  }
  return {
    PayloadType: 'Configuration',
    PayloadVersion: 1,
    PayloadIdentifier: 'com.example.bench',
    PayloadUUID: 'ABCDEF00-0000-4000-8000-000000000000',
    PayloadContent: payloads,
  };
}

/** Runs the profile benchmark and prints its table. */
export default async function run(): Promise<void> {
  const rsa = await identity('rsa-2048');
  const ec = await identity('ec-p256');
  const dict = profile();
  const xml = encodePlist(dict);
  const signedRsa = signProfile(xml, rsa);
  const encrypted = encryptProfile(dict, { recipient: rsa.certificate });
  const baseline = await measure(`signCms RSA-2048 (${xml.length} B XML)`, () => signCms(xml, rsa));
  const rows = [
    await measure('signProfile RSA-2048, bytes', () => signProfile(xml, rsa)),
    await measure('signProfile RSA-2048, dict (encodes XML)', () => signProfile(dict, rsa)),
    await measure('signProfile P-256, bytes', () => signProfile(xml, ec)),
    await measure('verifyProfile RSA-2048 + decode', () => verifyProfile(signedRsa)),
    await measure('verifyProfile RSA-2048 + chain', () =>
      verifyProfile(signedRsa, { roots: [rsa.root] }),
    ),
    await measure('encryptProfile (RSA PKCS#1, AES-256)', () =>
      encryptProfile(dict, { recipient: rsa.certificate }),
    ),
    await measure('decryptProfile', () =>
      decryptProfile(encrypted, { privateKey: rsa.privateKey }),
    ),
    await measure('canRemove', () =>
      canRemove({
        profile: { kind: 'configuration', installedBy: 'manual', hasRemovalPassword: true },
        device: { platform: 'iOS', supervised: true, enrollment: 'device' },
        requester: 'user',
      }),
    ),
  ];
  report(
    'Profiles (ratio to signCms of the same bytes)',
    baseline,
    rows.map((rate) => ({ rate })),
  );
}

/**
 * Signing a configuration profile with the Orchard library, in a few lines.
 * Run (after `npm install`, which builds dist/):
 *   npx tsx examples/sign-profile.ts signer.pem signer-key.pem [chain.pem] > signed.mobileconfig
 * The output is DER CMS SignedData that `openssl cms -verify -inform DER` and devices accept.
 */
import { readFileSync } from 'node:fs';
import { signProfile, verifyProfile, type PlistDict } from 'orchard-mdm';

const [certPath, keyPath, chainPath] = process.argv.slice(2);
if (certPath === undefined || keyPath === undefined) {
  process.stderr.write(
    'usage: sign-profile.ts CERT.pem KEY.pem [CHAIN.pem] > signed.mobileconfig\n',
  );
  process.exit(2);
}

const profile: PlistDict = {
  PayloadType: 'Configuration',
  PayloadVersion: 1,
  PayloadIdentifier: 'com.example.wifi',
  PayloadUUID: 'D6A1E0B2-3C4D-4E5F-8A9B-0C1D2E3F4A5B',
  PayloadDisplayName: 'Corporate Wi-Fi',
  PayloadContent: [
    {
      PayloadType: 'com.apple.wifi.managed',
      PayloadVersion: 1,
      PayloadIdentifier: 'com.example.wifi.payload',
      PayloadUUID: 'F1E2D3C4-B5A6-4978-8695-A4B3C2D1E0F9',
      SSID_STR: 'Example Corp',
      EncryptionType: 'WPA2',
      AutoJoin: true,
    },
  ],
};

const signed = signProfile(profile, {
  certificate: readFileSync(certPath, 'utf8'),
  privateKey: readFileSync(keyPath, 'utf8'),
  ...(chainPath === undefined ? {} : { chain: [readFileSync(chainPath, 'utf8')] }),
});

// Check our own work before handing it out: the signature verifies and the profile comes back.
const { signer, profile: inner } = verifyProfile(signed);
process.stderr.write(`signed ${profile.PayloadIdentifier as string} as ${signer.subject}\n`);
if (inner.PayloadUUID !== profile.PayloadUUID)
  throw new Error('the signed profile did not round-trip');
process.stdout.write(signed);

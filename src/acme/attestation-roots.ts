/**
 * Trust anchors of device attestations. Apple's Enterprise Attestation Root CA is bundled as the
 * default (published at https://www.apple.com/certificateauthority/private/; SHA-256 fingerprint
 * CC:F5:9E:F8:FC:B3:01:7D:97:F8:B5:FA:6F:A9:0E:7A:3F:92:83:F7:6B:55:AC:6C:F6:ED:A8:B8:B9:49:F0:5B,
 * valid 2022-02-16 to 2047-02-20). Deployments and tests name their anchors explicitly: an empty
 * list trusts nothing.
 */
import { X509Certificate } from 'node:crypto';

/** Apple Enterprise Attestation Root CA (P-384, self-signed), PEM. */
export const APPLE_ENTERPRISE_ATTESTATION_ROOT_PEM = `-----BEGIN CERTIFICATE-----
MIICJDCCAamgAwIBAgIUQsDCuyxyfFxeq/bxpm8frF15hzcwCgYIKoZIzj0EAwMw
UTEtMCsGA1UEAwwkQXBwbGUgRW50ZXJwcmlzZSBBdHRlc3RhdGlvbiBSb290IENB
MRMwEQYDVQQKDApBcHBsZSBJbmMuMQswCQYDVQQGEwJVUzAeFw0yMjAyMTYxOTAx
MjRaFw00NzAyMjAwMDAwMDBaMFExLTArBgNVBAMMJEFwcGxlIEVudGVycHJpc2Ug
QXR0ZXN0YXRpb24gUm9vdCBDQTETMBEGA1UECgwKQXBwbGUgSW5jLjELMAkGA1UE
BhMCVVMwdjAQBgcqhkjOPQIBBgUrgQQAIgNiAAT6Jigq+Ps9Q4CoT8t8q+UnOe2p
oT9nRaUfGhBTbgvqSGXPjVkbYlIWYO+1zPk2Sz9hQ5ozzmLrPmTBgEWRcHjA2/y7
7GEicps9wn2tj+G89l3INNDKETdxSPPIZpPj8VmjQjBAMA8GA1UdEwEB/wQFMAMB
Af8wHQYDVR0OBBYEFPNqTQGd8muBpV5du+UIbVbi+d66MA4GA1UdDwEB/wQEAwIB
BjAKBggqhkjOPQQDAwNpADBmAjEA1xpWmTLSpr1VH4f8Ypk8f3jMUKYz4QPG8mL5
8m9sX/b2+eXpTv2pH4RZgJjucnbcAjEA4ZSB6S45FlPuS/u4pTnzoz632rA+xW/T
ZwFEh9bhKjJ+5VQ9/Do1os0u3LEkgN/r
-----END CERTIFICATE-----
`;

/** SHA-256 fingerprint of {@link APPLE_ENTERPRISE_ATTESTATION_ROOT_PEM}, as node:crypto prints it. */
export const APPLE_ENTERPRISE_ATTESTATION_ROOT_SHA256 =
  'CC:F5:9E:F8:FC:B3:01:7D:97:F8:B5:FA:6F:A9:0E:7A:3F:92:83:F7:6B:55:AC:6C:F6:ED:A8:B8:B9:49:F0:5B';

/** The default anchors of device attestations: Apple's Enterprise Attestation Root CA alone. */
export function appleAttestationRoots(): X509Certificate[] {
  return [new X509Certificate(APPLE_ENTERPRISE_ATTESTATION_ROOT_PEM)];
}

/**
 * Reads attestation anchors from PEM text (one or more certificates, e.g. the file named by a
 * `--acme-trust-anchors` flag). Throws `TypeError` when the text holds no certificate or one
 * that is not a CA.
 */
export function attestationRootsFromPem(pem: string): X509Certificate[] {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) throw new TypeError('no certificate in the attestation anchors');
  return blocks.map((block) => {
    const cert = new X509Certificate(block);
    if (!cert.ca) throw new TypeError(`attestation anchor ${cert.subject} is not a CA`);
    return cert;
  });
}

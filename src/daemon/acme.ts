/**
 * The daemon's ACME settings: the anchors of device attestations from
 * `--acme-attestation-roots` (default Apple's Enterprise Attestation Root, bundled).
 */
import type { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { ConfigError } from '../index.js';
import { appleAttestationRoots, attestationRootsFromPem } from '../server/index.js';
import type { DaemonConfig } from './config.js';

/**
 * The anchors of device attestations: the PEM bundle of `--acme-attestation-roots`, or Apple's
 * Enterprise Attestation Root. Throws ConfigError naming the flag for an unreadable file or one
 * without a CA certificate.
 */
export async function attestationRootsOf(config: DaemonConfig): Promise<X509Certificate[]> {
  const file = config.acmeAttestationRootsFile;
  if (file === undefined) return appleAttestationRoots();
  let pem: string;
  try {
    pem = await readFile(file, 'utf8');
  } catch {
    throw new ConfigError('--acme-attestation-roots', `cannot read ${file}`);
  }
  try {
    return attestationRootsFromPem(pem);
  } catch (error) {
    throw new ConfigError(
      '--acme-attestation-roots',
      `${file}: ${error instanceof Error ? error.message : 'no usable certificate'}`,
    );
  }
}

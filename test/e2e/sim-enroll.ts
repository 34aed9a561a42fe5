/**
 * Enrollment for simulated devices against the end-to-end harness: an RSA CA served over SCEP on
 * 127.0.0.1 and a plain enrollment profile (MDM and SCEP payloads) pointing at the harness, so
 * `src/sim` devices enroll as real ones do. One key per file keeps CI fast.
 */
import type { X509Certificate } from 'node:crypto';
import { createMemoryCertificateStore } from '../../src/index.js';
import { createScepHandler } from '../../src/http/scep.js';
import { createCa } from '../../src/identity/ca/authority.js';
import { openCaDirectory } from '../../src/identity/ca/files.js';
import { staticChallenge } from '../../src/identity/scep/challenge.js';
import { encodePlist } from '../../src/protocol/plist.js';
import { createKeyPool, type SimKeyPool } from '../../src/sim/index.js';
import { makeTmpDir } from '../support/openssl.js';
import { startScepServer, type ScepTestServer } from '../support/scep-server.js';

const CHALLENGE = 'e2e-sim-challenge';

/** The SCEP side of simulated enrollment: its CA (a cert-auth root), the server, the key pool. */
export interface SimEnrollment {
  ca: X509Certificate;
  keys: SimKeyPool;
  /** A plain enrollment profile for a server at `baseUrl` with APNs topic `topic`. */
  profile(baseUrl: string, topic: string): Uint8Array;
  close(): Promise<void>;
}

/** Starts the SCEP server and generates the one device key the file's simulated devices share. */
export async function startSimEnrollment(): Promise<SimEnrollment> {
  const tmp = makeTmpDir('orchard-e2e-scep-');
  const material = await openCaDirectory({ dir: tmp.path('ca'), keyType: 'rsa-2048' });
  const ca = createCa({ material, store: createMemoryCertificateStore() }, {});
  const [server, keys]: [ScepTestServer, SimKeyPool] = await Promise.all([
    startScepServer(createScepHandler({ ca, validator: staticChallenge(CHALLENGE) })),
    createKeyPool(1),
  ]);
  return {
    ca: ca.certificate,
    keys,
    profile: (baseUrl, topic) => enrollmentProfile(baseUrl, topic, server.url),
    async close() {
      await server.close();
      tmp.remove();
    },
  };
}

function enrollmentProfile(baseUrl: string, topic: string, scepUrl: string): Uint8Array {
  const identity = '6A1B7E52-0C1D-4E2F-8A3B-4C5D6E7F8091';
  return encodePlist(
    {
      PayloadType: 'Configuration',
      PayloadVersion: 1,
      PayloadIdentifier: 'com.example.e2e.enrollment',
      PayloadUUID: '0D6E3A1C-2B4F-4A5D-9E8C-7F6A5B4C3D2E',
      PayloadContent: [
        {
          PayloadType: 'com.apple.security.scep',
          PayloadVersion: 1,
          PayloadIdentifier: 'com.example.e2e.scep',
          PayloadUUID: identity,
          PayloadContent: { URL: scepUrl, Challenge: CHALLENGE, Subject: [[['CN', 'e2e sim']]] },
        },
        {
          PayloadType: 'com.apple.mdm',
          PayloadVersion: 1,
          PayloadIdentifier: 'com.example.e2e.mdm',
          PayloadUUID: '1E2D3C4B-5A69-4788-9766-554433221100',
          IdentityCertificateUUID: identity,
          ServerURL: `${baseUrl}/mdm`,
          CheckInURL: `${baseUrl}/mdm/checkin`,
          Topic: topic,
          SignMessage: true,
        },
      ],
    },
    { format: 'xml' },
  );
}

/**
 * TLS helpers for tests: a server identity for 127.0.0.1 from a test CA, and a device emulator
 * that presents its identity as a TLS client certificate (no `Mdm-Signature`) over node:https.
 */
import { createPublicKey } from 'node:crypto';
import { request } from 'node:https';
import * as plist from 'plist';
import { generateKeyPairOf, issueCertificate, privateKeyToPem } from '../../src/crypto/index.js';
import { DeviceEmulator, type EmulatorResponse } from '../support/device-emulator.js';
import type { TestIdentity } from '../support/pki.js';

/** Issues a server certificate for `127.0.0.1` (IP SAN, serverAuth) from `ca`. */
export async function issueServerIdentity(ca: TestIdentity): Promise<TestIdentity> {
  const { privateKey } = await generateKeyPairOf('ec-p256');
  const certificate = await issueCertificate({
    publicKey: createPublicKey(privateKey),
    subject: 'CN=127.0.0.1',
    issuer: { certificate: ca.certificate, privateKey: ca.privateKey },
    keyUsage: ['digitalSignature'],
    extendedKeyUsage: ['1.3.6.1.5.5.7.3.1'],
    subjectAltNames: [{ type: 'ip', value: '127.0.0.1' }],
  });
  return {
    certificate,
    privateKey,
    certPem: certificate.toString(),
    keyPem: privateKeyToPem(privateKey),
  };
}

/** One HTTPS request; `client` is the TLS client identity (none when absent). */
export function httpsRequest(
  url: string,
  options: {
    method?: string;
    headers?: Record<string, string>;
    body?: Uint8Array;
    ca: string;
    client?: { certPem: string; keyPem: string } | undefined;
  },
): Promise<{ status: number; headers: Record<string, unknown>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: options.method ?? 'GET',
        headers: options.headers ?? {},
        ca: options.ca,
        agent: false,
        ...(options.client ? { cert: options.client.certPem, key: options.client.keyPem } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks),
          });
        });
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

/**
 * A {@link DeviceEmulator} whose identity travels as the TLS client certificate. `tlsIdentity`
 * may differ from `options.identity` (or be absent) to present a foreign or no certificate.
 */
export class TlsDevice extends DeviceEmulator {
  /** The client certificate presented; `undefined` presents none. */
  tlsIdentity: { certPem: string; keyPem: string } | undefined;

  constructor(
    options: ConstructorParameters<typeof DeviceEmulator>[0],
    readonly serverCa: string,
  ) {
    super({ ...options, mode: 'none' });
    const { certificate, privateKey } = options.identity;
    this.tlsIdentity = { certPem: certificate.toString(), keyPem: privateKeyToPem(privateKey) };
  }

  override async send(
    path: string,
    body: Uint8Array,
    headers: Record<string, string> = {},
  ): Promise<EmulatorResponse> {
    const res = await httpsRequest(this.options.baseUrl + path, {
      method: 'PUT',
      headers,
      body,
      ca: this.serverCa,
      client: this.tlsIdentity,
    });
    const type = res.headers['content-type'];
    const out: EmulatorResponse = {
      status: res.status,
      contentType: typeof type === 'string' ? type : null,
      body: res.body,
    };
    if (res.body.subarray(0, 5).toString() === '<?xml')
      out.plist = plist.parse(res.body.toString('utf8')) as Record<string, unknown>;
    return out;
  }
}

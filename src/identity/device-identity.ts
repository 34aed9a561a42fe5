/**
 * Extracts the device identity certificate of a request: from `Mdm-Signature` (a detached CMS
 * signature over the exact body), the TLS client certificate, or a proxy header the operator
 * configured (RFC 9440 `Client-Cert: :base64DER:` or URL-escaped PEM). Chain and binding checks
 * happen later, in `withCertAuth`.
 */
import { X509Certificate } from 'node:crypto';
import { verifyCms } from '../crypto/cms-verify.js';
import { DeviceAuthError } from '../errors.js';
import type { DeviceCertificate } from './device-certificate.js';

/** How identity is taken from requests. */
export interface DeviceIdentityOptions {
  /**
   * Proxy header carrying the client certificate; never read unless configured. A device's
   * certificate is public, so the adapters pass this header on only from trusted proxies
   * (`trustedProxies` of the node adapter, `fromTrustedProxy` of the fetch adapter).
   */
  certHeader?: string;
  /** Accept `Mdm-Signature` (default true). */
  mdmSignature?: boolean;
  /** Clock for the signer's validity dates; default now. */
  clock?: () => Date;
}

/** What a transport knows of a request. */
export interface IdentitySource {
  /** DER of the TLS client certificate, when the connection had one. */
  tlsCertificate?: Uint8Array;
  /** Reads a request header (case-insensitive); `undefined` when absent. */
  header(name: string): string | undefined;
  /** The exact body bytes. */
  body: Uint8Array;
}

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const MAX_HEADER = 16_384;

function decodeBase64(text: string, what: string): Buffer {
  const clean = text.replace(/\s+/g, '');
  if (clean.length === 0 || clean.length > MAX_HEADER || !BASE64.test(clean)) {
    throw new DeviceAuthError('ERR_IDENTITY_HEADER', `${what} is not valid base64`);
  }
  return Buffer.from(clean, 'base64');
}

function parseCertificate(der: Uint8Array, what: string): X509Certificate {
  try {
    return new X509Certificate(der);
  } catch (cause) {
    throw new DeviceAuthError('ERR_IDENTITY_HEADER', `${what} does not hold a certificate`, {
      cause,
    });
  }
}

/**
 * Parses a proxy certificate header: RFC 9440 (`:base64 DER:`) or URL-escaped PEM.
 * Throws {@link DeviceAuthError} `ERR_IDENTITY_HEADER` (400) when it holds no certificate.
 */
export function parseCertificateHeader(value: string): DeviceCertificate {
  const trimmed = value.trim();
  let der: Buffer;
  if (trimmed.startsWith(':') && trimmed.endsWith(':') && trimmed.length > 2) {
    der = decodeBase64(trimmed.slice(1, -1), 'certificate header');
  } else {
    let pem: string;
    try {
      pem = decodeURIComponent(trimmed);
    } catch (cause) {
      throw new DeviceAuthError(
        'ERR_IDENTITY_HEADER',
        'certificate header is not URL-escaped PEM',
        { cause },
      );
    }
    const match = /^-----BEGIN CERTIFICATE-----([\s\S]+?)-----END CERTIFICATE-----\s*$/.exec(pem);
    if (match?.[1] === undefined)
      throw new DeviceAuthError('ERR_IDENTITY_HEADER', 'certificate header is not PEM');
    der = decodeBase64(match[1], 'certificate header');
  }
  return { der, x509: parseCertificate(der, 'certificate header'), source: 'header' };
}

/**
 * Verifies an `Mdm-Signature` over the body and returns the signer certificate (no chain check
 * here). Throws {@link CryptoError} on a bad signature, {@link DeviceAuthError} on bad base64.
 */
export function certificateFromSignature(
  header: string,
  body: Uint8Array,
  at: Date,
): DeviceCertificate {
  const cms = decodeBase64(header, 'Mdm-Signature');
  const { signer } = verifyCms(cms, { content: body, at });
  return { der: signer.raw, x509: signer, source: 'signature' };
}

/**
 * The device certificate of a request, or `undefined` when the request carries none.
 * `Mdm-Signature` wins when present (and enabled); then the TLS certificate; then the configured
 * proxy header. Throws on a present but invalid signature or header (400, never 401).
 */
export function extractDeviceCertificate(
  source: IdentitySource,
  options: DeviceIdentityOptions = {},
): DeviceCertificate | undefined {
  const signature = options.mdmSignature === false ? undefined : source.header('mdm-signature');
  if (signature !== undefined && signature !== '') {
    return certificateFromSignature(
      signature,
      source.body,
      (options.clock ?? (() => new Date()))(),
    );
  }
  if (source.tlsCertificate !== undefined && source.tlsCertificate.length > 0) {
    const der = source.tlsCertificate;
    return { der, x509: parseCertificate(der, 'TLS client certificate'), source: 'tls' };
  }
  if (options.certHeader !== undefined) {
    const value = source.header(options.certHeader);
    if (value !== undefined && value !== '') return parseCertificateHeader(value);
  }
  return undefined;
}

/**
 * The device identity certificate a request presents, as the identity checks produce it and the
 * MDM core consumes it. It lives in `identity/` so the core imports identity, never the reverse.
 */
import type { X509Certificate } from 'node:crypto';

/** Where the device certificate of a request came from. */
export type CertificateSource = 'tls' | 'header' | 'signature';

/** The device identity certificate presented with a request. */
export interface DeviceCertificate {
  /** DER bytes. */
  der: Uint8Array;
  x509: X509Certificate;
  source: CertificateSource;
}

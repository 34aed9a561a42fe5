/**
 * Requests a validator deferred (PENDING), kept until the client polls with CertPoll: bounded in
 * number and time, bound to the transaction and to the certificate that signed the request.
 */
import type { ParsedCsr } from '../../crypto/csr.js';

/** The pending-request table of one SCEP handler. */
export interface PendingRequests {
  /** Remembers a deferred request (the oldest entry goes when full). */
  put(transactionId: string, signerDer: Buffer, csr: ParsedCsr, now: Date): void;
  /** Removes and returns the CSR of a live entry signed by the same certificate; else `undefined`. */
  take(transactionId: string, signerDer: Buffer, now: Date): ParsedCsr | undefined;
  readonly size: number;
}

/** A pending table of at most `max` entries living `ttlMs` each. */
export function createPendingRequests(max: number, ttlMs: number): PendingRequests {
  const map = new Map<string, { signer: Buffer; csr: ParsedCsr; expires: number }>();
  return {
    put(id, signer, csr, now) {
      map.delete(id);
      map.set(id, { signer: Buffer.from(signer), csr, expires: now.getTime() + ttlMs });
      while (map.size > max) {
        const oldest = map.keys().next();
        if (oldest.done === true) break;
        map.delete(oldest.value);
      }
    },
    take(id, signer, now) {
      const entry = map.get(id);
      if (entry === undefined || !entry.signer.equals(signer)) return undefined;
      map.delete(id);
      return entry.expires > now.getTime() ? entry.csr : undefined;
    },
    get size() {
      return map.size;
    },
  };
}

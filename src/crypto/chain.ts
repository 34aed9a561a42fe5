/**
 * Certificate path building and verification against explicit trust anchors: issuer name and
 * key identifiers (node's `checkIssued`), signatures, validity dates, CA flag on intermediates.
 * No revocation checking (callers that need it consult their own store).
 */
import type { X509Certificate } from 'node:crypto';
import { CryptoError } from '../errors.js';
import { toCertificate, type CertificateInput } from './keys.js';

/** Options of {@link verifyCertificateChain}. */
export interface ChainOptions {
  /** Trust anchors. */
  roots: CertificateInput[];
  /** Untrusted certificates that may complete the path. */
  intermediates?: readonly CertificateInput[];
  /** Time at which validity is checked; default now. */
  at?: Date;
  /** Maximum path length (certificates above the leaf); default 8. */
  maxDepth?: number;
}

const dates = new WeakMap<X509Certificate, { from: number; to: number }>();

function validity(cert: X509Certificate): { from: number; to: number } {
  let d = dates.get(cert);
  if (d === undefined) {
    d = { from: Date.parse(cert.validFrom), to: Date.parse(cert.validTo) };
    dates.set(cert, d);
  }
  return d;
}

/**
 * Throws `ERR_CERT_EXPIRED` or `ERR_CERT_NOT_YET_VALID` when `cert` is not valid at `at`.
 */
export function checkValidity(cert: X509Certificate, at: Date): void {
  const { from, to } = validity(cert);
  const t = at.getTime();
  if (Number.isNaN(from) || t < from) {
    throw new CryptoError('ERR_CERT_NOT_YET_VALID', 'certificate is not yet valid', {
      detail: { subject: cert.subject, validFrom: cert.validFrom },
    });
  }
  if (Number.isNaN(to) || t > to) {
    throw new CryptoError('ERR_CERT_EXPIRED', 'certificate has expired', {
      detail: { subject: cert.subject, validTo: cert.validTo },
    });
  }
}

/**
 * Issuer links already proven, by the SHA-256 fingerprints of child and parent. Whether one
 * certificate's signature verifies under another's key depends only on their bytes, so a proven
 * link stays proven; dates are checked on every call and revocation is the callers' own check.
 * Only successes are kept, so junk certificates cannot crowd out real ones; bounded, oldest out.
 */
const provenLinks = new Map<string, true>();

/** Most proven links kept (a few per device CA; devices' leaves one each). */
export const PROVEN_LINKS_MAX = 50_000;

function issuedBy(child: X509Certificate, parent: X509Certificate): boolean {
  const key = `${child.fingerprint256}>${parent.fingerprint256}`;
  if (provenLinks.has(key)) return true;
  let ok: boolean;
  try {
    ok = child.checkIssued(parent) && child.verify(parent.publicKey);
  } catch {
    ok = false;
  }
  if (ok) {
    if (provenLinks.size >= PROVEN_LINKS_MAX) {
      const oldest = provenLinks.keys().next().value;
      if (oldest !== undefined) provenLinks.delete(oldest);
    }
    provenLinks.set(key, true);
  }
  return ok;
}

/** How many issuer links are remembered as proven (for tests and metrics). */
export function provenLinkCount(): number {
  return provenLinks.size;
}

function untrusted(cert: X509Certificate): CryptoError {
  return new CryptoError('ERR_CERT_UNTRUSTED', 'certificate does not chain to a trusted root', {
    detail: { subject: cert.subject, issuer: cert.issuer },
  });
}

/**
 * Builds and verifies the path from `certificate` to one of `options.roots`, checking
 * signatures and validity of every certificate at `options.at`. Returns the chain, leaf first
 * and root last. Throws `ERR_CERT_UNTRUSTED`, `ERR_CERT_EXPIRED` or `ERR_CERT_NOT_YET_VALID`.
 */
export function verifyCertificateChain(
  certificate: CertificateInput,
  options: ChainOptions,
): X509Certificate[] {
  if (!Array.isArray(options.roots))
    throw new TypeError('verifyCertificateChain(): options.roots is required');
  const leaf = toCertificate(certificate);
  const roots = options.roots.map(toCertificate);
  const pool = (options.intermediates ?? []).map(toCertificate);
  const at = options.at ?? new Date();
  const maxDepth = options.maxDepth ?? 8;
  const chain = [leaf];
  checkValidity(leaf, at);
  if (roots.some((r) => r.raw.equals(leaf.raw))) return chain;
  let current = leaf;
  for (let depth = 0; depth < maxDepth; depth++) {
    const root = roots.find((r) => issuedBy(current, r));
    if (root !== undefined) {
      checkValidity(root, at);
      chain.push(root);
      return chain;
    }
    const next = pool.find((c) => c.ca && !chain.includes(c) && issuedBy(current, c));
    if (next === undefined) throw untrusted(leaf);
    checkValidity(next, at);
    chain.push(next);
    current = next;
  }
  throw untrusted(leaf);
}

/** The instants between which a verified path stays valid (every certificate on it is). */
interface PathWindow {
  from: number;
  to: number;
}

/**
 * Paths already verified, per trust-anchor list (by identity) and leaf object: a path's links
 * depend on bytes alone, so only its dates can change the answer, and they are kept with it.
 * Weak on both keys: a dropped root list or certificate takes its entries with it.
 */
const verifiedPaths = new WeakMap<
  readonly CertificateInput[],
  WeakMap<X509Certificate, PathWindow>
>();

/**
 * {@link verifyCertificateChain} for a hot path: a leaf object already verified against the same
 * `roots` array is accepted again while `at` lies within the validity of every certificate of
 * the path found then, without rebuilding it. A path proven once stays proven whatever
 * intermediates later calls offer; revocation remains the caller's own check. Throws what
 * {@link verifyCertificateChain} throws.
 */
export function verifyCertificateChainOnce(leaf: X509Certificate, options: ChainOptions): void {
  let paths = verifiedPaths.get(options.roots);
  const t = (options.at ?? new Date()).getTime();
  const known = paths?.get(leaf);
  if (known !== undefined && t >= known.from && t <= known.to) return;
  const chain = verifyCertificateChain(leaf, options);
  const window: PathWindow = { from: -Infinity, to: Infinity };
  for (const cert of chain) {
    const d = validity(cert);
    window.from = Math.max(window.from, d.from);
    window.to = Math.min(window.to, d.to);
  }
  if (paths === undefined) {
    paths = new WeakMap();
    verifiedPaths.set(options.roots, paths);
  }
  paths.set(leaf, window);
}

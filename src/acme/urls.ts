/**
 * The ACME server's URLs: built from the base URL, and parsed back from request paths. Ids are
 * opaque base64url values of 128 random bits, so a path that is not one of these shapes is
 * refused before any store is asked.
 */

/** The resources that have ids, as their path segment. */
export type AcmeResourceKind = 'acct' | 'order' | 'authz' | 'chall' | 'cert';

/** A request path as the core routes it. */
export type AcmeRoute =
  | { kind: 'directory' | 'new-nonce' | 'new-account' | 'new-order' | 'key-change' }
  | { kind: AcmeResourceKind | 'finalize'; id: string };

const FIXED = ['directory', 'new-nonce', 'new-account', 'new-order', 'key-change'] as const;
const KINDS: readonly string[] = ['acct', 'order', 'authz', 'chall', 'cert'];
const ID = /^[A-Za-z0-9_-]{16,64}$/;

/** The route of `path` (below the base), or `undefined` when it names nothing. */
export function parseAcmePath(path: string): AcmeRoute | undefined {
  const parts = path.split('/');
  if (parts[0] !== '') return undefined;
  const [, first = '', id, extra, ...rest] = parts;
  if (rest.length > 0) return undefined;
  if (id === undefined) {
    const fixed = FIXED.find((f) => f === first);
    return fixed === undefined ? undefined : { kind: fixed };
  }
  if (!KINDS.includes(first) || !ID.test(id)) return undefined;
  if (extra === undefined) return { kind: first as AcmeResourceKind, id };
  return first === 'order' && extra === 'finalize' ? { kind: 'finalize', id } : undefined;
}

/** The label of `path` for logs and metrics: its template, never an id. */
export function acmePathLabel(path: string): string {
  const route = parseAcmePath(path);
  if (route === undefined) return '{unknown}';
  if (!('id' in route)) return `/${route.kind}`;
  return route.kind === 'finalize' ? '/order/{id}/finalize' : `/${route.kind}/{id}`;
}

/** URL builders over a base URL (no trailing slash). */
export interface AcmeUrls {
  base(): string;
  of(path: string): string;
  resource(kind: AcmeResourceKind, id: string): string;
  finalize(orderId: string): string;
}

/** The URL builders over `baseUrl`. */
export function acmeUrls(baseUrl: string | (() => string)): AcmeUrls {
  const base = typeof baseUrl === 'string' ? () => baseUrl : baseUrl;
  const trimmed = (): string => base().replace(/\/+$/, '');
  return {
    base: trimmed,
    of: (path) => `${trimmed()}${path}`,
    resource: (kind, id) => `${trimmed()}/${kind}/${id}`,
    finalize: (orderId) => `${trimmed()}/order/${orderId}/finalize`,
  };
}

/**
 * The one request and response shape of the edge: what the node and fetch adapters hand to an
 * endpoint (MDM, SCEP, ...) and what they write back. No node:http or fetch types here, so the
 * endpoints run the same under every runtime.
 */

/** The query string's parameters, parsed or as a plain record. */
export type EdgeQuery = URLSearchParams | Readonly<Record<string, string | undefined>>;

/** A request as an adapter hands it over. */
export interface EdgeRequest {
  method: string;
  /** URL path without the query string, exactly as received. */
  path: string;
  /** The query string's parameters; absent when the route reads none (MDM). */
  query?: EdgeQuery;
  /** Reads a header (case-insensitive); `undefined` when absent. */
  header(name: string): string | undefined;
  body: Uint8Array;
  /** DER of the TLS client certificate, when any. */
  tlsCertificate?: Uint8Array;
}

/** What an endpoint answers and the adapter writes back. */
export interface EdgeResponse {
  status: number;
  headers: Record<string, string>;
  body: Uint8Array;
}

/** One parameter of `query`; `undefined` when absent (or when there is no query). */
export function queryParam(query: EdgeQuery | undefined, name: string): string | undefined {
  if (query === undefined) return undefined;
  if (query instanceof URLSearchParams) return query.get(name) ?? undefined;
  return query[name];
}

/** Media type of a `content-type` value, lower case without parameters; `undefined` when absent. */
export function mediaType(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const semi = value.indexOf(';');
  return (semi === -1 ? value : value.slice(0, semi)).trim().toLowerCase();
}

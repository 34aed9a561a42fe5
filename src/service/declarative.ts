/**
 * Default handlers for the `GetToken` and `DeclarativeManagement` check-ins, and the strict
 * grammar of a DeclarativeManagement `Endpoint` (device-supplied, so never used to build a URL).
 * @see https://developer.apple.com/documentation/devicemanagement/declarativemanagementrequest
 */
import { createHash } from 'node:crypto';
import { ProtocolError, RequestError } from '../errors.js';
import type { DeclarativeManagementMessage, GetTokenMessage } from '../protocol/checkin.js';
import type { MdmRequest, MdmResponse } from './ports.js';

/** A parsed DeclarativeManagement endpoint. */
export type DeclarativeEndpoint =
  | { kind: 'tokens' }
  | { kind: 'declaration-items' }
  | { kind: 'status' }
  | {
      kind: 'declaration';
      category: 'activation' | 'configuration' | 'asset' | 'management';
      identifier: string;
    };

/** Answers a DeclarativeManagement check-in for one parsed endpoint. */
export type DeclarativeHandler = (
  req: MdmRequest,
  msg: DeclarativeManagementMessage,
  endpoint: DeclarativeEndpoint,
) => Promise<MdmResponse>;

/** Answers a GetToken check-in; the body is usually `{TokenData: <data>}`. */
export type GetTokenHandler = (req: MdmRequest, msg: GetTokenMessage) => Promise<MdmResponse>;

const DECLARATION =
  /^declaration\/(activation|configuration|asset|management)\/([A-Za-z0-9][A-Za-z0-9._-]{0,255})$/;

/**
 * Parses `Endpoint` against the grammar `tokens | declaration-items | status |
 * declaration/<category>/<identifier>`. Throws {@link ProtocolError} `ERR_ENDPOINT` (400) otherwise.
 */
export function parseDeclarativeEndpoint(endpoint: string): DeclarativeEndpoint {
  if (endpoint === 'tokens' || endpoint === 'declaration-items' || endpoint === 'status') {
    return { kind: endpoint };
  }
  const match = DECLARATION.exec(endpoint);
  if (match?.[1] === undefined || match[2] === undefined) {
    throw new ProtocolError('ERR_ENDPOINT', 'DeclarativeManagement Endpoint is not recognised', {
      detail: endpoint.slice(0, 300),
    });
  }
  return { kind: 'declaration', category: match[1] as 'activation', identifier: match[2] };
}

const EMPTY_TOKEN = createHash('sha256').update('orchard:no-declarations').digest('hex');
const EPOCH = '1970-01-01T00:00:00Z';

function json(value: unknown): MdmResponse {
  return { status: 200, body: Buffer.from(JSON.stringify(value)), contentType: 'application/json' };
}

/**
 * The default DeclarativeManagement handler: an empty, stable declaration set (tokens and
 * declaration-items), status reports accepted and dropped, and 404 (`ERR_NOT_FOUND`) for any
 * single declaration.
 */
export const defaultDeclarativeHandler: DeclarativeHandler = (_req, _msg, endpoint) => {
  switch (endpoint.kind) {
    case 'tokens':
      return Promise.resolve(
        json({ SyncTokens: { DeclarationsToken: EMPTY_TOKEN, Timestamp: EPOCH } }),
      );
    case 'declaration-items':
      return Promise.resolve(
        json({
          Declarations: { Activations: [], Configurations: [], Assets: [], Management: [] },
          DeclarationsToken: EMPTY_TOKEN,
        }),
      );
    case 'status':
      return Promise.resolve({ status: 200 });
    case 'declaration':
      return Promise.reject(new RequestError('ERR_NOT_FOUND', 'no such declaration'));
  }
};

/** The default GetToken handler: no token service is configured, so 404 (`ERR_NOT_FOUND`). */
export const defaultGetTokenHandler: GetTokenHandler = () =>
  Promise.reject(new RequestError('ERR_NOT_FOUND', 'no token service is configured'));

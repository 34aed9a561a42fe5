/**
 * How an admin route is declared: once, as a `createRoute` config (method, path, parameter,
 * query and body schemas, responses) plus its authentication class, body rules and handler.
 * The app validates requests from the config's schemas and documents the route from them.
 */
import type { RouteConfig, z } from '@hono/zod-openapi';
import { recordAudit } from '../../admin/audit.js';
import type { Caller } from '../../admin/principals.js';
import type { EnrollmentService } from '../../admin/enrollment-service.js';
import type { GroupService } from '../../management/groups-service.js';
import type { ProfileLibrary } from '../../management/profile-library.js';
import type { UserService } from '../../management/users.js';
import type { UserLinks } from '../../management/user-links.js';
import type { DeliveryService, PolicyService } from '../../management/delivery/types.js';
import type { CertificateAuthority } from '../../identity/ca/authority.js';
import type { MdmCore } from '../../service/core.js';
import type { IdentityRenewalService } from '../../service/identity-renewal.js';
import type {
  ApiKeyStore,
  AuditLog,
  CertificateStore,
  EnrollmentLinkStore,
  ManagementStorage,
  MdmStorage,
} from '../../storage/ports.js';
import { ErrorBody } from './schemas.js';

/** What the admin API's handlers use. */
export interface AdminApiDeps {
  core: MdmCore;
  storage: MdmStorage;
  /** API keys, the audit log, enrollment links, and the management stores (groups, administrators, profiles). */
  admin: ApiKeyStore & AuditLog & EnrollmentLinkStore & ManagementStorage;
  enrollment: EnrollmentService;
  /** Device identity renewal: queue one now, and the lead time it works with. */
  identity: IdentityRenewalService;
  pushEnabled: boolean;
  /** The issuing CA: certificate lookups and revocation. */
  ca: CertificateAuthority;
  /** The CA's store, for listing what it issued. */
  certificates: CertificateStore;
  /** Organization groups and their settings pages. */
  groups: GroupService;
  /** The profile library: uploads, versions, compatibility, rendering for devices. */
  profiles: ProfileLibrary;
  /** Users of organization groups: create, change, delete, list and CSV import. */
  users: UserService;
  /** Users' personal enrollment links and groups' generic links, their QR codes and invitations. */
  userLinks: UserLinks;
  /** Policies: their profiles (Auto, Optional, Interactive), removal controls, groups' defaults. */
  policies: PolicyService;
  /** Delivery of policies to devices: previews, device profiles, explain, reconciliation. */
  delivery: DeliveryService;
}

/** Authentication class of a route: no key, a key of any scope, or a write key. */
export type RouteAuth = 'public' | 'read' | 'write';

/** An answer before it is written: always JSON. */
export interface AdminAnswer {
  status: number;
  /** JSON-serialisable; or, with `contentType`, the bytes or text written as they are. */
  body: unknown;
  /** Set for a non-JSON answer (an image, a CSV file): `body` is then a `Uint8Array` or string. */
  contentType?: string;
}

/** A JSON answer. */
export const json = (status: number, body: unknown): AdminAnswer => ({ status, body });

/** A non-JSON answer: `body` written as it is, with `contentType` (e.g. `image/png`). */
export const raw = (
  status: number,
  contentType: string,
  body: Uint8Array | string,
): AdminAnswer => ({
  status,
  body,
  contentType,
});

type Out<S> = S extends z.ZodType ? z.output<S> : Record<string, never>;
type Req<R extends RouteConfig> = NonNullable<R['request']>;
type ParamsOf<R extends RouteConfig> = Out<Req<R>['params']>;
type QueryOf<R extends RouteConfig> = Out<Req<R>['query']>;
type BodyOf<R extends RouteConfig> = Req<R>['body'] extends {
  content: { 'application/json': { schema: infer S } };
}
  ? Req<R>['body'] extends { required: true }
    ? Out<S>
    : Out<S> | undefined
  : undefined;

/** A validated request. `actor` is the API key id (`ak_...`) or `anonymous` on public routes. */
export interface RouteRequest<P = Record<string, string>, Q = Record<string, string>, B = unknown> {
  params: P;
  query: Q;
  /** The validated body; `undefined` when none was sent. */
  body: B;
  actor: string;
  /** The administrator and key scope behind `actor`; `undefined` on public routes only. */
  caller: Caller | undefined;
}

/** One admin route: its `createRoute` config and what the config cannot say. */
export interface AdminRoute<R extends RouteConfig = RouteConfig> {
  /** Upper-case method, from the config. */
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Template with `{name}` segments, from the config, e.g. `/api/v1/enrollments/{id}`. */
  path: string;
  auth: RouteAuth;
  /**
   * The handler checks the caller's organization-group scope itself (management routes).
   * Otherwise only administrators scoped at the root group may call the route (403
   * `ERR_ADMIN_SCOPE` for others): devices, commands and keys are not yet owned by groups.
   */
  scoped?: boolean;
  route: R;
  /**
   * The body may also be a plist (`application/x-apple-plist`), and a JSON body is read in the
   * typed encoding of docs/plist.md: either way the handler gets plist values.
   */
  plistBody?: boolean;
  /**
   * The body may also be `text/csv` (UTF-8), handed to validation and the handler as
   * `{ csv: text }`; declare the JSON body schema with a `csv` string field.
   */
  csvBody?: boolean;
  /** Largest body for a caller whose key may call this route (default: the API's body limit). */
  bodyLimit?: number;
  handle(
    deps: AdminApiDeps,
    req: RouteRequest<ParamsOf<R>, QueryOf<R>, BodyOf<R>>,
    api: AdminApiContext,
  ): Promise<AdminAnswer> | AdminAnswer;
}

/**
 * The caller of a route that is not public: the app sets it before every such handler, so its
 * absence is a programming error (TypeError), never a client's.
 */
export function callerOf(req: Pick<RouteRequest, 'caller'>): Caller {
  if (req.caller === undefined)
    throw new TypeError('a route that is not public ran without a caller');
  return req.caller;
}

/** What the app itself offers a handler. */
export interface AdminApiContext {
  /** The OpenAPI 3.1 document of every route of this app. */
  document(): Record<string, unknown>;
}

/** The JSON refusal every route may answer. */
export const ERROR_RESPONSE = {
  description: 'refused: JSON with a stable code (never 401)',
  content: { 'application/json': { schema: ErrorBody } },
} as const;

/** A JSON response of `schema`. */
export function jsonResponse(description: string, schema: z.ZodType) {
  return { description, content: { 'application/json': { schema } } };
}

/**
 * Declares a route: fills in `method` and `path` from the config, the security requirement and
 * `x-orchard-scope` from `auth`, and the error response every route may answer.
 */
export function defineRoute<R extends RouteConfig>(def: Omit<AdminRoute<R>, 'method' | 'path'>) {
  const route = {
    ...def.route,
    security: def.auth === 'public' ? [] : [{ apiKey: [] }],
    'x-orchard-scope': def.auth,
    responses: { ...def.route.responses, default: ERROR_RESPONSE },
  };
  return {
    ...def,
    route,
    method: def.route.method.toUpperCase() as AdminRoute['method'],
    path: def.route.path,
  } as unknown as AdminRoute;
}

/**
 * Appends an audit entry for the request's actor. Rejects with the store's StorageError: a
 * change whose audit failed answers 503, as a failed change does.
 */
export async function audit(
  deps: Pick<AdminApiDeps, 'admin'>,
  req: Pick<RouteRequest, 'actor'>,
  action: string,
  target: string,
  detail: Record<string, unknown> = {},
): Promise<void> {
  await recordAudit(deps.admin, req.actor, action, target, detail);
}

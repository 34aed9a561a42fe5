/**
 * The admin API route table: every route declares its method, path template, authentication
 * class (`public`, `read`, `write`) and handler. The router matches a route first and applies
 * exactly the authentication that route declares, so auth and handler can never disagree.
 */
import {
  type CertificateAuthority,
  type CertificateStore,
  type IdentityRenewalService,
  type MdmCore,
  type MdmStorage,
} from '../index.js';
import { certificateRoutes } from './admin-certificates.js';
import { identityRoutes } from './admin-identity.js';
import type { AdminStore } from './admin-store.js';
import {
  badField,
  boolField,
  commandField,
  encodingQuery,
  idParam,
  intField,
  knownQuery,
  listWithCursor,
  objectBody,
  pageQuery,
  stringField,
} from './admin-validate.js';
import {
  apiKeyView,
  commandView,
  enrollmentCommandView,
  enrollmentDetail,
  enrollmentSummary,
  pushResultView,
  tokenView,
} from './admin-views.js';
import { openApiDocument } from './admin-openapi.js';
import { createApiKey } from './api-keys.js';
import type { EnrollmentService } from './enrollment.js';
import { AdminError, RequestError } from './errors.js';
import { json, type HttpAnswer } from './http-util.js';

/** What handlers use. */
export interface AdminDeps {
  core: MdmCore;
  storage: MdmStorage;
  admin: AdminStore;
  enrollment: EnrollmentService;
  /** Device identity renewal: queue one now, and the lead time it works with. */
  identity: IdentityRenewalService;
  pushEnabled: boolean;
  /** The issuing CA: certificate lookups and revocation. */
  ca: CertificateAuthority;
  /** The CA's store, for listing what it issued. */
  certificates: CertificateStore;
}

/** A matched request. `actor` is the API key id (`ak_...`) or `anonymous` on public routes. */
export interface RouteRequest {
  params: Record<string, string>;
  query: URLSearchParams;
  body: unknown;
  actor: string;
}

/** Authentication class of a route. */
export type RouteAuth = 'public' | 'read' | 'write';

/** A query parameter a route takes besides `limit` and `cursor`, for the OpenAPI document. */
export interface RouteQueryParam {
  name: string;
  description: string;
  /** The values it takes, the first being the default. */
  values?: readonly string[];
}

/** Largest body of the command routes: a signed profile of several MiB fits, as JSON or plist. */
export const COMMAND_BODY_LIMIT = 8 * 1024 * 1024;

/** One admin route. */
export interface AdminRoute {
  method: 'GET' | 'POST' | 'DELETE';
  /** Template with `{name}` segments, e.g. `/api/v1/enrollments/{id}`. */
  path: string;
  auth: RouteAuth;
  summary: string;
  /** JSON body fields accepted (for the OpenAPI document); absent means no body. */
  bodyFields?: readonly string[];
  /**
   * The body may also be a plist (`application/x-apple-plist`), and a JSON body is read in the
   * typed encoding of docs/plist.md: either way the handler gets plist values.
   */
  plistBody?: boolean;
  /** Largest body for a caller whose key may call this route (default: the admin body limit). */
  bodyLimit?: number;
  /** Query parameters besides paging, for the OpenAPI document. */
  query?: readonly RouteQueryParam[];
  handle(deps: AdminDeps, req: RouteRequest): Promise<HttpAnswer> | HttpAnswer;
}

const notFound = (what: string): RequestError =>
  new RequestError('ERR_NOT_FOUND', `${what} not found`);

async function existingEnrollment(deps: AdminDeps, id: string) {
  const found = await deps.storage.findEnrollment(idParam('id', id));
  if (!found) throw notFound('enrollment');
  return found;
}

const ENCODING_QUERY: RouteQueryParam = {
  name: 'encoding',
  description:
    'results and command bodies as typed JSON (default: exact, $data/$date/$real/$integer/$dict forms) or readable (data as base64 strings, dates as ISO strings; lossy)',
  values: ['typed', 'readable'],
};

/** Appends an audit entry for the request's actor. */
export function audit(
  deps: AdminDeps,
  req: RouteRequest,
  action: string,
  target: string,
  detail = {},
) {
  deps.admin.audit({ actor: req.actor, action, target, detail });
}

const enrollmentRoutes: AdminRoute[] = [
  {
    method: 'GET',
    path: '/api/v1/enrollments',
    auth: 'read',
    summary: 'List enrollments (paginated; ?enrolled=true|false)',
    async handle(deps, req) {
      knownQuery(req.query, ['limit', 'cursor', 'enrolled']);
      const enrolled = req.query.get('enrolled');
      if (enrolled !== null && enrolled !== 'true' && enrolled !== 'false')
        throw badField('enrolled', 'enrolled must be true or false');
      const paging = pageQuery(req.query);
      const page = await listWithCursor(paging, () =>
        deps.storage.listEnrollments({
          ...paging,
          ...(enrolled === null ? {} : { enrolled: enrolled === 'true' }),
        }),
      );
      return json(200, {
        items: page.items.map(enrollmentSummary),
        nextCursor: page.nextCursor ?? null,
      });
    },
  },
  {
    method: 'GET',
    path: '/api/v1/enrollments/{id}',
    auth: 'read',
    summary: 'One enrollment with its device facts',
    async handle(deps, req) {
      return json(200, enrollmentDetail(await existingEnrollment(deps, req.params.id ?? '')));
    },
  },
  {
    method: 'GET',
    path: '/api/v1/enrollments/{id}/commands',
    auth: 'read',
    summary: "An enrollment's commands in queue order, each with the device's result (paginated)",
    query: [ENCODING_QUERY],
    async handle(deps, req) {
      knownQuery(req.query, ['limit', 'cursor', 'encoding']);
      const encoding = encodingQuery(req.query);
      const e = await existingEnrollment(deps, req.params.id ?? '');
      const paging = pageQuery(req.query);
      const page = await listWithCursor(paging, () => deps.core.listCommands(e.id, paging));
      return json(200, {
        items: page.items.map((c) => enrollmentCommandView(c, encoding)),
        nextCursor: page.nextCursor ?? null,
      });
    },
  },
  {
    method: 'POST',
    path: '/api/v1/enrollments/{id}/commands',
    auth: 'write',
    summary:
      "Queue a command (Apple's spelling, validated against Apple's schema; typed JSON or a plist) and push",
    bodyFields: ['RequestType', '...'],
    plistBody: true,
    bodyLimit: COMMAND_BODY_LIMIT,
    async handle(deps, req) {
      const e = await existingEnrollment(deps, req.params.id ?? '');
      const command = commandField(req.body, 'body');
      const uuid = await deps.core.enqueue([e.id], command as never);
      audit(deps, req, 'command.create', e.id, {
        commandUuid: uuid,
        requestType: command.RequestType,
      });
      return json(201, { commandUuid: uuid });
    },
  },
  {
    method: 'DELETE',
    path: '/api/v1/enrollments/{id}/commands/{uuid}',
    auth: 'write',
    summary: 'Cancel a command not yet answered',
    async handle(deps, req) {
      const e = await existingEnrollment(deps, req.params.id ?? '');
      const uuid = idParam('uuid', req.params.uuid);
      const command = await deps.core.findCommand(uuid);
      if (!command?.targets.some((t) => t.enrollmentId === e.id)) throw notFound('command');
      if (!(await deps.core.cancel(e.id, uuid)))
        throw new AdminError('ERR_CONFLICT', 'the command was already answered or canceled');
      audit(deps, req, 'command.cancel', e.id, { commandUuid: uuid });
      return json(200, { canceled: true });
    },
  },
  {
    method: 'POST',
    path: '/api/v1/enrollments/{id}/push',
    auth: 'write',
    summary:
      'Send an APNs push now; per device: accepted, failed (with the reason), deferred or no-token',
    async handle(deps, req) {
      const e = await existingEnrollment(deps, req.params.id ?? '');
      if (!deps.pushEnabled)
        throw new AdminError('ERR_PUSH_DISABLED', 'no push certificate is configured');
      const results = await deps.core.pushWithResults([e.id]);
      // `pushed` stays for older clients: the number APNs accepted.
      const pushed = results.filter((r) => r.outcome === 'accepted').length;
      const outcome = results[0]?.outcome ?? null;
      audit(deps, req, 'enrollment.push', e.id, { pushed, outcome });
      return json(200, { pushed, results: results.map(pushResultView) });
    },
  },
];

const commandRoutes: AdminRoute[] = [
  {
    method: 'POST',
    path: '/api/v1/commands',
    auth: 'write',
    summary: 'Queue one command for many enrollments (typed JSON or a plist dictionary)',
    bodyFields: ['enrollmentIds', 'command'],
    plistBody: true,
    bodyLimit: COMMAND_BODY_LIMIT,
    async handle(deps, req) {
      const body = objectBody(req.body, ['enrollmentIds', 'command']);
      const ids = body.enrollmentIds;
      if (!Array.isArray(ids) || ids.length === 0 || ids.length > 1000)
        throw badField('enrollmentIds', 'enrollmentIds must be an array of 1 to 1000 ids');
      const checked = ids.map((id) =>
        idParam('enrollmentIds[]', typeof id === 'string' ? id : undefined),
      );
      for (const id of checked) await existingEnrollment(deps, id);
      const command = commandField(body.command, 'command');
      const uuid = await deps.core.enqueue(checked, command as never);
      audit(deps, req, 'command.create', checked.join(','), {
        commandUuid: uuid,
        requestType: command.RequestType,
      });
      return json(201, { commandUuid: uuid });
    },
  },
  {
    method: 'GET',
    path: '/api/v1/commands/{uuid}',
    auth: 'read',
    summary: 'A command with each target status and the decoded device result',
    query: [ENCODING_QUERY],
    async handle(deps, req) {
      knownQuery(req.query, ['encoding']);
      const encoding = encodingQuery(req.query);
      const found = await deps.core.findCommand(idParam('uuid', req.params.uuid));
      if (!found) throw notFound('command');
      return json(200, commandView(found, encoding));
    },
  },
];

const adminRoutes: AdminRoute[] = [
  {
    method: 'POST',
    path: '/api/v1/enrollment-tokens',
    auth: 'write',
    summary: 'Create an enrollment link (single or multi-use, expiring, optionally for a user)',
    bodyFields: ['singleUse', 'expiresInSeconds', 'user'],
    handle(deps, req) {
      const body = objectBody(req.body, ['singleUse', 'expiresInSeconds', 'user'], true);
      const user = stringField(body, 'user', { max: 128 });
      const expires = intField(body, 'expiresInSeconds', 0, 365 * 86_400);
      const { record, url } = deps.enrollment.createToken({
        singleUse: boolField(body, 'singleUse', true),
        ...(expires === undefined ? {} : { expiresInSeconds: expires }),
        ...(user === undefined ? {} : { user }),
      });
      audit(deps, req, 'enrollment-token.create', record.id, { singleUse: record.singleUse });
      return json(201, { ...tokenView(record), url });
    },
  },
  {
    method: 'GET',
    path: '/api/v1/enrollment-tokens',
    auth: 'read',
    summary: 'List enrollment tokens (without their secrets)',
    handle(deps, req) {
      knownQuery(req.query, ['limit', 'cursor']);
      const page = deps.admin.listEnrollmentTokens(pageQuery(req.query));
      return json(200, { items: page.items.map(tokenView), nextCursor: page.nextCursor ?? null });
    },
  },
  {
    method: 'DELETE',
    path: '/api/v1/enrollment-tokens/{id}',
    auth: 'write',
    summary: 'Revoke an enrollment token',
    handle(deps, req) {
      const id = idParam('id', req.params.id);
      if (!deps.admin.revokeEnrollmentToken(id)) throw notFound('active enrollment token');
      audit(deps, req, 'enrollment-token.revoke', id);
      return json(200, { revoked: true });
    },
  },
  {
    method: 'GET',
    path: '/api/v1/api-keys',
    auth: 'read',
    summary: 'List API keys (without their secrets)',
    handle: (deps) => json(200, { items: deps.admin.listApiKeys().map(apiKeyView) }),
  },
  {
    method: 'POST',
    path: '/api/v1/api-keys',
    auth: 'write',
    summary: 'Create an API key; the key is in this answer only',
    bodyFields: ['name', 'scope'],
    handle(deps, req) {
      const body = objectBody(req.body, ['name', 'scope']);
      const name = stringField(body, 'name', { required: true, max: 64 }) ?? '';
      const scope = stringField(body, 'scope', { required: true, pattern: /^(read|write)$/ });
      const { record, key } = createApiKey(deps.admin, name, scope === 'read' ? 'read' : 'write');
      audit(deps, req, 'api-key.create', record.id, { name, scope: record.scope });
      return json(201, { ...apiKeyView(record), key });
    },
  },
  {
    method: 'DELETE',
    path: '/api/v1/api-keys/{id}',
    auth: 'write',
    summary: 'Revoke an API key',
    handle(deps, req) {
      const id = idParam('id', req.params.id);
      if (!deps.admin.revokeApiKey(id)) throw notFound('active API key');
      audit(deps, req, 'api-key.revoke', id);
      return json(200, { revoked: true });
    },
  },
  {
    method: 'GET',
    path: '/api/v1/audit',
    auth: 'read',
    summary: 'The audit log, newest first (paginated)',
    async handle(deps, req) {
      knownQuery(req.query, ['limit', 'cursor']);
      const paging = pageQuery(req.query);
      const page = await listWithCursor(paging, () => deps.admin.listAudit(paging));
      return json(200, {
        items: page.items.map((e) => ({ ...e, at: e.at.toISOString() })),
        nextCursor: page.nextCursor ?? null,
      });
    },
  },
  {
    method: 'GET',
    path: '/api/v1/openapi.json',
    auth: 'public',
    summary: 'This API as an OpenAPI 3.1 document',
    handle: () => json(200, openApiDocument(ROUTES)),
  },
];

/** Every admin route. A test enumerates them and checks each declared authentication. */
export const ROUTES: readonly AdminRoute[] = [
  ...enrollmentRoutes,
  ...identityRoutes,
  ...commandRoutes,
  ...certificateRoutes,
  ...adminRoutes,
];

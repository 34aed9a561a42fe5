/**
 * The check-in half of the MDM core: enrollment lifecycle, bootstrap tokens, user
 * authentication, and the pluggable GetToken / DeclarativeManagement answers.
 */
import { DeviceAuthError, ProtocolError, StorageError } from '../errors.js';
import type {
  AuthenticateMessage,
  CheckOutMessage,
  DeclarativeManagementMessage,
  GetBootstrapTokenMessage,
  GetTokenMessage,
  SetBootstrapTokenMessage,
  TokenUpdateMessage,
  UnknownCheckinMessage,
  UserAuthenticateMessage,
} from '../protocol/checkin.js';
import { encodePlist, type PlistValue } from '../protocol/plist.js';
import type { EnrollmentRecord } from '../storage/ports.js';
import { eventBase, type CoreContext } from './core-context.js';
import {
  defaultDeclarativeHandler,
  defaultGetTokenHandler,
  parseDeclarativeEndpoint,
} from './declarative.js';
import type { MdmEvent } from './events.js';
import { EMPTY_OK, type MdmRequest, type MdmResponse, type MdmService } from './ports.js';
import { answerUserAuthenticate } from './user-authenticate.js';

// Device facts worth keeping from Authenticate (JSON-safe strings only).
const FACT_KEYS = [
  'DeviceName',
  'Model',
  'ModelName',
  'OSVersion',
  'BuildVersion',
  'ProductName',
  'SerialNumber',
  'IMEI',
  'MEID',
] as const;

/** Fact key marking a channel that had been enrolled before its latest Authenticate. */
export const REENROLLMENT_FACT = 'orchard:reenrollment';

function checkTopic(ctx: CoreContext, topic: string): void {
  const ours = typeof ctx.options.topic === 'function' ? ctx.options.topic() : ctx.options.topic;
  if (ours !== undefined && topic !== ours) {
    throw new DeviceAuthError('ERR_TOPIC', 'Topic is not our push topic', { detail: topic });
  }
}

function authenticateFacts(
  msg: AuthenticateMessage,
  reenrollment: boolean,
): Record<string, unknown> {
  const facts: Record<string, unknown> = {};
  for (const key of FACT_KEYS) {
    const value = msg[key];
    if (typeof value === 'string') facts[key] = value;
  }
  if (reenrollment) facts[REENROLLMENT_FACT] = true;
  return facts;
}

function hex(data: Uint8Array): string {
  return Buffer.from(data.buffer, data.byteOffset, data.length).toString('hex');
}

async function authenticate(
  ctx: CoreContext,
  req: MdmRequest,
  msg: AuthenticateMessage,
): Promise<MdmResponse> {
  checkTopic(ctx, msg.Topic);
  const e = req.enrollment;
  const before = await ctx.storage.findEnrollment(e.id);
  const reenrollment =
    before !== undefined &&
    (before.enrolled || before.tokenUpdateCount > 0 || REENROLLMENT_FACT in before.facts);
  await ctx.storage.storeAuthenticate({ ...e, facts: authenticateFacts(msg, reenrollment) });
  // An identity renewal reinstalls the same enrollment: what was queued for it still applies.
  if (req.identityRenewal !== true) await ctx.storage.clearQueue(e.id);
  ctx.logger.info({ enrollmentId: e.id, type: e.type }, 'authenticate');
  return EMPTY_OK;
}

async function tokenUpdate(
  ctx: CoreContext,
  req: MdmRequest,
  msg: TokenUpdateMessage,
): Promise<MdmResponse> {
  checkTopic(ctx, msg.Topic);
  const e = req.enrollment;
  const facts: Record<string, unknown> = {
    AwaitingConfiguration: msg.AwaitingConfiguration === true,
  };
  if (msg.NotOnConsole !== undefined) facts.NotOnConsole = msg.NotOnConsole;
  const base = eventBase(ctx, e);
  const build = (record: EnrollmentRecord): MdmEvent =>
    record.tokenUpdateCount === 1
      ? { ...base, type: record.facts[REENROLLMENT_FACT] === true ? 're-enrolled' : 'enrolled' }
      : {
          ...base,
          type: 'token-updated',
          awaitingConfiguration: msg.AwaitingConfiguration === true,
        };
  let event: MdmEvent | undefined;
  // The event is written in the same transaction as the enrollment: an `enrolled` event cannot
  // be lost to a failure after the commit (the device's retry would count a second TokenUpdate).
  const record = await ctx.storage.storeTokenUpdate(
    {
      ...e,
      push: { token: hex(msg.Token), pushMagic: msg.PushMagic, topic: msg.Topic },
      ...(msg.UnlockToken === undefined ? {} : { unlockToken: msg.UnlockToken }),
      facts,
    },
    ctx.events.withEvent((r) => (event = build(r))),
  );
  ctx.events.notify(event ?? build(record));
  await ctx.seen(e.id);
  return EMPTY_OK;
}

async function checkOut(
  ctx: CoreContext,
  req: MdmRequest,
  _msg: CheckOutMessage,
): Promise<MdmResponse> {
  const e = req.enrollment;
  const event: MdmEvent = { ...eventBase(ctx, e), type: 'checked-out' };
  if (
    await ctx.storage.markCheckedOut(
      e.id,
      ctx.events.withEvent(() => event),
    )
  ) {
    await ctx.storage.clearQueue(e.id);
    ctx.events.notify(event);
  }
  return EMPTY_OK;
}

async function userAuthenticate(
  ctx: CoreContext,
  req: MdmRequest,
  msg: UserAuthenticateMessage,
): Promise<MdmResponse> {
  const outcome = await answerUserAuthenticate(ctx.options.userAuthenticate ?? {}, req, msg);
  if (outcome.finished) {
    await ctx.events.emit({
      ...eventBase(ctx, req.enrollment),
      type: 'user-authenticated',
      declined: outcome.declined,
    });
  }
  return outcome.response;
}

function sealer(ctx: CoreContext): NonNullable<CoreContext['deps']['bootstrapSealer']> {
  const s = ctx.deps.bootstrapSealer;
  if (s === undefined)
    throw new ProtocolError('ERR_NOT_CONFIGURED', 'bootstrap token escrow is not configured');
  return s;
}

async function setBootstrapToken(
  ctx: CoreContext,
  req: MdmRequest,
  msg: SetBootstrapTokenMessage,
): Promise<MdmResponse> {
  const token = msg.BootstrapToken;
  const id = req.enrollment.id;
  const sealed =
    token === undefined || token.length === 0 ? undefined : sealer(ctx).seal(id, token);
  await ctx.storage.storeBootstrapToken(id, sealed);
  return EMPTY_OK;
}

async function getBootstrapToken(
  ctx: CoreContext,
  req: MdmRequest,
  _msg: GetBootstrapTokenMessage,
): Promise<MdmResponse> {
  const id = req.enrollment.id;
  const s = sealer(ctx);
  const sealed = await ctx.storage.findBootstrapToken(id);
  const dict: Record<string, PlistValue> = {};
  if (sealed !== undefined) {
    try {
      dict.BootstrapToken = s.open(id, sealed);
    } catch (cause) {
      // A stored token that does not open is our fault (key changed, row corrupted): 5xx.
      throw new StorageError('escrowed bootstrap token could not be opened', { cause });
    }
  }
  return {
    status: 200,
    body: encodePlist(dict, { format: 'xml' }),
    contentType: 'application/xml',
  };
}

function getToken(ctx: CoreContext, req: MdmRequest, msg: GetTokenMessage): Promise<MdmResponse> {
  return (ctx.options.getToken ?? defaultGetTokenHandler)(req, msg);
}

function declarativeManagement(
  ctx: CoreContext,
  req: MdmRequest,
  msg: DeclarativeManagementMessage,
): Promise<MdmResponse> {
  const endpoint = parseDeclarativeEndpoint(msg.Endpoint);
  return (ctx.options.declarativeManagement ?? defaultDeclarativeHandler)(req, msg, endpoint);
}

function unknownCheckin(
  ctx: CoreContext,
  req: MdmRequest,
  msg: UnknownCheckinMessage,
): Promise<MdmResponse> {
  if (ctx.options.unknownCheckin !== undefined) return ctx.options.unknownCheckin(req, msg);
  ctx.logger.warn(
    { enrollmentId: req.enrollment.id, messageType: msg.MessageType },
    'check-in newer than our schema',
  );
  return Promise.resolve(EMPTY_OK);
}

/** The check-in methods of {@link MdmService} bound to a core context. */
export function checkinMethods(ctx: CoreContext): Omit<MdmService, 'commandReport'> {
  return {
    authenticate: (req, msg) => authenticate(ctx, req, msg),
    tokenUpdate: (req, msg) => tokenUpdate(ctx, req, msg),
    checkOut: (req, msg) => checkOut(ctx, req, msg),
    userAuthenticate: (req, msg) => userAuthenticate(ctx, req, msg),
    setBootstrapToken: (req, msg) => setBootstrapToken(ctx, req, msg),
    getBootstrapToken: (req, msg) => getBootstrapToken(ctx, req, msg),
    getToken: (req, msg) => getToken(ctx, req, msg),
    declarativeManagement: (req, msg) => declarativeManagement(ctx, req, msg),
    unknownCheckin: (req, msg) => unknownCheckin(ctx, req, msg),
  };
}

/**
 * ACME accounts (RFC 8555 sections 7.3 to 7.3.6): creation or lookup by key, contact updates,
 * deactivation, and account key rollover (`keyChange`), which needs a request signed by the old
 * key wrapping one signed by the new key, and changes the key only if it is still the old one.
 */
import { AcmeError } from '../errors.js';
import type { AcmeAccountRecord } from '../storage/ports.js';
import { accountSigned, keySigned, type AccountRequest, type AcmeContext } from './context.js';
import { accountKeyOf, parseJws, payloadObject, protectedHeader, verifyJws } from './jws.js';
import type { AcmeReply } from './types.js';
import { accountView } from './views.js';

const malformed = (message: string): AcmeError => new AcmeError('ERR_ACME_MALFORMED', message);

/** The `contact` of a payload: at most 4 `mailto:` URLs. Throws malformed otherwise. */
function contactOf(value: unknown): string[] | undefined {
  if (value === undefined) return undefined;
  if (
    !Array.isArray(value) ||
    value.length > 4 ||
    !value.every((c) => typeof c === 'string' && /^mailto:[^\s,]{3,254}$/.test(c))
  )
    throw new AcmeError('ERR_ACME_MALFORMED', 'contact must be up to 4 mailto: URLs');
  return value as string[];
}

function accountReply(ctx: AcmeContext, account: AcmeAccountRecord, status: number): AcmeReply {
  return {
    status,
    body: { json: accountView(account) },
    location: ctx.urls.resource('acct', account.id),
  };
}

/** `new-account`: 201 with a new account, 200 with the existing account of this key. */
export async function newAccount(ctx: AcmeContext, body: Uint8Array): Promise<AcmeReply> {
  const req = await keySigned(ctx, body, ctx.urls.of('/new-account'));
  const payload = req.payload ?? {};
  if (payload.externalAccountBinding !== undefined)
    throw malformed('external account binding is not supported');
  const existing = await ctx.store.findAccountByThumbprint(req.key.thumbprint);
  if (existing !== undefined) return accountReply(ctx, existing, 200);
  if (payload.onlyReturnExisting === true)
    throw new AcmeError('ERR_ACME_ACCOUNT_DOES_NOT_EXIST', 'no account has this key');
  const record: AcmeAccountRecord = {
    id: ctx.newId(),
    thumbprint: req.key.thumbprint,
    jwk: JSON.stringify(req.key.jwk),
    status: 'valid',
    contact: contactOf(payload.contact) ?? [],
    createdAt: ctx.clock(),
  };
  const stored = await ctx.store.createAccount(record);
  return accountReply(ctx, stored, stored.id === record.id ? 201 : 200);
}

/** `acct/{id}`: POST-as-GET reads the account; a payload updates contact or deactivates it. */
export async function accountRequest(
  ctx: AcmeContext,
  id: string,
  body: Uint8Array,
): Promise<AcmeReply> {
  const req = await accountSigned(ctx, body, ctx.urls.resource('acct', id));
  if (req.account.id !== id)
    throw new AcmeError('ERR_ACME_UNAUTHORIZED', 'the account URL is not the signer');
  const p = req.payload;
  if (p === undefined) return accountReply(ctx, req.account, 200);
  if (p.status !== undefined && p.status !== 'deactivated')
    throw malformed('a client may only set status to deactivated');
  const contact = contactOf(p.contact);
  const change = {
    ...(p.status === 'deactivated' ? { status: 'deactivated' as const } : {}),
    ...(contact === undefined ? {} : { contact }),
  };
  const updated = await ctx.store.updateAccount(id, change);
  if (updated === undefined) throw new AcmeError('ERR_ACME_UNAUTHORIZED', 'the account changed');
  return accountReply(ctx, updated, 200);
}

/**
 * The inner JWS of a key change: signed by the new key (`jwk`), same `url`, no nonce, payload
 * `{ account, oldKey }` naming the outer signer and its current key. Throws malformed otherwise.
 */
async function innerKeyChange(ctx: AcmeContext, outer: AccountRequest, url: string) {
  const inner = parseJws(outer.rawPayload);
  const header = protectedHeader(inner);
  if (header.jwk === undefined) throw malformed('the inner JWS must carry the new key as jwk');
  if (header.url !== url) throw malformed('the inner JWS url differs from the outer one');
  if (header.nonce !== undefined) throw malformed('the inner JWS must not carry a nonce');
  const next = await accountKeyOf(header.jwk, header.alg);
  const payload = payloadObject(await verifyJws(inner, next.key, header.alg));
  if (payload?.account !== ctx.urls.resource('acct', outer.account.id))
    throw malformed('the inner JWS names another account');
  const old = await accountKeyOf(payload.oldKey, outer.header.alg).catch(() => {
    throw malformed('oldKey is not the account key');
  });
  if (old.thumbprint !== outer.account.thumbprint) throw malformed('oldKey is not the account key');
  if (next.thumbprint === old.thumbprint) throw malformed('the new key is the current key');
  return next;
}

/** `key-change`: replaces the account key (section 7.3.5). */
export async function keyChange(ctx: AcmeContext, body: Uint8Array): Promise<AcmeReply> {
  const url = ctx.urls.of('/key-change');
  const outer = await accountSigned(ctx, body, url);
  const next = await innerKeyChange(ctx, outer, url);
  const outcome = await ctx.store.changeAccountKey(outer.account.id, outer.account.thumbprint, {
    thumbprint: next.thumbprint,
    jwk: JSON.stringify(next.jwk),
  });
  if (outcome === 'conflict') {
    const holder = await ctx.store.findAccountByThumbprint(next.thumbprint);
    throw new AcmeError('ERR_ACME_CONFLICT', 'another account has the new key', {
      detail: { location: holder && ctx.urls.resource('acct', holder.id) },
    });
  }
  if (outcome === 'stale') throw new AcmeError('ERR_ACME_UNAUTHORIZED', 'the account key changed');
  const account = await ctx.store.findAccount(outer.account.id);
  return accountReply(ctx, account ?? outer.account, 200);
}

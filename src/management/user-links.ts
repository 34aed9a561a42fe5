/**
 * Personal and generic enrollment links (rules M9, M10, S9). A user's personal link is made once,
 * kept (its secret is stored, so it can be shown and mailed again) and replaced only by rotation
 * (the old one then answers 410). A group's generic links enroll many devices. Lifetimes follow
 * the effective `enrollment` settings page of the link's group, at least 24 hours.
 *
 * Links are made only while the group's `enrollment.allowedEnrollmentTypes` includes `device`
 * (the one type a link enrolls with): 409 `ERR_ENROLLMENT_TYPE_DISABLED` otherwise. A link made
 * earlier keeps working until it expires, is rotated or is revoked.
 */
import { AdminError, ManagementError } from '../errors.js';
import type { Mailer } from '../mail/ports.js';
import type {
  EnrollmentLinkStore,
  EnrollmentTokenRecord,
  NewEnrollmentToken,
  PolicyStore,
  UserRecord,
  UserStore,
} from '../storage/ports.js';
import type { GroupService } from './groups-service.js';
import { invitationMessage } from './invitation.js';
import { readEffectivePolicy, resolvePolicyRef } from './policies-ref.js';
import { linkState, linkStatus, qrCode, type LinkState, type LinkStatus } from './user-links-qr.js';

export {
  qrCode,
  linkState,
  linkStatus,
  type LinkState,
  type LinkStatus,
  type QrFormat,
} from './user-links-qr.js';

/** The least lifetime of a link and of its challenges (S9): 24 hours. */
export const MIN_LINK_LIFETIME_SECONDS = 86_400;

/** A personal or generic link as shown: its record, URL, status, state and policy. */
export interface LinkView {
  record: EnrollmentTokenRecord;
  url: string;
  status: LinkStatus;
  state: LinkState;
  /** The policy `record.policy` names (a generic link's, or a personal link's user's own). */
  policy?: { id: string; name: string };
}

/** What {@link createUserLinks} needs. */
export interface UserLinksDeps {
  store: Pick<
    EnrollmentLinkStore,
    | 'createEnrollmentToken'
    | 'findEnrollmentToken'
    | 'findEnrollmentTokenSecret'
    | 'findPersonalEnrollmentToken'
    | 'rotateEnrollmentToken'
    | 'markEnrollmentTokenSent'
    | 'revokeEnrollmentToken'
    | 'listEnrollmentTokens'
  > &
    Pick<UserStore, 'findUser'> &
    Pick<PolicyStore, 'findPolicy' | 'findPolicyByName' | 'listGroupPolicies'>;
  /** Effective `enrollment` settings, and the tree a user's effective policy is found on. */
  groups: Pick<GroupService, 'effectiveSettings' | 'tree'>;
  /** A fresh link secret and its hash (`mintTokenSecret` of the admin side). */
  mint: () => { secret: string; hash: string };
  /** The base URL devices use, without a trailing slash. */
  publicUrl: () => string;
  /** Absent, {@link UserLinks.send} answers 503 `ERR_MAIL_DISABLED`. */
  mailer?: Mailer;
  clock: () => Date;
  /** Who invites, in the invitation's subject and text. */
  organization?: string;
  /**
   * Mints a one-time portal password-setup token for a user (`WebAccounts.setupToken`); when
   * given, each invitation also carries `${publicUrl}/portal/setup?token=...` (a fresh token).
   */
  passwordSetup?: (userId: string) => Promise<string>;
}

/** Personal links of users and generic links of groups. */
export interface UserLinks {
  /**
   * The user's active personal link, made on first use and replaced (rotated) once expired.
   * 404 `ERR_USER_NOT_FOUND`; 409 `ERR_USER_NO_POLICY` while the user has no effective policy
   * (neither their own nor a default of their group or one above it); 409
   * `ERR_ENROLLMENT_TYPE_DISABLED` when the user's group does not allow `device` enrollment.
   */
  personal(userId: string): Promise<LinkView>;
  /** Replaces the user's personal link with a new secret; the old one answers 410. Errors as {@link personal}. */
  rotate(userId: string): Promise<LinkView>;
  /**
   * Mails the user's personal link (the same link) with its QR code and extends its expiry by the
   * page's lifetime. 503 `ERR_MAIL_DISABLED` without a mailer, 503 `ERR_MAIL` when the mail
   * server fails (the link is then not marked sent); otherwise errors as {@link personal}.
   */
  send(userId: string): Promise<LinkView>;
  /**
   * Makes a generic link of `groupId` with an optional policy (an id or a name, seen from `scope`
   * when given), living `expiresInSeconds` (at least 86400; default the page's lifetime). 404
   * `ERR_GROUP_NOT_FOUND`, 409 `ERR_ENROLLMENT_TYPE_DISABLED`, 422 `ERR_POLICY_UNKNOWN`;
   * TypeError on a lifetime under 24 hours.
   */
  createGeneric(
    groupId: string,
    options?: { policy?: string; expiresInSeconds?: number; scope?: string },
  ): Promise<LinkView>;
  /** The generic links of `groupId` (revoked ones too), oldest id first. */
  listGeneric(groupId: string): Promise<LinkView[]>;
  /** A generic link; 404 `ERR_LINK_NOT_FOUND` when unknown or not generic. */
  generic(linkId: string): Promise<LinkView>;
  /** Revokes a generic link; 404 `ERR_LINK_NOT_FOUND` when unknown, not generic or already revoked. */
  revokeGeneric(linkId: string): Promise<EnrollmentTokenRecord>;
  /** The QR code of `url` (see {@link qrCode}). */
  qr: typeof qrCode;
}

/** 404 `ERR_USER_NOT_FOUND`. */
export function userNotFound(id: string): ManagementError {
  return new ManagementError('ERR_USER_NOT_FOUND', `no user ${id}`);
}

function linkNotFound(id: string): ManagementError {
  return new ManagementError('ERR_LINK_NOT_FOUND', `no generic enrollment link ${id}`);
}

/** Creates the link service over the stores, the group settings and an optional mailer. */
export function createUserLinks(deps: UserLinksDeps): UserLinks {
  const { store, clock } = deps;

  /** Seconds a link of `groupId` lives; 409 when the group does not allow device enrollment. */
  async function lifetimeOf(groupId: string): Promise<number> {
    const { values } = await deps.groups.effectiveSettings(groupId, 'enrollment');
    const types = values.allowedEnrollmentTypes as readonly string[];
    if (!types.includes('device'))
      throw new ManagementError(
        'ERR_ENROLLMENT_TYPE_DISABLED',
        `the enrollment settings of group ${groupId} do not allow device enrollment, which links use`,
        { group: groupId },
      );
    return Math.max(MIN_LINK_LIFETIME_SECONDS, values.linkLifetimeSeconds as number);
  }

  const until = (seconds: number) => new Date(clock().getTime() + seconds * 1000);

  async function view(record: EnrollmentTokenRecord, secret?: string): Promise<LinkView> {
    const kept = secret ?? (await store.findEnrollmentTokenSecret(record.id));
    if (kept === undefined) throw new TypeError(`the store kept no secret for link ${record.id}`);
    const policy = record.policy === undefined ? undefined : await store.findPolicy(record.policy);
    return {
      record,
      url: `${deps.publicUrl()}/enroll/${kept}`,
      status: linkStatus(record),
      state: linkState(record, clock()),
      ...(policy === undefined ? {} : { policy: { id: policy.id, name: policy.name } }),
    };
  }

  /** The user with an effective policy, and the lifetime of its links. */
  async function eligible(userId: string): Promise<{ user: UserRecord; lifetime: number }> {
    const user = await store.findUser(userId);
    if (user === undefined) throw userNotFound(userId);
    const effective = await readEffectivePolicy(store, await deps.groups.tree(), user);
    if (effective.policy === undefined)
      throw new ManagementError(
        'ERR_USER_NO_POLICY',
        `user ${user.username} has no policy yet (neither their own nor a default policy of their group or one above it): assign one before handing out an enrollment link`,
        { field: 'policy' },
      );
    return { user, lifetime: await lifetimeOf(user.groupId) };
  }

  function personalToken(user: UserRecord, lifetime: number) {
    const { secret, hash } = deps.mint();
    const input: NewEnrollmentToken = {
      hash,
      secret,
      kind: 'personal',
      singleUse: false,
      expiresAt: until(lifetime),
      user: user.username,
      userId: user.id,
      groupId: user.groupId,
      ...(user.policy === undefined ? {} : { policy: user.policy }),
    };
    return { secret, input };
  }

  async function replace(
    current: EnrollmentTokenRecord | undefined,
    user: UserRecord,
    lifetime: number,
  ) {
    const { secret, input } = personalToken(user, lifetime);
    const next =
      current === undefined
        ? await store.createEnrollmentToken(input)
        : await store.rotateEnrollmentToken(current.id, input, clock());
    // A concurrent rotation won: show the link it made.
    if (next === undefined) return personal(user.id);
    return view(next, secret);
  }

  async function personal(userId: string): Promise<LinkView> {
    const { user, lifetime } = await eligible(userId);
    const current = await store.findPersonalEnrollmentToken(user.id);
    if (current !== undefined && linkState(current, clock()) === 'active') return view(current);
    return replace(current, user, lifetime);
  }

  return {
    personal,
    async rotate(userId) {
      const { user, lifetime } = await eligible(userId);
      return replace(await store.findPersonalEnrollmentToken(user.id), user, lifetime);
    },
    async send(userId) {
      const { mailer } = deps;
      if (mailer === undefined)
        throw new AdminError('ERR_MAIL_DISABLED', 'no mail server is configured (--smtp-url)');
      const { user, lifetime } = await eligible(userId);
      const link = await personal(userId);
      const qrPng = (await qrCode(link.url, 'png')) as Uint8Array;
      const expiresAt = until(lifetime);
      const setup = deps.passwordSetup && (await deps.passwordSetup(user.id));
      await mailer.send(
        invitationMessage({
          user,
          url: link.url,
          qrPng,
          expiresAt,
          ...(deps.organization === undefined ? {} : { organization: deps.organization }),
          ...(setup === undefined
            ? {}
            : { portalSetupUrl: `${deps.publicUrl()}/portal/setup?token=${setup}` }),
        }),
      );
      const sent = await store.markEnrollmentTokenSent(link.record.id, clock(), expiresAt);
      return sent === undefined ? link : { ...link, record: sent, status: linkStatus(sent) };
    },
    async createGeneric(groupId, options = {}) {
      const lifetime = await lifetimeOf(groupId);
      const seconds = options.expiresInSeconds ?? lifetime;
      if (!Number.isInteger(seconds) || seconds < MIN_LINK_LIFETIME_SECONDS)
        throw new TypeError('a generic link lives at least 86400 seconds (24 hours)');
      const policy =
        options.policy === undefined
          ? undefined
          : await resolvePolicyRef(store, await deps.groups.tree(), options.policy, {
              scope: options.scope,
            });
      const { secret, hash } = deps.mint();
      const record = await store.createEnrollmentToken({
        ...{ hash, secret, kind: 'generic', singleUse: false, groupId },
        expiresAt: until(seconds),
        ...(policy === undefined ? {} : { policy: policy.id }),
      });
      return view(record, secret);
    },
    async listGeneric(groupId) {
      const found: EnrollmentTokenRecord[] = [];
      let cursor: string | undefined;
      // No index by group yet: generic links are few, so a scan of every link is acceptable.
      do {
        const page = await store.listEnrollmentTokens({
          limit: 500,
          ...(cursor ? { cursor } : {}),
        });
        found.push(...page.items.filter((r) => r.kind === 'generic' && r.groupId === groupId));
        cursor = page.nextCursor;
      } while (cursor !== undefined);
      return Promise.all(found.map((r) => view(r)));
    },
    async generic(linkId) {
      const record = await store.findEnrollmentToken(linkId);
      if (record?.kind !== 'generic') throw linkNotFound(linkId);
      return view(record);
    },
    async revokeGeneric(linkId) {
      const record = await store.findEnrollmentToken(linkId);
      if (record?.kind !== 'generic' || !(await store.revokeEnrollmentToken(linkId)))
        throw linkNotFound(linkId);
      return { ...record, revokedAt: clock() };
    },
    qr: qrCode,
  };
}

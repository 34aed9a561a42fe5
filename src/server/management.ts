/**
 * The management model's services as the daemon runs them: the group service (settings
 * inheritance) and the profile library over the admin storage, signing with the daemon's
 * profile-signing identity. Settings changes (rule A10) are logged and, with an Orchard-format
 * webhook, delivered as `settings-changed` events.
 */
import { randomUUID } from 'node:crypto';
import { mintTokenSecret } from '../admin/enrollment-links.js';
import { createWebAccounts } from '../admin/web-accounts.js';
import type { SigningIdentity } from '../identity/ca/directory.js';
import type { Logger } from '../logger.js';
import type { Mailer } from '../mail/ports.js';
import {
  createGroupService,
  type GroupService,
  type SettingsChange,
} from '../management/groups-service.js';
import { createProfileLibrary, type ProfileLibrary } from '../management/profile-library.js';
import { createUserService, type UserService } from '../management/users.js';
import { createUserLinks, type UserLinks } from '../management/user-links.js';
import { createPolicyService } from '../management/policies.js';
import { createDeliveryService, type DeliveryEngine } from '../management/delivery/service.js';
import type { PolicyService } from '../management/delivery/types.js';
import type { MdmCore } from '../service/core.js';
import type { AdminStorage, CheckinStore, OutboxStore } from '../storage/ports.js';

/** The management services {@link createManagementServices} returns. */
export interface ManagementServices {
  groups: GroupService;
  profiles: ProfileLibrary;
  /** Personal and generic enrollment links, their QR codes and invitation mail. */
  userLinks: UserLinks;
  /** Users of the organization groups, with the CSV import. */
  users: UserService;
  /** Policies owned by groups: profiles with assignment types and removal controls. */
  policies: PolicyService;
  /** Delivery of policies to devices; feed it the core's events (see `startDelivery`). */
  delivery: DeliveryEngine;
}

/** What {@link createManagementServices} needs. */
export interface ManagementServicesDeps {
  admin: AdminStorage;
  signing: SigningIdentity;
  clock: () => Date;
  logger: Logger;
  /** Where `settings-changed` events go (an Orchard-format webhook's outbox); absent, only logged. */
  outbox?: Pick<OutboxStore, 'enqueueEvent'>;
  /** The base URL devices use, for enrollment links (default `''`). */
  publicUrl?: () => string;
  /** Sends invitations; absent, sending answers 503 `ERR_MAIL_DISABLED`. */
  mailer?: Mailer;
  /** The MDM core the delivery service queues and pushes through. */
  core: Pick<MdmCore, 'enqueue' | 'cancel' | 'findCommand' | 'push'>;
  /** The check-in store: enrollments and their facts. */
  enrollments: Pick<
    CheckinStore,
    'findEnrollment' | 'findEnrollments' | 'mergeFacts' | 'listEnrollments'
  >;
  /** A device is reconciled (ProfileList) when not reconciled within this; default 24 h. */
  reconcileIntervalMs?: number;
}

/** The JSON of one `settings-changed` event: every group whose effective page changed. */
function settingsEvent(changes: readonly SettingsChange[], at: Date) {
  return {
    id: randomUUID(),
    type: 'settings-changed',
    at: at.toISOString(),
    changes: changes.map((c) => ({
      groupId: c.groupId,
      page: c.page,
      before: { values: c.before.values, sourceGroupId: c.before.sourceGroupId },
      after: { values: c.after.values, sourceGroupId: c.after.sourceGroupId },
    })),
  };
}

/**
 * Creates the group service and the profile library on `deps.admin`. A failed event delivery is
 * logged, never thrown: the change itself is already applied and audited.
 */
export function createManagementServices(deps: ManagementServicesDeps): ManagementServices {
  const { admin, clock, logger, outbox } = deps;
  const groups = createGroupService({
    store: admin,
    principals: admin,
    users: admin,
    clock,
    onSettingsChanged(changes) {
      logger.info(
        { groups: changes.map((c) => `${c.groupId}/${c.page}`) },
        'effective settings changed',
      );
      if (!outbox) return;
      const event = settingsEvent(changes, clock());
      outbox
        .enqueueEvent({
          id: event.id,
          type: event.type,
          payload: JSON.stringify(event),
          createdAt: new Date(event.at),
        })
        .catch((err: unknown) => {
          logger.error({ err }, 'settings-changed event not queued');
        });
    },
  });
  const { certificate, privateKey, chain } = deps.signing;
  const profiles = createProfileLibrary({
    store: admin,
    groups,
    signing: { certificate, privateKey, chain },
    clock,
  });
  const accounts = createWebAccounts({ store: admin, clock });
  const userLinks = createUserLinks({
    ...{ store: admin, groups, mint: () => mintTokenSecret(), clock },
    publicUrl: deps.publicUrl ?? (() => ''),
    ...(deps.mailer === undefined ? {} : { mailer: deps.mailer }),
    // Each invitation carries a fresh one-time link to set the user's portal password.
    passwordSetup: (userId) => accounts.setupToken(userId),
  });
  const delivery = createDeliveryService(
    {
      ...{ store: admin, enrollments: deps.enrollments, commands: deps.core, groups },
      ...{ signing: { certificate, privateKey, chain }, clock, logger },
    },
    deps.reconcileIntervalMs === undefined ? {} : { reconcileIntervalMs: deps.reconcileIntervalMs },
  );
  const policies = createPolicyService({ store: admin, groups, effects: delivery, clock });
  // A user's policy or group changed: their devices are planned again.
  const users = createUserService({
    store: admin,
    groups,
    onUsersChanged: (userIds) => delivery.apply({ kind: 'users', userIds }),
  });
  return { groups, profiles, userLinks, users, policies, delivery };
}

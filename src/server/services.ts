/**
 * Orchard's MDM and SCEP side, wired from parts an embedder has already opened: the MDM core
 * behind certificate authentication, the issuing CA and its SCEP handler, one-time challenges and
 * enrollment links, push outcomes, webhooks, and identity renewal. `orchard serve` runs exactly
 * this; an embedder mounts the results on its own server.
 */
import { sealerFor, type SecretsKeyring } from '../crypto/secrets-key.js';
import {
  createEnrollmentService,
  identityAuditObservers,
  withEnrollmentLinks,
  type EnrollmentService,
} from '../admin/index.js';
import { createScepHandler, type ScepHandler } from '../http/scep.js';
import { createCa, type CaMaterial, type CertificateAuthority } from '../identity/ca/authority.js';
import type { SigningIdentity } from '../identity/ca/directory.js';
import {
  anyChallenge,
  createOneTimeChallenges,
  staticChallenge,
  type ChallengeValidator,
} from '../identity/scep/challenge.js';
import type { Logger } from '../logger.js';
import { createPushStats, type PushStats } from '../push/apns/stats.js';
import type { PushHealth, PushProvider } from '../push/ports.js';
import { withCertAuth } from '../service/cert-auth.js';
import { withIdlePolls, type IdlePollProbe } from '../service/core-idle.js';
import { createMdmCore, type MdmCore } from '../service/core.js';
import type { MdmService } from '../service/ports.js';
import { createIdentityRenewal, type IdentityRenewalService } from '../service/identity-renewal.js';
import type { Mailer } from '../mail/ports.js';
import type { WebhookFormat } from '../service/outbox-delivery.js';
import type {
  AdminStorage,
  CertificateStore,
  ChallengeStore,
  MdmStorage,
  Coordination,
} from '../storage/ports.js';
import {
  allObservers,
  DEFAULT_GENERIC_PREFIX,
  enrollmentOwnerObserver,
} from '../management/enrollment-owners.js';
import type { DeliveryService, PolicyService } from '../management/delivery/types.js';
import { createManagementServices, type ManagementServices } from './management.js';
import { startWebhooks, type OrchardWebhooks } from './webhooks.js';
import { startDelivery } from './delivery.js';
import { inProcessCoordination, startSingletonJob } from './coordination.js';
import type { AcmeClientIdentifiers } from '../acme/client-identifiers.js';
import { createAcmeEnrollment, type AcmeEnrollment } from './acme-enrollment.js';

/** A push provider the services can serve: pushes, its topic, its health, and a close. */
export interface OrchardPush extends PushProvider {
  readonly topic: string;
  health(): PushHealth;
  close(): Promise<void>;
}

/**
 * Where the services report counts; `OrchardMetrics` (`orchard-mdm/metrics`) is one. Every
 * method is called synchronously and must not throw.
 */
export interface OrchardMetricsSink {
  /** One push result by outcome (`orchard_pushes_total`). */
  pushed(outcome: string): void;
  /** One enrollment's push outcome with its reason. */
  pushResult(outcome: string, reason?: string): void;
  /** A device enrolled, re-enrolled or checked out. */
  enrollment(event: 'enrolled' | 're-enrolled' | 'checked-out'): void;
}

/** The already-opened parts {@link createOrchardServices} wires. */
export interface OrchardServicesDeps {
  /** The MDM store; also the webhook outbox and the certificate bindings. */
  storage: MdmStorage;
  /** API keys, audit log, enrollment links and settings. */
  admin: AdminStorage;
  /** The CA's issued certificates and the one-time SCEP challenges. */
  ca: { certificates: CertificateStore; challenges: ChallengeStore };
  /** The CA key material and the profile-signing identity (see `openPkiDirectory`). */
  pki: { ca: CaMaterial; signing: SigningIdentity };
  /** Seals escrowed bootstrap tokens; absent, the core refuses to escrow them. */
  secrets?: SecretsKeyring;
  /** The APNs provider, or `undefined` without a push certificate. Closed by `close()`. */
  push: OrchardPush | undefined;
  clock: () => Date;
  logger: Logger;
  /** Where identity renewal logs (default `logger`). */
  identityLogger?: Logger;
  metrics?: OrchardMetricsSink;
  /**
   * Answers idle polls from one read (see `withIdlePolls`); give it only when it reads the
   * bindings of `storage` and the revocations of `ca.certificates` (one SQLite database:
   * `(q) => storage.probeIdleNow(q)`). Absent: every poll takes the full path.
   */
  idlePolls?: IdlePollProbe;
  /**
   * How daemons sharing the database coordinate (PostgreSQL's `pgCoordination`); default this
   * process alone. Singleton jobs (profile reconciliation, identity renewal) run under its locks.
   */
  coordination?: Coordination;
  /**
   * ACME enrollment (issue 22): the one-time ClientIdentifiers over the database's store. Given,
   * link downloads carry the ACME payload where the `enrollment` page's `identity` selects it,
   * the core refuses ACME identities attested for another device, and `acmeEnrollment.serverHooks`
   * are what `createAcmeServer` takes.
   */
  acmeIdentifiers?: AcmeClientIdentifiers;
}

/** Policy of {@link createOrchardServices}. */
export interface OrchardServicesOptions {
  /** Deliver events to this URL, HMAC-signed with `secret`; `nanomdm` wraps the served service. */
  webhook?: { url: string; secret: string; format?: WebhookFormat };
  /** A static SCEP challenge accepted beside the one-time ones. */
  scepChallenge?: string;
  /** Accept single-DES SCEP envelopes (weak; only for old clients). Default false. */
  scepAllowDes?: boolean;
  /** The base URL devices use, read whenever a profile is built (default `''`). */
  publicUrl?: () => string;
  /** Lifetime of the challenge of a link that never expires (default 7 days). */
  enrollmentChallengeTtlSeconds?: number;
  /** Renew device identities this many days before they expire (default 30). */
  identityRenewalLeadDays?: number;
  /** Reconcile (ProfileList) each device not reconciled within this many ms (default 24 h). */
  reconcileIntervalMs?: number;
  /** Sends invitation mail (e.g. `createSmtpMailer`); absent, sending answers 503. */
  mailer?: Mailer;
  /**
   * Run the background jobs (default true): webhook delivery, the reconcile timer and identity
   * renewal scans. False in all but one of several processes over one database: they only
   * serve requests (and still write events to the outbox for the one that delivers).
   */
  backgroundJobs?: boolean;
}

/** What {@link createOrchardServices} returns; mount `service` on `/mdm` and `scep` on `/scep`. */
export interface OrchardServices {
  core: MdmCore;
  /** The service devices talk to: the core behind certificate authentication (and webhooks). */
  service: MdmService;
  ca: CertificateAuthority;
  scep: ScepHandler;
  enrollment: EnrollmentService;
  /** Identity renewal, started when a push provider is given (renewals need push). */
  identity: IdentityRenewalService;
  /** Mints a one-time SCEP challenge bound to `boundTo`, valid one hour or `ttlSeconds`. */
  issueChallenge(boundTo: string, ttlSeconds?: number): Promise<string>;
  /** Recent push outcomes by reason, for a health check. */
  pushStats: PushStats;
  /** Organization groups with their settings (inheritance rules A1-A11). */
  groups: ManagementServices['groups'];
  /** The profile library, signing with the profile-signing identity. */
  profiles: ManagementServices['profiles'];
  /** Personal and generic enrollment links, their QR codes and invitation mail. */
  userLinks: ManagementServices['userLinks'];
  /** Users of the organization groups, with the CSV import. */
  users: ManagementServices['users'];
  /** Policies owned by groups: their profiles, assignment types and removal controls. */
  policies: PolicyService;
  /** Delivery of policies to devices: plans, acknowledgements, reconciliation, explain. */
  delivery: DeliveryService;
  /** The base URL devices and browsers use (links, QR codes, the portal's cookies). */
  publicUrl: () => string;
  /** The invitation mailer, when one was given. */
  mailer?: Mailer;
  /** The webhook delivery worker (absent without `webhook`). */
  webhooks: OrchardWebhooks['worker'];
  /** How this daemon coordinates with others on its database (the one given, or in-process). */
  coordination: Coordination;
  /** ACME enrollment, when `deps.acmeIdentifiers` was given (spread `serverHooks` into the ACME server). */
  acmeEnrollment?: AcmeEnrollment;
  /** Stops identity renewal, the core, the webhook worker and the push provider, in that order. */
  close(): Promise<void>;
}

/** How often identity renewal sweeps (the renewal service's own default: hourly). */
const IDENTITY_SWEEP_MS = 3_600_000;

/** `provider`, counting every push result by outcome. */
function counted(provider: PushProvider, metrics: OrchardMetricsSink | undefined): PushProvider {
  if (!metrics) return provider;
  return {
    async push(targets) {
      const results = await provider.push(targets);
      for (const r of results) metrics.pushed(r.outcome);
      return results;
    },
  };
}

/** The effective `genericLinkPrefix` of the `enrollment` page at `groupId`. */
async function genericPrefixOf(groups: ManagementServices['groups'], groupId: string) {
  const page = await groups.effectiveSettings(groupId, 'enrollment');
  const prefix = page.values.genericLinkPrefix;
  return typeof prefix === 'string' ? prefix : DEFAULT_GENERIC_PREFIX;
}

function createCore(deps: OrchardServicesDeps, outbox: boolean, stats: PushStats): MdmCore {
  const { push, metrics } = deps;
  const core = createMdmCore(
    {
      ...{ storage: deps.storage, logger: deps.logger, clock: deps.clock },
      ...(deps.secrets ? { bootstrapSealer: sealerFor(deps.secrets, 'bootstrap-token') } : {}),
      ...(push ? { push: counted(push, metrics) } : {}),
      onPushResults: (results) => {
        for (const r of results) metrics?.pushResult(r.outcome, r.reason);
        stats.record(results);
      },
    },
    // The topic follows the provider: a forced topic change applies without a restart.
    push ? { outbox, topic: () => push.topic } : { outbox },
  );
  for (const type of ['enrolled', 're-enrolled', 'checked-out'] as const)
    core.events.on(type, () => {
      metrics?.enrollment(type);
    });
  return core;
}

/**
 * One-time challenges, spent links (a certificate issued against a link's challenge spends the
 * link) and the static challenge when one is given.
 */
function challenges(deps: OrchardServicesDeps, options: OrchardServicesOptions) {
  const oneTime = createOneTimeChallenges(
    { store: deps.ca.challenges, clock: deps.clock },
    { ttlSeconds: 3600 },
  );
  const linked = withEnrollmentLinks(oneTime.validator, {
    admin: deps.admin,
    clock: deps.clock,
    logger: deps.logger,
  });
  const validator: ChallengeValidator =
    options.scepChallenge === undefined
      ? linked
      : anyChallenge(linked, staticChallenge(options.scepChallenge));
  const issue = async (boundTo: string, ttlSeconds?: number) =>
    (await oneTime.issue(boundTo, ttlSeconds === undefined ? {} : { ttlSeconds })).challenge;
  return { validator, issue };
}

/**
 * Wires Orchard's MDM and SCEP side from opened parts, all on `deps.clock`; starts the webhook
 * worker and (with push) identity renewal. Throws TypeError on an invalid option; the stores stay
 * the caller's to close after `close()`.
 */
export function createOrchardServices(
  deps: OrchardServicesDeps,
  options: OrchardServicesOptions = {},
): OrchardServices {
  const { storage, admin, clock, logger, push } = deps;
  const pushStats = createPushStats();
  const nanomdm = options.webhook?.format === 'nanomdm';
  const core = createCore(deps, options.webhook !== undefined && !nanomdm, pushStats);
  const ca = createCa({ material: deps.pki.ca, store: deps.ca.certificates, clock });
  // The CA answers isRevoked(serial): a revoked certificate is refused (400, never 401) on the
  // device's next request; its records let a bound enrollment move to a renewed certificate.
  const management = createManagementServices({
    ...{ admin, signing: deps.pki.signing, clock, logger, core, enrollments: storage },
    ...(options.reconcileIntervalMs === undefined
      ? {}
      : { reconcileIntervalMs: options.reconcileIntervalMs }),
    publicUrl: options.publicUrl ?? (() => ''),
    ...(options.mailer === undefined ? {} : { mailer: options.mailer }),
    ...(options.webhook !== undefined && !nanomdm ? { outbox: storage } : {}),
  });
  const { groups, profiles, userLinks, users, policies, delivery } = management;
  const background = options.backgroundJobs !== false;
  const coordination = deps.coordination ?? inProcessCoordination();
  const running = startDelivery(core, delivery, {
    ...{ clock, logger, coordination },
    timer: background,
  });
  const audited = identityAuditObservers(core, admin);
  const owners = enrollmentOwnerObserver({
    ...{ issuance: ca, links: admin, users: admin, audit: admin, clock, logger },
    genericPrefix: async (groupId) => genericPrefixOf(groups, groupId),
  });
  // ACME enrollment (issue 22): an ACME identity attested for one device is refused (400) as any
  // other, checked inside withCertAuth before anything is bound.
  const acme =
    deps.acmeIdentifiers === undefined
      ? undefined
      : createAcmeEnrollment({
          ...{
            identifiers: deps.acmeIdentifiers,
            links: admin,
            enrollments: storage,
            clock,
            logger,
          },
          enrollmentSettings: async (groupId) =>
            (await groups.effectiveSettings(groupId, 'enrollment')).values,
        });
  const authenticated = withCertAuth(acme === undefined ? core : acme.withAttestedIdentity(core), {
    ...{ store: storage, roots: [ca.certificate], intermediates: ca.intermediates },
    ...{ revocation: ca, issuance: ca, clock, logger },
    ...(audited.onRefused === undefined ? {} : { onRefused: audited.onRefused }),
    // Who an enrollment belongs to is recorded beside the identity audit; neither breaks a check-in.
    onBound: allObservers(logger, audited.onBound, owners),
  });
  const served =
    deps.idlePolls === undefined
      ? authenticated
      : withIdlePolls(authenticated, {
          ...{ probe: deps.idlePolls, touchLastSeen: (ids, at) => storage.touchLastSeen(ids, at) },
          ...{ roots: [ca.certificate], intermediates: ca.intermediates, clock, logger },
        });
  const hooks = { storage, clock, logger };
  const webhooks = startWebhooks(served, core, hooks, options.webhook, background);
  const { validator, issue } = challenges(deps, options);
  const scep = createScepHandler(
    { ca, validator, logger, clock },
    { allowSingleDes: options.scepAllowDes ?? false },
  );
  const enrollment = createEnrollmentService({
    ...{ admin, issueChallenge: issue, ca: deps.pki.ca.certificate, signing: deps.pki.signing },
    ...{ topic: () => push?.topic, publicUrl: options.publicUrl ?? (() => ''), clock },
    ...(acme === undefined ? {} : { acme: acme.enrollment }),
    ...(options.enrollmentChallengeTtlSeconds === undefined
      ? {}
      : { challengeTtlSeconds: options.enrollmentChallengeTtlSeconds }),
  });
  const identity = createIdentityRenewal(
    {
      ...{ store: storage, core, clock, logger: deps.identityLogger ?? logger },
      profile: (id, ttl) => enrollment.renewalProfile(id, ttl),
    },
    options.identityRenewalLeadDays === undefined
      ? {}
      : { leadDays: options.identityRenewalLeadDays },
  );
  // Renewal profiles need the push topic; without a push certificate nothing can be delivered.
  // One daemon sweeps at a time (two sweeping together could queue one renewal twice); with
  // several workers over SQLite only the worker running background jobs sweeps.
  const renewal =
    push && background
      ? startSingletonJob(coordination, () => identity.sweep(), {
          ...{ name: 'identity-renewal', intervalMs: IDENTITY_SWEEP_MS, runAtStart: true },
          logger: deps.identityLogger ?? logger,
        })
      : undefined;
  return {
    ...{ core, service: webhooks.service, ca, scep, enrollment, identity, pushStats },
    ...{ groups, profiles, userLinks, users, policies, delivery },
    issueChallenge: issue,
    publicUrl: options.publicUrl ?? (() => ''),
    ...(options.mailer === undefined ? {} : { mailer: options.mailer }),
    webhooks: webhooks.worker,
    coordination,
    ...(acme === undefined ? {} : { acmeEnrollment: acme }),
    async close() {
      await renewal?.stop();
      await identity.stop();
      await running.stop();
      await core.close();
      await webhooks.worker?.stop();
      await push?.close();
    },
  };
}

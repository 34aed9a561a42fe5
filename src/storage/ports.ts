/**
 * Storage ports of the MDM core, split by concern so each consumer asks for the narrowest
 * one it needs. Every method is async; adapters (memory, SQLite, later PostgreSQL) throw
 * {@link StorageError} (status 503) on a backend fault, never anything a device could read
 * as an unenrollment, and `TypeError` on API misuse. Timestamps an adapter writes on its own
 * come from its injected clock; methods whose logic depends on time take `now` explicitly.
 */

/**
 * The kind of an enrollment (a channel with its own queue and push token). Ids follow
 * NanoMDM: device `UDID`, User Enrollment device `EnrollmentID`, user channel `UDID:UserID`,
 * Shared iPad user `UDID:UserShortName`, User Enrollment user `EnrollmentID:EnrollmentUserID`.
 */
export type EnrollmentType =
  'device' | 'user' | 'user-enrollment-device' | 'user-enrollment-user' | 'shared-ipad-user';

/** Who an enrollment is: the id and the identity keys a check-in carries. */
export interface EnrollmentIdentity {
  /** Enrollment id (see {@link EnrollmentType} for the grammar). */
  id: string;
  type: EnrollmentType;
  /** The device's `UDID`, or `EnrollmentID` for User Enrollment. */
  deviceId: string;
  /** Device channel id, for user channels only. */
  parentId?: string;
  userId?: string;
  userShortName?: string;
  userLongName?: string;
}

/** One stored enrollment. `enrolled` turns true at the first TokenUpdate and false at CheckOut. */
export interface EnrollmentRecord extends EnrollmentIdentity {
  enrolled: boolean;
  /** Device facts from Authenticate (SerialNumber, Model, OSVersion, ...), JSON-safe values. */
  facts: Record<string, unknown>;
  createdAt: Date;
  updatedAt: Date;
  lastSeenAt?: Date;
  /** TokenUpdates since the last Authenticate: 1 means this one enrolled the channel. */
  tokenUpdateCount: number;
}

/** APNs coordinates of one enrollment. */
export interface PushInfo {
  enrollmentId: string;
  /** Device push token, lower-case hex. */
  token: string;
  pushMagic: string;
  topic: string;
  /** Set when APNs reported the token invalid; cleared by the next TokenUpdate. */
  invalidatedAt?: Date;
  /**
   * The uuid of the enrollment's oldest command still `queued` (never offered to the device),
   * absent when none. It changes whenever the device fetches from its queue, so a push made
   * while it holds the same value has not been answered yet (see `PushTarget.coalesceKey`).
   */
  queueHead?: string;
}

/** A page of results; `nextCursor` is absent on the last page. Cursors are opaque. */
export interface Page<T> {
  items: T[];
  nextCursor?: string;
}

/** Paging options: `limit` must be an integer from 1 to 1000 (TypeError otherwise). */
export interface PageOptions {
  cursor?: string;
  limit: number;
}

/** What Authenticate stores: the identity plus its device facts. */
export interface AuthenticateInput extends EnrollmentIdentity {
  facts: Record<string, unknown>;
}

/** What TokenUpdate stores: the identity, push coordinates, and optional extras. */
export interface TokenUpdateInput extends EnrollmentIdentity {
  push: { token: string; pushMagic: string; topic: string };
  /** Raw `UnlockToken` data; absent leaves a stored one in place. */
  unlockToken?: Uint8Array;
  /** Facts merged over the stored ones (e.g. `AwaitingConfiguration`). */
  facts?: Record<string, unknown>;
}

/**
 * The outbox event reporting a state change, built from the record as the change leaves it (so
 * its type may depend on `tokenUpdateCount`); `undefined` reports nothing.
 */
export type OutboxEventFor = (record: EnrollmentRecord) => OutboxEvent | undefined;

/**
 * Options of the check-in store's state changes. With `event`, the store writes the event to
 * its outbox in the same transaction as the change: both are stored or neither (a duplicate
 * event id rejects with TypeError and leaves the enrollment as it was).
 */
export interface StateChangeOptions {
  event?: OutboxEventFor;
}

/** Enrollment lifecycle from check-in messages. */
export interface CheckinStore {
  /**
   * Creates or resets an enrollment as pending (not enrolled, token count 0) with these facts.
   * It does not touch the command queue: the caller clears it with {@link CommandQueue.clearQueue}.
   */
  storeAuthenticate(
    input: AuthenticateInput,
    options?: StateChangeOptions,
  ): Promise<EnrollmentRecord>;
  /**
   * Marks the enrollment enrolled, stores its push info (clearing any invalidation) and unlock
   * token, and increments `tokenUpdateCount`. Creates the record when absent (user channels
   * have no Authenticate of their own).
   */
  storeTokenUpdate(
    input: TokenUpdateInput,
    options?: StateChangeOptions,
  ): Promise<EnrollmentRecord>;
  /**
   * Marks the enrollment not enrolled and ends its certificate binding, if any, in one write;
   * resolves false (writing no event) when it does not exist.
   */
  markCheckedOut(id: string, options?: StateChangeOptions): Promise<boolean>;
  /** The enrollment, or `undefined` when absent. */
  findEnrollment(id: string): Promise<EnrollmentRecord | undefined>;
  /** The enrollments of `ids` that exist, in the given order (any number of ids). */
  findEnrollments(ids: readonly string[]): Promise<EnrollmentRecord[]>;
  /**
   * Merges `facts` over the enrollment's stored facts (e.g. `IsSupervised` from a
   * DeviceInformation answer); false when the enrollment does not exist. The next Authenticate
   * replaces them all.
   */
  mergeFacts(id: string, facts: Record<string, unknown>): Promise<boolean>;
  /** Enrollments ordered by id; `enrolled` filters when given. */
  listEnrollments(options: PageOptions & { enrolled?: boolean }): Promise<Page<EnrollmentRecord>>;
  /**
   * Sets `lastSeenAt` of every listed enrollment (never moving it backwards); unknown ids are
   * ignored. The core calls it on every check-in and command poll, so an adapter whose writes
   * are costly buffers it (SQLite does, see `lastSeenFlushMs`); its own reads see it at once.
   */
  touchLastSeen(ids: readonly string[], at: Date): Promise<void>;
  /** The stored `UnlockToken`, or `undefined` when none. */
  findUnlockToken(id: string): Promise<Uint8Array | undefined>;
}

/** Per-enrollment status of a command. The capitalised ones are the device's report statuses. */
export type CommandStatus =
  | 'queued'
  | 'sent'
  | 'Acknowledged'
  | 'Error'
  | 'CommandFormatError'
  | 'NotNow'
  | 'canceled'
  | 'expired';

/** Statuses a device reports for a command (Idle is not a result and is never stored). */
export type ReportStatus = 'Acknowledged' | 'Error' | 'CommandFormatError' | 'NotNow';

/** Statuses after which a command is never offered again. */
export const FINISHED_STATUSES: readonly CommandStatus[] = [
  'Acknowledged',
  'Error',
  'CommandFormatError',
  'canceled',
  'expired',
];

/** A command to queue: stored once however many enrollments it targets. */
export interface NewCommand {
  /** `CommandUUID`; unique across the store (a duplicate throws TypeError). */
  uuid: string;
  requestType: string;
  /** The full command plist sent to the device. */
  body: Uint8Array;
  /** After this instant the command is not sent and its pending targets become `expired`. */
  expiresAt?: Date;
}

/** What {@link CommandQueue.nextCommand} hands out. */
export interface QueuedCommand {
  uuid: string;
  requestType: string;
  body: Uint8Array;
}

/**
 * What became of a push to one enrollment: APNs `accepted` it, it `failed` (APNs refused it or
 * APNs could not be reached), it was `deferred` (circuit open, queue full, shutting down), or the
 * enrollment has `no-token` to push to (no TokenUpdate yet, or the token was unregistered).
 */
export type EnrollmentPushOutcome = 'accepted' | 'failed' | 'deferred' | 'no-token';

/** The latest push for one target of a command. */
export interface PushOutcomeRecord {
  outcome: EnrollmentPushOutcome;
  /** APNs `reason` (e.g. `BadDeviceToken`), a transport error (`ECONNREFUSED`) or ours (`CircuitOpen`). */
  reason?: string;
  /** The `apns-id` APNs answered with. */
  apnsId?: string;
  at: Date;
}

/** A push outcome to record for one enrollment (see {@link CommandQueue.recordPushOutcomes}). */
export interface TargetPushOutcome extends PushOutcomeRecord {
  enrollmentId: string;
}

/** One enrollment's view of a command. */
export interface CommandTarget {
  enrollmentId: string;
  status: CommandStatus;
  /** The raw report plist of the last result, when one was stored. */
  result?: Uint8Array;
  updatedAt: Date;
  /** The latest push sent for this command to this enrollment, absent when none was recorded. */
  lastPush?: PushOutcomeRecord;
}

/** A stored command with every target's status. */
export interface CommandRecord extends NewCommand {
  createdAt: Date;
  targets: CommandTarget[];
}

/** One entry of {@link CommandQueue.listForEnrollment}. */
export interface EnrollmentCommand extends CommandTarget {
  uuid: string;
  requestType: string;
  createdAt: Date;
}

/** A device's report to store. */
export interface CommandResultInput {
  uuid: string;
  status: ReportStatus;
  /** The raw report plist. */
  result: Uint8Array;
}

/** Options of {@link CommandQueue.storeResult}. */
export interface StoreResultOptions {
  /**
   * Written to the outbox in the same transaction as the result, only when the result is stored:
   * a crash can never keep the result and lose its event (a duplicate id throws TypeError).
   */
  event?: OutboxEvent;
}

/** Options of {@link CommandQueue.reportAndNext}: the report's, then the next command's. */
export interface ReportAndNextOptions extends StoreResultOptions {
  skipNotNow: boolean;
  now: Date;
}

/** What {@link CommandQueue.reportAndNext} resolves: `storeResult`'s answer and `nextCommand`'s. */
export interface ReportAndNext {
  stored: boolean;
  next: QueuedCommand | undefined;
}

/** Per-enrollment FIFO command queues. */
export interface CommandQueue {
  /**
   * Stores the command once and queues it for each enrollment id (order kept, duplicates
   * ignored). Throws TypeError on an empty id list or a uuid already stored.
   */
  enqueue(command: NewCommand, enrollmentIds: readonly string[]): Promise<void>;
  /**
   * Stores the command once and queues it, in one write, for every enrollment enrolled at that
   * moment, in id order (no id list crosses the boundary: one statement on a database); resolves
   * their ids. No enrollment enrolled: nothing is stored and it resolves `[]`. Throws TypeError on
   * a uuid already stored.
   */
  enqueueEnrolled(command: NewCommand): Promise<string[]>;
  /**
   * The oldest command for the enrollment that is `queued` or `sent` (a `sent` one was never
   * answered, so it is offered again), or `NotNow` unless `skipNotNow`; marks it `sent`.
   * Pending targets past `expiresAt` become `expired` on the way. `undefined` when none.
   */
  nextCommand(
    enrollmentId: string,
    options: { skipNotNow: boolean; now: Date },
  ): Promise<QueuedCommand | undefined>;
  /**
   * Stores a device's report for its own target of the command and sets its status (a
   * `NotNow` never revives a finished target). Resolves false, storing nothing, when that
   * enrollment is not a target of that uuid.
   */
  storeResult(
    enrollmentId: string,
    input: CommandResultInput,
    options?: StoreResultOptions,
  ): Promise<boolean>;
  /**
   * `storeResult` and then `nextCommand` for the same enrollment as one write (one transaction
   * on a database: a command poll's two writes commit once); same answers and errors as the two
   * calls, and on failure neither takes effect. Optional: without it the core makes the two calls.
   */
  reportAndNext?(
    enrollmentId: string,
    input: CommandResultInput,
    options: ReportAndNextOptions,
  ): Promise<ReportAndNext>;
  /** Cancels one target still `queued`, `sent` or `NotNow`; resolves false otherwise. */
  cancel(enrollmentId: string, uuid: string): Promise<boolean>;
  /** Cancels every pending target of the enrollment (Authenticate, CheckOut); resolves the count. */
  clearQueue(enrollmentId: string): Promise<number>;
  /** The command with all its targets, or `undefined` when absent. */
  findCommand(uuid: string): Promise<CommandRecord | undefined>;
  /** The enrollment's commands in queue order, optionally of one status. */
  listForEnrollment(
    enrollmentId: string,
    options: PageOptions & { status?: CommandStatus },
  ): Promise<Page<EnrollmentCommand>>;
  /**
   * Records the latest push outcome on those targets of the command that exist (others are
   * ignored), without touching their status or `updatedAt`; resolves how many were recorded.
   */
  recordPushOutcomes(uuid: string, outcomes: readonly TargetPushOutcome[]): Promise<number>;
  /** Marks pending targets of commands past `expiresAt` as `expired`; resolves the count. */
  expireCommands(now: Date): Promise<number>;
  /**
   * Deletes finished targets (see {@link FINISHED_STATUSES}) last updated before `olderThan`,
   * and commands left without targets; resolves the number of targets deleted.
   */
  purgeFinished(olderThan: Date): Promise<number>;
}

/** What {@link CertBindingStore.findBindingFacts} reads. */
export interface BindingLookup {
  /** The enrollment's binding. */
  binding: CertBinding | undefined;
  /** The enrollment most recently bound to the certificate's hash. */
  boundTo: string | undefined;
}

/** A certificate bound to an enrollment at Authenticate. */
export interface CertBinding {
  enrollmentId: string;
  /** SHA-256 of the certificate's DER, lower-case hex. */
  certHash: string;
  boundAt: Date;
  /** Serial number of the bound certificate (lower-case hex, no leading zeros), when known. */
  serial?: string;
  /** End of the bound certificate's validity, when known. */
  notAfter?: Date;
  /** Set when the enrollment checked out or was unenrolled: the binding no longer protects it. */
  endedAt?: Date;
  /** An administrator allowed another certificate to take over at Authenticate until then. */
  reenrollUntil?: Date;
  /** The identity renewal in flight: its InstallProfile command and when it was queued. */
  renewal?: IdentityRenewal;
}

/** An identity renewal in flight for one enrollment. */
export interface IdentityRenewal {
  /** `CommandUUID` of the InstallProfile carrying the fresh enrollment profile. */
  commandUuid: string;
  requestedAt: Date;
}

/** What a binding records about its certificate besides the hash. */
export interface BoundCertificateDetails {
  serial?: string;
  notAfter?: Date;
}

/** Device identity certificates bound to enrollments. */
export interface CertBindingStore {
  /**
   * Binds (or re-binds, replacing the old hash) the certificate to the enrollment. A new binding
   * starts clean: no end, no re-enrollment window, no renewal in flight.
   */
  bindCertificate(
    enrollmentId: string,
    certHash: string,
    details?: BoundCertificateDetails,
  ): Promise<void>;
  /** The enrollment's binding, or `undefined` when none. */
  findCertificateBinding(enrollmentId: string): Promise<CertBinding | undefined>;
  /** The enrollment most recently bound to this hash, or `undefined` when none. */
  findEnrollmentByCertificate(certHash: string): Promise<string | undefined>;
  /**
   * Optional: {@link findCertificateBinding} of `enrollmentId` and
   * {@link findEnrollmentByCertificate} of `certHash` in one read (one round trip where the
   * database is remote), as every device request needs both.
   */
  findBindingFacts?(enrollmentId: string, certHash: string): Promise<BindingLookup>;
  /**
   * Marks the binding ended at `at` (kept if already ended); resolves false when there is none.
   * `markCheckedOut` does this too, in the same write.
   */
  endCertificateBinding(enrollmentId: string, at: Date): Promise<boolean>;
  /**
   * Lets another certificate take over the binding at Authenticate until `until` (`undefined`
   * withdraws the window); resolves false when there is no binding.
   */
  allowReenrollment(enrollmentId: string, until: Date | undefined): Promise<boolean>;
  /** Records (or with `undefined` clears) the renewal in flight; false when there is no binding. */
  recordIdentityRenewal(
    enrollmentId: string,
    renewal: IdentityRenewal | undefined,
  ): Promise<boolean>;
  /**
   * Bindings not ended whose certificate expires before `before`, soonest first, at most
   * `options.limit` (1 to 1000); with `renewalRequestedBefore`, only those with no renewal in
   * flight or one requested before that instant.
   */
  listExpiringBindings(
    before: Date,
    options: { limit: number; renewalRequestedBefore?: Date },
  ): Promise<CertBinding[]>;
}

/** APNs push coordinates (written by {@link CheckinStore.storeTokenUpdate}). */
export interface PushInfoStore {
  /** Push info of those ids that have one, in no particular order. */
  findPushInfo(ids: readonly string[]): Promise<PushInfo[]>;
  /** Marks the enrollment's token invalid; resolves false when it has no push info. */
  invalidatePushToken(enrollmentId: string, at: Date): Promise<boolean>;
}

/** Escrowed bootstrap tokens; the caller seals them before storing. */
export interface BootstrapTokenStore {
  /** Stores the sealed token, or deletes it when `sealed` is `undefined`. */
  storeBootstrapToken(enrollmentId: string, sealed: Uint8Array | undefined): Promise<void>;
  /** The sealed token, or `undefined` when none. */
  findBootstrapToken(enrollmentId: string): Promise<Uint8Array | undefined>;
}

/** An event to deliver (e.g. to a webhook). */
export interface OutboxEvent {
  /** Unique id (a duplicate throws TypeError); receivers use it to de-duplicate. */
  id: string;
  type: string;
  /** JSON text of the event. */
  payload: string;
  createdAt: Date;
}

/** A stored outbox entry and its delivery state. */
export interface OutboxEntry extends OutboxEvent {
  /** Delivery attempts claimed so far, counting the current one. */
  attempts: number;
  nextAttemptAt: Date;
  /** While in the future, no other worker may claim the entry. */
  leaseUntil?: Date;
  lastError?: string;
  deliveredAt?: Date;
  /** Set when delivery was abandoned. */
  deadAt?: Date;
}

/** A durable queue of events, claimed under a lease so two workers never hold the same one. */
export interface OutboxStore {
  /** Stores the event, due at once. */
  enqueueEvent(event: OutboxEvent): Promise<void>;
  /**
   * Claims up to `limit` due entries (not delivered, not dead, `nextAttemptAt <= now`, lease
   * absent or lapsed), oldest first, leasing each until `now + leaseMs` and counting an attempt.
   */
  claimDue(limit: number, now: Date, leaseMs: number): Promise<OutboxEntry[]>;
  /** Marks the entry delivered and releases its lease. */
  markDelivered(id: string, at: Date): Promise<void>;
  /**
   * Records a failed attempt and releases the lease: retried at `nextAttemptAt`, or abandoned
   * (dead) when `nextAttemptAt` is `undefined`.
   */
  markFailed(id: string, nextAttemptAt: Date | undefined, error: string): Promise<void>;
  /** The entry, or `undefined` when absent. */
  findOutboxEntry(id: string): Promise<OutboxEntry | undefined>;
  /** Deletes entries delivered before `olderThan`; resolves the count. */
  purgeDelivered(olderThan: Date): Promise<number>;
}

/** Every storage port in one object, as adapters provide it. */
export interface MdmStorage
  extends
    CheckinStore,
    CommandQueue,
    CertBindingStore,
    PushInfoStore,
    BootstrapTokenStore,
    OutboxStore {
  /** Releases the backend (timers, file handles). Later calls throw StorageError. */
  close(): Promise<void>;
}

/** Retention of finished rows, applied by an adapter's periodic sweep when given. */
export interface RetentionOptions {
  /** Keep finished command targets this long (ms) after their last update. */
  finishedCommandsMs?: number;
  /** Keep delivered outbox entries this long (ms). */
  deliveredEventsMs?: number;
  /** How often the sweep runs (ms); default 10 minutes. The timer never keeps the process alive. */
  sweepIntervalMs?: number;
}

// ---------------------------------------------------------------------------------------------
// Certificate authority and SCEP challenges (`identity/ca`, `identity/scep`).
// ---------------------------------------------------------------------------------------------

/** One certificate the CA issued. Stores keep serials as `normaliseSerial` spells them. */
export interface IssuedCertificate {
  serial: string;
  /** Subject as `CN=...,O=...` in encoded order. */
  subject: string;
  /**
   * What the certificate was issued for, when the challenge named it: an enrollment link
   * (`enrollment-token:<id>` in the daemon) or, for an identity renewal, `renewalTarget(deviceId)`
   * of `withCertAuth`'s module.
   */
  enrollmentId?: string;
  /**
   * A random id (a version 4 UUID: 122 random bits) the certificate carries as the URI
   * `urn:uuid:<certId>` in its subjectAltName. Public, like the certificate: never a secret.
   */
  certId?: string;
  /** Serial of the certificate that signed the RenewalReq this one answered. */
  renewalOf?: string;
  notBefore: Date;
  notAfter: Date;
  issuedAt: Date;
  /** DER of the certificate. */
  der: Buffer;
  /** Set once revoked. */
  revokedAt?: Date;
  revocationReason?: string;
}

/** Filters of {@link CertificateStore.listIssued}. */
export interface ListIssuedOptions {
  enrollmentId?: string;
  /** Page size; default 100. */
  limit?: number;
  /** Serial to continue after (keyset pagination, serial order). */
  after?: string;
}

/**
 * Where the CA keeps what it issued. `recordIssued` must fail with `ERR_CA_SERIAL_CONFLICT`
 * when the serial exists, atomically, so two issuers can never hand out the same serial.
 */
export interface CertificateStore {
  /** Records an issued certificate; throws `ERR_CA_SERIAL_CONFLICT` on a duplicate serial. */
  recordIssued(record: IssuedCertificate): Promise<void>;
  /** The record of `serial`, or `undefined`. */
  findIssued(serial: string): Promise<IssuedCertificate | undefined>;
  /** Marks `serial` revoked; resolves false when it is unknown, true otherwise (idempotent). */
  revoke(serial: string, at: Date, reason?: string): Promise<boolean>;
  /**
   * Optional: whether `serial` was issued and revoked, reading only that (no DER), for the
   * per-request revocation check; without it the CA reads the whole record with `findIssued`.
   */
  isRevoked?(serial: string): Promise<boolean>;
  /** Records in serial order. */
  listIssued(options?: ListIssuedOptions): Promise<IssuedCertificate[]>;
  /** Number of issued certificates. */
  countIssued(): Promise<number>;
}

/** A one-time challenge as stored: its digest, the enrollment it belongs to, its expiry. */
export interface StoredChallenge {
  digest: Buffer;
  enrollmentId?: string;
  expiresAt: Date;
}

/** Storage of one-time challenges. `consume` must remove and return in one atomic step. */
export interface ChallengeStore {
  /** Stores a challenge (replacing one with the same digest). */
  put(challenge: StoredChallenge): Promise<void>;
  /** Removes the challenge and returns it when it existed and had not expired at `now`; else `undefined`. */
  consume(digest: Buffer, now: Date): Promise<StoredChallenge | undefined>;
  /** Deletes expired challenges; resolves to how many. */
  purgeExpired(now: Date): Promise<number>;
}

// ---------------------------------------------------------------------------------------------
// Administration: API keys, the audit log, enrollment links, settings. Like the ports above,
// every method resolves or rejects (StorageError on a backend fault, TypeError on misuse); none
// throws synchronously, so a store on a networked database can implement them.
// ---------------------------------------------------------------------------------------------

/** Scope of an API key: `read` may only GET; `write` may do everything. */
export type ApiKeyScope = 'read' | 'write';

/** An API key as stored (the key itself is never stored, only its SHA-256). */
export interface ApiKeyRecord {
  id: string;
  name: string;
  scope: ApiKeyScope;
  /**
   * The administrator ({@link PrincipalRecord}) the key belongs to; keys made without one belong
   * to the built-in owner, {@link OWNER_PRINCIPAL_ID}.
   */
  principalId: string;
  createdAt: Date;
  revokedAt?: Date;
}

/** API keys of the administrative API, kept by hash. */
export interface ApiKeyStore {
  /** Stores a key by its hash; rejects with TypeError on a bad scope, StorageError on a duplicate hash. */
  createApiKey(input: {
    name: string;
    scope: ApiKeyScope;
    hash: string;
    /** Default {@link OWNER_PRINCIPAL_ID}; an unknown principal rejects with TypeError. */
    principalId?: string;
  }): Promise<ApiKeyRecord>;
  /** The unrevoked key with this hash, or `undefined`. */
  findApiKeyByHash(hash: string): Promise<ApiKeyRecord | undefined>;
  /** Every key, revoked ones too, oldest first. */
  listApiKeys(): Promise<ApiKeyRecord[]>;
  /** Every unrevoked key with its hash, for constant-time comparison. */
  listActiveApiKeys(): Promise<{ record: ApiKeyRecord; hash: string }[]>;
  /** Revokes a key; false when unknown or already revoked. */
  revokeApiKey(id: string): Promise<boolean>;
  /** Number of unrevoked keys. */
  countActiveApiKeys(): Promise<number>;
}

/** One audit entry: who (`actor`), what (`action` on `target`), when, and non-secret details. */
export interface AuditEntry {
  seq: number;
  at: Date;
  actor: string;
  action: string;
  target: string;
  detail: Record<string, unknown>;
}

/** The append-only audit log. */
export interface AuditLog {
  /** Appends an audit entry, stamped by the store's clock, and returns it. */
  audit(entry: Omit<AuditEntry, 'seq' | 'at'>): Promise<AuditEntry>;
  /** Audit entries, newest first; a cursor this list did not return rejects with TypeError. */
  listAudit(options: { limit: number; cursor?: string }): Promise<Page<AuditEntry>>;
}

/**
 * What an enrollment link is for: `single` (made through `/api/v1/enrollment-tokens`), a user's
 * `personal` link (one active per user, re-sendable, rotatable) or a group's `generic` link (many
 * devices, each enrollment creating a user named from the `enrollment` page's prefix).
 */
export type EnrollmentLinkKind = 'single' | 'personal' | 'generic';

/** An enrollment link (token) as stored, without its secret. */
export interface EnrollmentTokenRecord {
  id: string;
  /** Default `single` for links stored before kinds existed. */
  kind: EnrollmentLinkKind;
  singleUse: boolean;
  /** Profile downloads. */
  uses: number;
  /** Certificates issued against the challenges of its profiles: a single-use link is spent at 1. */
  enrollments: number;
  expiresAt?: Date;
  user?: string;
  /** The user a personal link belongs to (`usr_...`). */
  userId?: string;
  /** The organization group a personal or generic link enrolls into. */
  groupId?: string;
  /** The id (`pol_...`) of the policy a generic link gives the users it creates. */
  policy?: string;
  createdAt: Date;
  revokedAt?: Date;
  /** Set when the link was replaced by a new one: it then answers 410, not 404. */
  rotatedAt?: Date;
  /** Last time the link was sent by mail. */
  sentAt?: Date;
  /** First profile download. */
  openedAt?: Date;
  /** First enrollment. */
  enrolledAt?: Date;
}

/** What creating an enrollment link needs: the SHA-256 of its secret, and its terms. */
export interface NewEnrollmentToken {
  hash: string;
  singleUse: boolean;
  expiresAt?: Date;
  user?: string;
  /** Default `single`. */
  kind?: EnrollmentLinkKind;
  userId?: string;
  groupId?: string;
  policy?: string;
  /**
   * The link's secret, kept (sealed with the secrets key where the store has one) so the link can
   * be shown and sent again: personal and generic links only.
   */
  secret?: string;
}

/** Enrollment links, kept by the hash of their secret. */
export interface EnrollmentLinkStore {
  /** Stores a new link and returns its record. */
  createEnrollmentToken(input: NewEnrollmentToken): Promise<EnrollmentTokenRecord>;
  /**
   * Counts one profile download of the link with this hash when it is unrevoked, unexpired at
   * `now` and (if single use) not yet enrolled with; the updated record, or `undefined` when it
   * may not be used.
   */
  downloadEnrollmentToken(hash: string, now: Date): Promise<EnrollmentTokenRecord | undefined>;
  /**
   * Counts one enrollment (a certificate issued against one of the link's challenges) under the
   * same conditions; the updated record, or `undefined`. Of two concurrent calls on a single-use
   * link one succeeds.
   */
  redeemEnrollmentToken(id: string, now: Date): Promise<EnrollmentTokenRecord | undefined>;
  /** Links in id order. */
  listEnrollmentTokens(options: {
    limit: number;
    cursor?: string;
  }): Promise<Page<EnrollmentTokenRecord>>;
  /** The link, or `undefined`. */
  findEnrollmentToken(id: string): Promise<EnrollmentTokenRecord | undefined>;
  /** Revokes a link; false when unknown or already revoked. */
  revokeEnrollmentToken(id: string): Promise<boolean>;
  /** The link with this hash whatever its state (revoked, rotated, expired), or `undefined`. */
  findEnrollmentTokenByHash(hash: string): Promise<EnrollmentTokenRecord | undefined>;
  /** The kept secret of a personal or generic link, or `undefined` (none kept, or unknown). */
  findEnrollmentTokenSecret(id: string): Promise<string | undefined>;
  /** The user's active (unrevoked) personal link, or `undefined`. */
  findPersonalEnrollmentToken(userId: string): Promise<EnrollmentTokenRecord | undefined>;
  /**
   * Marks the link rotated (and revoked) at `at` and stores `next` in one transaction: a user
   * never has two active personal links. Resolves the new record, or `undefined` (storing
   * nothing) when `id` is unknown or already revoked.
   */
  rotateEnrollmentToken(
    id: string,
    next: NewEnrollmentToken,
    at: Date,
  ): Promise<EnrollmentTokenRecord | undefined>;
  /**
   * Records a mail of the link at `at` and moves its expiry to `expiresAt` when later; the
   * updated record, or `undefined` when unknown or revoked.
   */
  markEnrollmentTokenSent(
    id: string,
    at: Date,
    expiresAt?: Date,
  ): Promise<EnrollmentTokenRecord | undefined>;
}

// ---------------------------------------------------------------------------------------------
// Users and who owns an enrollment (issue 17).
// ---------------------------------------------------------------------------------------------

/** A user: a person (or a generic device user) in an organization group. */
export interface UserRecord {
  /** `usr_...` */
  id: string;
  /** Unique, compared case-insensitively; stored as given. */
  username: string;
  email: string;
  firstName?: string;
  lastName?: string;
  groupId: string;
  /** The id (`pol_...`) of the user's own policy; absent, the group's default policy applies. */
  policy?: string;
  /** Managed Apple Account, for account-driven enrollment later. */
  managedAppleId?: string;
  /** Custom fields for profile variables. */
  custom1?: string;
  custom2?: string;
  custom3?: string;
  /** Made by a generic link's enrollment (`prefix-N`), not by an administrator. */
  generic: boolean;
  createdAt: Date;
  updatedAt: Date;
}

/** The fields of a user an administrator (or an import) sets. */
export type UserFields = Omit<UserRecord, 'id' | 'generic' | 'createdAt' | 'updatedAt'>;

/** The optional text fields of a user, in CSV column order. */
export const OPTIONAL_USER_FIELDS = [
  'firstName',
  'lastName',
  'policy',
  'managedAppleId',
  'custom1',
  'custom2',
  'custom3',
] as const satisfies readonly (keyof UserFields)[];

/** One row of an import: created or updated by username. */
export interface UserUpsert {
  fields: UserFields;
}

/** What an upsert did to one row. */
export type UserUpsertOutcome =
  | { outcome: 'created'; user: UserRecord }
  | { outcome: 'updated'; user: UserRecord }
  | { outcome: 'unchanged'; user: UserRecord };

/** Who an enrollment belongs to. */
export interface EnrollmentOwner {
  enrollmentId: string;
  userId: string;
  groupId: string;
  /** The link it enrolled through. */
  linkId?: string;
  assignedAt: Date;
}

/** Users, and which user and group each enrollment belongs to. */
export interface UserStore {
  /**
   * Creates a user with a fresh id; resolves `undefined` (storing nothing) when the username is
   * taken (case-insensitively). TypeError on an unknown group.
   */
  createUser(fields: UserFields, options?: { generic?: boolean }): Promise<UserRecord | undefined>;
  /**
   * Creates or updates each row by username, in order; with `atomic` all rows in one transaction
   * (any failure rolls back every row and rejects), otherwise each row on its own. TypeError on
   * an unknown group (for the whole call when atomic).
   */
  upsertUsers(
    rows: readonly UserUpsert[],
    options: { atomic: boolean },
  ): Promise<UserUpsertOutcome[]>;
  /** Changes fields; the updated user, `undefined` when unknown; TypeError on a taken username. */
  updateUser(id: string, change: Partial<UserFields>): Promise<UserRecord | undefined>;
  /** Deletes a user, its personal links and its enrollment ownerships; false when unknown. */
  deleteUser(id: string): Promise<boolean>;
  /** The user, or `undefined`. */
  findUser(id: string): Promise<UserRecord | undefined>;
  /** The user with this username (case-insensitively), or `undefined`. */
  findUserByUsername(username: string): Promise<UserRecord | undefined>;
  /** Users in id order, of `groupIds` only when given; a foreign cursor rejects with TypeError. */
  listUsers(options: {
    limit: number;
    cursor?: string;
    groupIds?: readonly string[];
  }): Promise<Page<UserRecord>>;
  /**
   * Creates a generic user named `${prefix}-${n}` with the lowest `n` >= 1 not yet taken for that
   * prefix, atomically (two concurrent calls never get the same name).
   */
  createGenericUser(input: {
    prefix: string;
    groupId: string;
    policy?: string;
  }): Promise<UserRecord>;
  /** Records who an enrollment belongs to (replacing an earlier owner). */
  assignEnrollmentOwner(owner: EnrollmentOwner): Promise<void>;
  /** The owner of an enrollment, or `undefined`. */
  findEnrollmentOwner(enrollmentId: string): Promise<EnrollmentOwner | undefined>;
  /** The enrollments a user owns. */
  listUserEnrollments(userId: string): Promise<EnrollmentOwner[]>;
  /**
   * Owned enrollments matching `filter` with their users, in enrollment id order; `limit` from 1
   * to 10,000 (TypeError otherwise); a foreign cursor rejects with TypeError.
   */
  listOwnedEnrollments(
    filter: OwnedEnrollmentFilter,
    options: { limit: number; cursor?: string },
  ): Promise<Page<OwnedEnrollment>>;
  /**
   * {@link listOwnedEnrollments} with each enrollment's record read in the same call (one pass
   * over the fleet for a policy change): owned enrollments without a record are left out (the
   * cursor still moves past them), so a page may hold fewer than `limit` items. Present where the
   * store can read the enrollments: SQLite and PostgreSQL always, memory when given its MDM store.
   */
  listOwnedDevices?(
    filter: OwnedEnrollmentFilter,
    options: { limit: number; cursor?: string },
  ): Promise<Page<OwnedDevice>>;
}

/** Small named settings the administrative side records (public URL, push topic). */
export interface SettingsStore {
  /** A stored setting, or `undefined`. */
  getMeta(key: string): Promise<string | undefined>;
  /** Stores (or replaces) a setting. */
  setMeta(key: string, value: string): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// Management: organization groups with their settings records, administrators (principals) and
// the profile library. Rules live in `management/`; these ports only keep state. Async like the
// admin ports above.
// ---------------------------------------------------------------------------------------------

/** Id of the root organization group, which every store creates and never deletes. */
export const ROOT_GROUP_ID = 'global';

/** Id of the built-in owner administrator: full role, scoped at the root; it cannot be deleted. */
export const OWNER_PRINCIPAL_ID = 'owner';

/** An organization group (OG). The root has no `parentId`; every other group has one. */
export interface OrgGroupRecord {
  id: string;
  name: string;
  parentId?: string;
  createdAt: Date;
}

/** Child Permission of a settings page at a group: what groups below may do. */
export type ChildPermission = 'inherit-only' | 'override-only' | 'inherit-or-override';

/**
 * A stored Override of one settings page at one group: its values and its Child Permission. No
 * record means the group inherits (its stored Current Setting is `inherit`). A record may be
 * dormant (an ancestor forces Inherit); the rules in `management/` decide, the store only keeps it.
 */
export interface SettingsRecord {
  groupId: string;
  /** Page id, e.g. `profile-options`. */
  page: string;
  /** The page's values (JSON). */
  values: Record<string, unknown>;
  childPermission: ChildPermission;
  updatedAt: Date;
}

/**
 * The whole tree and every settings record, read in one consistent step, with the revision it
 * was read at. Writers plan against a snapshot and apply with that revision (optimistic locking),
 * so several daemons on one database never apply a plan made from stale state.
 */
export interface ManagementSnapshot {
  revision: number;
  groups: OrgGroupRecord[];
  settings: SettingsRecord[];
}

/** One atomic change to the tree and its settings; each part optional. */
export interface ManagementChange {
  /** Groups to insert or replace (a re-parent or a rename is a replace). */
  putGroups?: readonly OrgGroupRecord[];
  /** Groups to delete (their settings records go with them). */
  deleteGroups?: readonly string[];
  /** Settings records to insert or replace, keyed by (groupId, page). */
  putSettings?: readonly SettingsRecord[];
  /** Settings records to delete. */
  deleteSettings?: readonly { groupId: string; page: string }[];
}

/** The organization-group tree and its settings records. */
export interface OrgGroupStore {
  /** Every group and settings record with the current revision, from one consistent read. */
  loadManagement(): Promise<ManagementSnapshot>;
  /** The current revision alone: a cheap check of whether a cached snapshot is still current. */
  findManagementRevision(): Promise<number>;
  /**
   * Applies `change` in one transaction when the revision is still `expectedRevision`, and
   * resolves the new revision; resolves `undefined` (applying nothing) when another writer moved
   * it. Rejects with TypeError when a change would delete the root or leave a group without its
   * parent.
   */
  applyManagement(change: ManagementChange, expectedRevision: number): Promise<number | undefined>;
  /** One group, or `undefined`. */
  findGroup(id: string): Promise<OrgGroupRecord | undefined>;
}

/** Role of an administrator: `read-only` may only read; `full` may also change. */
export type AdminRole = 'read-only' | 'full';

/** An administrator: a role and the organization group its scope starts at. */
export interface PrincipalRecord {
  id: string;
  name: string;
  role: AdminRole;
  /** Scope: this group and everything below it. */
  groupId: string;
  createdAt: Date;
  /** Set once disabled: its keys stop working. */
  disabledAt?: Date;
}

/** Administrators. The owner ({@link OWNER_PRINCIPAL_ID}) always exists. */
export interface PrincipalStore {
  /** Creates an administrator with a fresh id (`adm_...`); TypeError on a bad role or unknown group. */
  createPrincipal(input: {
    name: string;
    role: AdminRole;
    groupId: string;
  }): Promise<PrincipalRecord>;
  /** The administrator, disabled ones too, or `undefined`. */
  findPrincipal(id: string): Promise<PrincipalRecord | undefined>;
  /** Every administrator, oldest first. */
  listPrincipals(): Promise<PrincipalRecord[]>;
  /** Changes name, role or scope; the updated record, or `undefined` when unknown. */
  updatePrincipal(
    id: string,
    change: { name?: string; role?: AdminRole; groupId?: string },
  ): Promise<PrincipalRecord | undefined>;
  /** Disables an administrator and revokes its keys; false when unknown, already disabled or the owner. */
  disablePrincipal(id: string, at: Date): Promise<boolean>;
}

/** How a library profile reaches devices (rules M5, A13). */
export type AssignmentType = 'auto' | 'optional' | 'interactive';

/** A profile of the library: identity and ownership; its content lives in versions. */
export interface LibraryProfileRecord {
  /** `prf_...` */
  id: string;
  /** The owning organization group (A12). */
  groupId: string;
  /** The profile's `PayloadIdentifier`, unique in the library. */
  identifier: string;
  /** `PayloadDisplayName`, or the identifier when absent. */
  name: string;
  assignmentType: AssignmentType;
  /** The newest version number (1 for a new profile). */
  latestVersion: number;
  createdAt: Date;
  updatedAt: Date;
}

/** One version of a library profile: the unsigned profile as uploaded (signature removed). */
export interface ProfileVersionRecord {
  profileId: string;
  version: number;
  /** Top-level `PayloadUUID` of this version (a new one for every version). */
  payloadUuid: string;
  /** SHA-256 (hex) of `content`. */
  sha256: string;
  /** The profile as an XML plist, unsigned. */
  content: Buffer;
  /** Subject of the signer when the upload was signed. */
  uploadedSigner?: string;
  /** Who uploaded it (an administrator id). */
  createdBy: string;
  createdAt: Date;
}

/** The profile library: profiles owned by groups, each with its versions. */
export interface ProfileLibraryStore {
  /**
   * Stores a new profile with its version 1 (`record.latestVersion` must be 1); resolves false
   * (storing nothing) when the identifier is taken; true when stored.
   */
  createLibraryProfile(record: LibraryProfileRecord, first: ProfileVersionRecord): Promise<boolean>;
  /**
   * Adds `version` when the profile's latest version is still `version.version - 1`; resolves the
   * updated record, or `undefined` (adding nothing) when the profile is unknown or another writer
   * added a version first.
   */
  addProfileVersion(version: ProfileVersionRecord): Promise<LibraryProfileRecord | undefined>;
  /** Changes name, assignment type or owner; the updated record, or `undefined` when unknown. */
  updateLibraryProfile(
    id: string,
    change: { name?: string; assignmentType?: AssignmentType; groupId?: string },
    at: Date,
  ): Promise<LibraryProfileRecord | undefined>;
  /** The profile, or `undefined`. */
  findLibraryProfile(id: string): Promise<LibraryProfileRecord | undefined>;
  /** The profile with this `PayloadIdentifier`, or `undefined`. */
  findLibraryProfileByIdentifier(identifier: string): Promise<LibraryProfileRecord | undefined>;
  /**
   * Profiles in id order, those owned by `groupIds` only when given; a cursor this list did not
   * return rejects with TypeError.
   */
  listLibraryProfiles(options: {
    limit: number;
    cursor?: string;
    groupIds?: readonly string[];
  }): Promise<Page<LibraryProfileRecord>>;
  /** One version, or `undefined`. */
  findProfileVersion(profileId: string, version: number): Promise<ProfileVersionRecord | undefined>;
  /** Every version of a profile without content (`content` empty), newest first. */
  listProfileVersions(profileId: string): Promise<ProfileVersionRecord[]>;
  /** Deletes a profile, its versions and its policy assignments; false when unknown. */
  deleteLibraryProfile(id: string): Promise<boolean>;
  /** How many profiles `groupId` owns (a group that owns any cannot be deleted). */
  countLibraryProfiles(groupId: string): Promise<number>;
}

// ---------------------------------------------------------------------------------------------
// Policies and delivery (issue 18): policies owned by groups, their profile assignments, the
// groups' default policies, and what Orchard sent to or installed on each enrollment (rule M6).
// ---------------------------------------------------------------------------------------------

/** How a profile assigned through a policy may be removed from a device (rule S8). */
export type RemovalControl = 'always' | 'with-authorization' | 'never';

/** A policy: a named set of profile assignments owned by an organization group. */
export interface PolicyRecord {
  /** `pol_...` */
  id: string;
  /** Unique in the store, compared case-insensitively; stored as given. */
  name: string;
  description?: string;
  /** The owning organization group (A12). */
  groupId: string;
  createdAt: Date;
  updatedAt: Date;
}

/** One profile of a policy, with how it reaches devices and how it may be removed. */
export interface PolicyAssignmentRecord {
  policyId: string;
  /** A library profile (`prf_...`). */
  profileId: string;
  assignmentType: AssignmentType;
  removal: RemovalControl;
  /**
   * The removal password Orchard generated for `with-authorization` (sent in a
   * `com.apple.profileRemovalPassword` payload); sealed with the secrets key at rest; absent for
   * the other controls.
   */
  removalPassword?: string;
  createdAt: Date;
  updatedAt: Date;
}

/** How many things name a policy (a policy in use cannot be deleted). */
export interface PolicyReferences {
  users: number;
  /** Groups whose default policy it is. */
  groups: number;
  /** Enrollment links (generic ones) that give it to the users they create. */
  links: number;
}

/** Policies, their assignments and the groups' default policies. */
export interface PolicyStore {
  /** Stores a new policy; resolves false (storing nothing) when the name is taken. */
  createPolicy(record: PolicyRecord): Promise<boolean>;
  /**
   * Changes name, description (`null` clears it) or owner; the updated record, `undefined` when
   * unknown, or `'name-taken'` (changing nothing) when another policy has the name.
   */
  updatePolicy(
    id: string,
    change: { name?: string; description?: string | null; groupId?: string },
    at: Date,
  ): Promise<PolicyRecord | 'name-taken' | undefined>;
  /** Deletes a policy and its assignments; false when unknown. References are the caller's. */
  deletePolicy(id: string): Promise<boolean>;
  /** The policy, or `undefined`. */
  findPolicy(id: string): Promise<PolicyRecord | undefined>;
  /** The policy with this name (case-insensitively), or `undefined`. */
  findPolicyByName(name: string): Promise<PolicyRecord | undefined>;
  /** Policies in id order, of `groupIds` only when given; a foreign cursor rejects with TypeError. */
  listPolicies(options: {
    limit: number;
    cursor?: string;
    groupIds?: readonly string[];
  }): Promise<Page<PolicyRecord>>;
  /** How many policies `groupId` owns (a group that owns any cannot be deleted). */
  countPolicies(groupId: string): Promise<number>;
  /** What names the policy: users, groups (default policy) and links. */
  countPolicyReferences(policyId: string): Promise<PolicyReferences>;
  /** Creates or replaces the assignment of `record.profileId` in `record.policyId`. */
  putAssignment(record: PolicyAssignmentRecord): Promise<void>;
  /** Removes a profile from a policy; false when it was not assigned. */
  deleteAssignment(policyId: string, profileId: string): Promise<boolean>;
  /** The policy's assignments in profile id order. */
  listAssignments(policyId: string): Promise<PolicyAssignmentRecord[]>;
  /** Every assignment of a profile, in policy id order. */
  listProfileAssignments(profileId: string): Promise<PolicyAssignmentRecord[]>;
  /** Sets (or with `undefined` clears) the default policy of a group. */
  setGroupPolicy(groupId: string, policyId: string | undefined): Promise<void>;
  /** Every group's default policy: group id to policy id (one row per group at most). */
  listGroupPolicies(): Promise<Map<string, string>>;
}

/**
 * Where one library profile stands on one enrollment (rules M6, M7, S3): `pending` an
 * InstallProfile is queued, `installed` the device acknowledged it (Orchard's provenance),
 * `failed` the device answered Error, `skipped` incompatible and not sent, `blocked` an
 * unresolved variable, `removing` a RemoveProfile is queued, `removed` removed (by Orchard, or on
 * the device by its user, see `reason`).
 */
export type DeviceProfileState =
  'pending' | 'installed' | 'failed' | 'skipped' | 'blocked' | 'removing' | 'removed';

/** Who asked for a profile on a device: a policy's Auto assignment, an administrator, its user. */
export type DeliveryChannel = 'policy' | 'admin' | 'user';

/** One library profile on one enrollment, keyed by (`enrollmentId`, `identifier`). */
export interface DeviceProfileRecord {
  enrollmentId: string;
  /** The profile's `PayloadIdentifier`. */
  identifier: string;
  profileId: string;
  /** The library version sent (or that would have been sent, when skipped or blocked). */
  version: number;
  /** The `PayloadUUID` sent; absent when nothing was sent. */
  payloadUuid?: string;
  state: DeviceProfileState;
  /** Why it is skipped, blocked, failed or removed, in words (e.g. `requires a supervised device`). */
  reason?: string;
  channel: DeliveryChannel;
  /** The InstallProfile or RemoveProfile command awaiting an answer, while pending or removing. */
  commandUuid?: string;
  /** When the device first acknowledged this version; set with `installed`. */
  installedAt?: Date;
  updatedAt: Date;
}

/** When an enrollment's installed profiles were last compared with its desired ones. */
export interface ReconcileRecord {
  enrollmentId: string;
  /** The ProfileList command awaiting an answer, if one is queued. */
  commandUuid?: string;
  queuedAt?: Date;
  /** When a ProfileList answer was last compared. */
  reconciledAt?: Date;
}

/** What Orchard sent to and installed on each enrollment, and its reconciliation times. */
export interface DeviceProfileStore {
  /** Creates or replaces each record by (`enrollmentId`, `identifier`), all in one transaction. */
  putDeviceProfiles(records: readonly DeviceProfileRecord[]): Promise<void>;
  /** The enrollment's records in identifier order. */
  listDeviceProfiles(enrollmentId: string): Promise<DeviceProfileRecord[]>;
  /** The records of many enrollments at once (any number of ids), in enrollment then identifier order. */
  listDeviceProfilesOf(enrollmentIds: readonly string[]): Promise<DeviceProfileRecord[]>;
  /** One record, or `undefined`. */
  findDeviceProfile(
    enrollmentId: string,
    identifier: string,
  ): Promise<DeviceProfileRecord | undefined>;
  /** The record whose `commandUuid` is this command, or `undefined`. */
  findDeviceProfileByCommand(
    enrollmentId: string,
    commandUuid: string,
  ): Promise<DeviceProfileRecord | undefined>;
  /**
   * Records of a library profile across enrollments in enrollment id order, of `states` only when
   * given (e.g. the devices that have it, to re-queue a new version there).
   */
  listProfileDevices(
    profileId: string,
    options: { limit: number; cursor?: string; states?: readonly DeviceProfileState[] },
  ): Promise<Page<DeviceProfileRecord>>;
  /** Deletes the enrollment's records (those of `identifiers` only, when given); resolves the count. */
  deleteDeviceProfiles(enrollmentId: string, identifiers?: readonly string[]): Promise<number>;
  /** Creates or replaces the enrollment's reconciliation record. */
  putReconcile(record: ReconcileRecord): Promise<void>;
  /** The enrollment's reconciliation record, or `undefined`. */
  findReconcile(enrollmentId: string): Promise<ReconcileRecord | undefined>;
  /**
   * Up to `limit` of `candidates` (enrollment ids) that were never reconciled or last reconciled
   * before `before`, and have no ProfileList queued since `before`; in the given order.
   */
  listReconcileDue(candidates: readonly string[], before: Date, limit: number): Promise<string[]>;
}

/** An enrollment with the user who owns it (see {@link UserStore.listOwnedEnrollments}). */
export interface OwnedEnrollment {
  enrollmentId: string;
  /** The owning user as stored now (its group is the device's organization group). */
  user: UserRecord;
}

/**
 * An owned enrollment with its user and its enrollment record (see
 * {@link UserStore.listOwnedDevices}); the record leaves out `lastSeenAt`, which the MDM store
 * may still hold in a buffer.
 */
export interface OwnedDevice extends OwnedEnrollment {
  enrollment: Omit<EnrollmentRecord, 'lastSeenAt'>;
}

/**
 * Which owned enrollments {@link UserStore.listOwnedEnrollments} returns: those matching any
 * given condition (their union); no condition matches every owned enrollment.
 */
export interface OwnedEnrollmentFilter {
  /** Enrollments of users whose own policy is one of these. */
  userPolicyIds?: readonly string[];
  /** Enrollments of users with no policy of their own whose group is one of these. */
  groupsWithoutUserPolicy?: readonly string[];
  /** Enrollments of users in these groups (whatever their policy). */
  groupIds?: readonly string[];
  /** Enrollments of these users. */
  userIds?: readonly string[];
  /** These enrollments. */
  enrollmentIds?: readonly string[];
}

// ---------------------------------------------------------------------------------------------
// The self-service portal and the administrators' console (issue 19): sign-in sessions and
// passwords. Sessions live in the store so several daemons on one database share them.
// ---------------------------------------------------------------------------------------------

/** Which web area a session signs into: the users' portal or the administrators' console. */
export type WebSessionKind = 'portal' | 'console';

/** One signed-in browser session; the cookie carries a random token, the store only its hash. */
export interface WebSessionRecord {
  /** SHA-256 (hex) of the session token in the cookie. */
  idHash: string;
  kind: WebSessionKind;
  /** The signed-in user (`usr_...`, portal) or administrator (principal id, console). */
  subjectId: string;
  createdAt: Date;
  /** The session ends at this instant unless touched (idle timeout), never after `createdAt` + the absolute lifetime. */
  expiresAt: Date;
  lastSeenAt: Date;
}

/** Browser sessions of the portal and the console. */
export interface WebSessionStore {
  /** Stores a new session (a duplicate `idHash` throws TypeError). */
  createWebSession(record: WebSessionRecord): Promise<void>;
  /** The session, or `undefined` (expired ones included: the caller checks `expiresAt`). */
  findWebSession(idHash: string): Promise<WebSessionRecord | undefined>;
  /** Moves `lastSeenAt` and `expiresAt`; false when the session is gone. */
  touchWebSession(idHash: string, lastSeenAt: Date, expiresAt: Date): Promise<boolean>;
  /** Ends one session; false when it was gone. */
  deleteWebSession(idHash: string): Promise<boolean>;
  /** Ends every session of a subject (password change, user deleted, administrator disabled). */
  deleteWebSessionsOf(kind: WebSessionKind, subjectId: string): Promise<number>;
  /** Deletes sessions expired before `now`; resolves the count. */
  purgeWebSessions(now: Date): Promise<number>;
}

/** Whose password: a user's (portal) or an administrator's (console). */
export type CredentialSubject = 'user' | 'admin';

/** A stored password hash (scrypt, self-describing: parameters, salt and hash in one string). */
export interface PasswordRecord {
  subject: CredentialSubject;
  subjectId: string;
  hash: string;
  updatedAt: Date;
}

/** A one-time token that lets its subject set a password (sent in the invitation mail). */
export interface SetupTokenRecord {
  /** SHA-256 (hex) of the token. */
  hash: string;
  subject: CredentialSubject;
  subjectId: string;
  createdAt: Date;
  expiresAt: Date;
  usedAt?: Date;
}

/** Passwords and password-setup tokens. */
export interface CredentialStore {
  /** Creates or replaces the password of a subject. */
  setPassword(record: PasswordRecord): Promise<void>;
  /** The subject's password record, or `undefined`. */
  findPassword(subject: CredentialSubject, subjectId: string): Promise<PasswordRecord | undefined>;
  /** Deletes the subject's password; false when none. */
  deletePassword(subject: CredentialSubject, subjectId: string): Promise<boolean>;
  /** Stores a setup token (a duplicate hash throws TypeError). */
  createSetupToken(record: SetupTokenRecord): Promise<void>;
  /**
   * Marks the token used and resolves it, atomically: only the first call for an unused token
   * whose `expiresAt` is after `now` gets it; every other call resolves `undefined`.
   */
  consumeSetupToken(hash: string, now: Date): Promise<SetupTokenRecord | undefined>;
}

/** The management ports in one object. */
export interface ManagementStorage
  extends
    OrgGroupStore,
    PrincipalStore,
    ProfileLibraryStore,
    UserStore,
    PolicyStore,
    DeviceProfileStore {}

/** Every administrative port in one object, as the memory and SQLite adapters provide it. */
export interface AdminStorage
  extends
    ApiKeyStore,
    AuditLog,
    EnrollmentLinkStore,
    SettingsStore,
    ManagementStorage,
    WebSessionStore,
    CredentialStore {
  /** Releases the store; later calls reject with StorageError. */
  close(): void;
}

// ---------------------------------------------------------------------------------------------
// ACME (issue 22): nonces, accounts, orders, authorizations and challenges of the ACME server in
// `acme/`. Every one-time step is one conditional statement on a SQL backend: a nonce is
// consumed by `DELETE ... WHERE value = ? AND expires_at > ? RETURNING`, a state moves by
// `UPDATE ... WHERE id = ? AND status IN (...) RETURNING`, an account key changes by
// `UPDATE ... WHERE id = ? AND thumbprint = ?`. Async like the admin ports above.
// ---------------------------------------------------------------------------------------------

/** Status of an ACME account (RFC 8555 section 7.1.6). */
export type AcmeAccountStatus = 'valid' | 'deactivated' | 'revoked';

/** An ACME account: its key (a public JWK as JSON text) and the key's RFC 7638 thumbprint. */
export interface AcmeAccountRecord {
  id: string;
  /** RFC 7638 SHA-256 thumbprint of `jwk`, base64url; unique across accounts. */
  thumbprint: string;
  /** The public JWK as JSON text. */
  jwk: string;
  status: AcmeAccountStatus;
  contact: string[];
  createdAt: Date;
}

/** What {@link AcmeStore.changeAccountKey} found. */
export type AcmeKeyChangeOutcome = 'changed' | 'stale' | 'conflict';

/** Status of an ACME order. */
export type AcmeOrderStatus = 'pending' | 'ready' | 'processing' | 'valid' | 'invalid';

/** Status of an ACME authorization. */
export type AcmeAuthorizationStatus =
  'pending' | 'valid' | 'invalid' | 'deactivated' | 'expired' | 'revoked';

/** Status of an ACME challenge. */
export type AcmeChallengeStatus = 'pending' | 'processing' | 'valid' | 'invalid';

/** An identifier as ACME spells it (`{ type: 'permanent-identifier', value }`). */
export interface AcmeIdentifier {
  type: string;
  value: string;
}

/** A problem document kept on an order or challenge (RFC 7807, as ACME renders it). */
export interface AcmeProblemRecord {
  type: string;
  detail: string;
  status: number;
}

/** An ACME order. */
export interface AcmeOrderRecord {
  id: string;
  accountId: string;
  status: AcmeOrderStatus;
  identifiers: AcmeIdentifier[];
  /** Ids of its authorizations, in identifier order. */
  authorizationIds: string[];
  /** What the identifier policy bound the order to (issued certificates carry it). */
  enrollmentId?: string;
  createdAt: Date;
  expiresAt: Date;
  error?: AcmeProblemRecord;
  /** Serial (normalised hex) of the certificate issued for it, once `valid`. */
  certificateSerial?: string;
}

/** An ACME authorization of one identifier. */
export interface AcmeAuthorizationRecord {
  id: string;
  orderId: string;
  accountId: string;
  identifier: AcmeIdentifier;
  status: AcmeAuthorizationStatus;
  expiresAt: Date;
  /** DER SubjectPublicKeyInfo of the key the challenge proved (finalize requires it in the CSR). */
  boundKey?: Buffer;
  /** Serial number and UDID the device attestation named. */
  attestedSerial?: string;
  attestedUdid?: string;
}

/** An ACME challenge of an authorization. */
export interface AcmeChallengeRecord {
  id: string;
  authorizationId: string;
  accountId: string;
  type: string;
  /** The challenge token, base64url (not secret: the client reads it from the challenge). */
  token: string;
  status: AcmeChallengeStatus;
  validatedAt?: Date;
  error?: AcmeProblemRecord;
}

/** Fields an order transition may set (`error` and `certificateSerial`). */
export interface AcmeOrderChange {
  status: AcmeOrderStatus;
  error?: AcmeProblemRecord;
  certificateSerial?: string;
}

/** Fields an authorization transition may set. */
export interface AcmeAuthorizationChange {
  status: AcmeAuthorizationStatus;
  boundKey?: Buffer;
  attestedSerial?: string;
  attestedUdid?: string;
}

/** Fields a challenge transition may set. */
export interface AcmeChallengeChange {
  status: AcmeChallengeStatus;
  validatedAt?: Date;
  error?: AcmeProblemRecord;
}

/** What {@link AcmeStore.purgeAcme} deleted. */
export interface AcmePurgeResult {
  nonces: number;
  orders: number;
}

/**
 * The ACME server's state. Every method resolves or rejects (StorageError on a backend fault,
 * TypeError on misuse). Transitions name the statuses they move from: only one of two racing
 * callers moves a record, the other resolves `undefined`.
 */
export interface AcmeStore {
  /** Stores a fresh nonce valid until `expiresAt`. */
  putNonce(nonce: string, expiresAt: Date): Promise<void>;
  /** Removes the nonce; true only for the one call that found it unexpired at `now`. */
  consumeNonce(nonce: string, now: Date): Promise<boolean>;
  /**
   * Stores the account unless one with its thumbprint exists; resolves the stored account (the
   * new one, or the existing one with that key).
   */
  createAccount(record: AcmeAccountRecord): Promise<AcmeAccountRecord>;
  /** The account `id`, or `undefined`. */
  findAccount(id: string): Promise<AcmeAccountRecord | undefined>;
  /** The account whose key has `thumbprint`, or `undefined`. */
  findAccountByThumbprint(thumbprint: string): Promise<AcmeAccountRecord | undefined>;
  /** Sets the status or contact of a `valid` account; `undefined` when none is valid by that id. */
  updateAccount(
    id: string,
    change: { status?: AcmeAccountStatus; contact?: string[] },
  ): Promise<AcmeAccountRecord | undefined>;
  /**
   * Replaces the key of account `id` if it still has `oldThumbprint`: `stale` when it does not
   * (or is unknown), `conflict` when another account has the new key.
   */
  changeAccountKey(
    id: string,
    oldThumbprint: string,
    next: { thumbprint: string; jwk: string },
  ): Promise<AcmeKeyChangeOutcome>;
  /** Stores an order with its authorizations and their challenges, all or nothing. */
  createOrder(
    order: AcmeOrderRecord,
    authorizations: readonly AcmeAuthorizationRecord[],
    challenges: readonly AcmeChallengeRecord[],
  ): Promise<void>;
  /** The order `id`, or `undefined`. */
  findOrder(id: string): Promise<AcmeOrderRecord | undefined>;
  /** The authorization `id`, or `undefined`. */
  findAuthorization(id: string): Promise<AcmeAuthorizationRecord | undefined>;
  /** The challenge `id`, or `undefined`. */
  findChallenge(id: string): Promise<AcmeChallengeRecord | undefined>;
  /** The challenges of an authorization, in creation order. */
  listChallenges(authorizationId: string): Promise<AcmeChallengeRecord[]>;
  /** Moves the order from one of `from` to `change.status`; `undefined` when it was in none. */
  updateOrder(
    id: string,
    from: readonly AcmeOrderStatus[],
    change: AcmeOrderChange,
  ): Promise<AcmeOrderRecord | undefined>;
  /** Moves the authorization like {@link AcmeStore.updateOrder}. */
  updateAuthorization(
    id: string,
    from: readonly AcmeAuthorizationStatus[],
    change: AcmeAuthorizationChange,
  ): Promise<AcmeAuthorizationRecord | undefined>;
  /** Moves the challenge like {@link AcmeStore.updateOrder}. */
  updateChallenge(
    id: string,
    from: readonly AcmeChallengeStatus[],
    change: AcmeChallengeChange,
  ): Promise<AcmeChallengeRecord | undefined>;
  /**
   * Deletes nonces expired at `now`, orders past `expiresAt` at `now` that are not `valid`, and
   * `valid` orders that expired before `validBefore` (with their authorizations and challenges).
   */
  purgeAcme(now: Date, validBefore: Date): Promise<AcmePurgeResult>;
}

/** A token bucket every daemon on one database shares: `perMinute` tokens, refilled per minute. */
export interface SharedBucket {
  /** What the bucket limits, e.g. `enroll` or `failed-login` (one namespace per limiter). */
  scope: string;
  /** The client's bucket within `scope` (an address bucket, or `*` for a global ceiling). */
  key: string;
  /** Bucket size and refill per minute; a positive integer. */
  perMinute: number;
  /** The caller's time in milliseconds (each daemon's clock; a clock behind never refills). */
  now: number;
}

/**
 * Coordination between daemons that share one database: singleton jobs, shared rate-limit
 * buckets and cache invalidation. On PostgreSQL these are advisory locks, one upserted row per
 * bucket and LISTEN/NOTIFY; on SQLite (workers, or daemons on one file) a row per bucket, a lease
 * row per job and polled topic versions; memory coordinates within the process.
 */
export interface Coordination {
  /**
   * Runs `fn` unless another holder (any daemon) is running the job `name` right now; resolves
   * `fn`'s value, or `{ skipped: true }` when it was held elsewhere. A crashed holder's job is
   * free again as soon as its connection is gone (PostgreSQL) or its lease expired (SQLite).
   */
  exclusive<T>(name: string, fn: () => Promise<T>): Promise<{ value: T } | { skipped: true }>;
  /** Takes one token of the shared bucket; resolves the seconds to wait when it is empty. */
  take(bucket: SharedBucket): Promise<number | undefined>;
  /** The seconds to wait when the shared bucket is empty, without taking a token. */
  blocked(bucket: SharedBucket): Promise<number | undefined>;
  /**
   * Tells every daemon (this one included, at once) that `topic` changed. Delivery is best effort:
   * a listener may miss it, so it may only shorten a cache's life, never be needed for correctness.
   */
  notify(topic: string): Promise<void>;
  /** Calls `listener` when `topic` changes (also after a lost listener connection is back). */
  listen(topic: string, listener: () => void): () => void;
  /** Stops listening and releases connections; later calls reject (exclusive, take) or no-op. */
  close(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// ACME ClientIdentifiers (issue 22): the one-time values enrollment profiles carry as the
// `permanent-identifier` a device orders, and the attested device of each certificate issued on
// one. Kept in the database so every daemon on it shares them; every one-time step (bind to the
// first account, use up) is one conditional statement on a SQL backend.
// ---------------------------------------------------------------------------------------------

/** One issued ClientIdentifier, by the SHA-256 digest of its value (never the value itself). */
export interface AcmeClientIdRecord {
  /** SHA-256 of the value, base64url (43 characters). */
  digest: string;
  /** What the download was for (e.g. `enrollment-token:<linkId>`); orders and certificates carry it. */
  enrollmentId: string;
  /** The device the download named, when known. */
  expectedUdid?: string;
  expectedSerial?: string;
  createdAt: Date;
  /** Until when the value may start an order or be used up. */
  expiresAt: Date;
  /** The first account that ordered it (bound once, never changed). */
  accountId?: string;
  /** When it was used up (the first finalize of an order for it). */
  usedAt?: Date;
}

/** The device an ACME certificate was attested for, by the certificate's serial. */
export interface AcmeAttestedDeviceRecord {
  /** Certificate serial, lower-case hex without leading zeros. */
  certificateSerial: string;
  serial?: string;
  udid?: string;
  /** Kept until then: the certificate's notAfter. */
  expiresAt: Date;
}

/** What {@link AcmeClientIdStore.purgeClientIds} deleted. */
export interface AcmeClientIdPurgeResult {
  clientIds: number;
  attestedDevices: number;
}

/**
 * The store of one-time ACME ClientIdentifiers and attested devices. Resolves or rejects
 * (StorageError on a backend fault, TypeError on misuse). "Live" means not used up and
 * `expiresAt` after `now`.
 */
export interface AcmeClientIdStore {
  /** Stores a new value; TypeError when its digest exists. */
  putClientId(record: AcmeClientIdRecord): Promise<void>;
  /**
   * Binds a live value to `accountId` when it has no account yet, in one conditional step, and
   * resolves the record when it is live and bound to `accountId`; `undefined` otherwise (unknown,
   * used, expired, or bound to another account).
   */
  claimClientId(
    digest: string,
    accountId: string,
    now: Date,
  ): Promise<AcmeClientIdRecord | undefined>;
  /** The value when live at `now`, or `undefined`. */
  findLiveClientId(digest: string, now: Date): Promise<AcmeClientIdRecord | undefined>;
  /**
   * Uses the value up when live and bound to `accountId`, in one conditional step; true only for
   * the one caller that did.
   */
  useClientId(digest: string, accountId: string, now: Date): Promise<boolean>;
  /** Records (or replaces) the attested device of a certificate. */
  putAttestedDevice(record: AcmeAttestedDeviceRecord): Promise<void>;
  /** The attested device of a certificate (serial as recorded), or `undefined`. */
  findAttestedDevice(certificateSerial: string): Promise<AcmeAttestedDeviceRecord | undefined>;
  /** Deletes values and attested devices whose `expiresAt` is at or before `now`. */
  purgeClientIds(now: Date): Promise<AcmeClientIdPurgeResult>;
}

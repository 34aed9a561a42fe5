/**
 * Orchard: an Apple MDM server toolkit. The main entry holds the transport-agnostic
 * library (property lists, crypto, profiles, the MDM core); adapters live under subpaths.
 */
import { createMemoryCaStorage } from './storage/memory/index.js';
import type { CertificateStore, ChallengeStore } from './storage/ports.js';

export * from './errors.js';
export {
  PlistReal,
  decodePlist,
  encodePlist,
  fromTypedJson,
  toTypedJson,
} from './protocol/plist.js';
export type {
  DecodePlistOptions,
  EncodePlistOptions,
  FromTypedJsonOptions,
  PlistDict,
  PlistValue,
  TypedJson,
} from './protocol/plist.js';
export * from './storage/ports.js';
export {
  createMemoryAdminStorage,
  createMemoryCaStorage,
  createMemoryStorage,
} from './storage/memory/index.js';
export type {
  MemoryAdminStorageOptions,
  MemoryCaStorage,
  MemoryStorageOptions,
} from './storage/memory/index.js';

/** A `CertificateStore` in memory: the `certificates` of a new {@link createMemoryCaStorage}. */
export function createMemoryCertificateStore(): CertificateStore {
  return createMemoryCaStorage().certificates;
}

/**
 * A `ChallengeStore` in memory (single process): the `challenges` of a new
 * {@link createMemoryCaStorage}.
 */
export function createMemoryChallengeStore(): ChallengeStore {
  return createMemoryCaStorage().challenges;
}
export type {
  PushEvent,
  PushEventListener,
  PushHealth,
  PushOutcome,
  PushProvider,
  PushResult,
  PushTarget,
} from './push/ports.js';
export { createApnsPushProvider } from './push/apns/provider.js';
export type { ApnsProviderDeps, ApnsPushProvider } from './push/apns/provider.js';
export { APNS_PRODUCTION_URL, APNS_SANDBOX_URL } from './push/apns/options.js';
export type { ApnsProviderOptions } from './push/apns/options.js';
export { daysLeft, findPushTopic, loadPushCertificate } from './push/apns/certificate.js';
export type {
  LoadPushCertificateOptions,
  PushCertificate,
  PushCertificateSource,
} from './push/apns/certificate.js';
export { createMultiTopicPushProvider } from './push/multi.js';
export type { TopicPushProvider } from './push/multi.js';
export * from './crypto/index.js';
export { checkMdmSignature, verifyMdmSignature } from './identity/mdm-signature.js';
export {
  EMBEDDED_CERTIFICATE_CACHE_DEFAULT,
  embeddedCertificateCacheCount,
  setEmbeddedCertificateCacheSize,
} from './crypto/cms-detached.js';
export type { MdmSignatureOptions } from './identity/mdm-signature.js';
export { CHECKIN_LIMITS, decodeCheckin, isDict } from './protocol/checkin.js';
export type {
  AuthenticateMessage,
  CheckinBase,
  CheckinMessage,
  CheckOutMessage,
  DeclarativeManagementMessage,
  DecodedCheckin,
  GetBootstrapTokenMessage,
  GetTokenMessage,
  MessageLimits,
  SetBootstrapTokenMessage,
  TokenUpdateMessage,
  UnknownCheckinMessage,
  UserAuthenticateMessage,
} from './protocol/checkin.js';
export { REPORT_LIMITS, decodeReport, encodeCommand } from './protocol/command.js';
export type {
  CommandPayload,
  CommandReport,
  ErrorChainItem,
  ReportStatusValue,
} from './protocol/command.js';
export { resolveEnrollment, SHARED_IPAD_USER_ID } from './protocol/enrollment-id.js';
export type { EnrollmentKeys, ResolvedEnrollment } from './protocol/enrollment-id.js';
export { EMPTY_OK, silentLogger } from './service/ports.js';
export type {
  CertificateSource,
  DeviceCertificate,
  Logger,
  MdmRequest,
  MdmResponse,
  MdmService,
} from './service/ports.js';
export { createMdmCore } from './service/core.js';
export type { MdmCore } from './service/core.js';
export type { EnqueueOptions } from './service/core-commands.js';
export type {
  EnrollmentPushResult,
  MdmCoreDeps,
  MdmCoreOptions,
  PushOptions,
} from './service/core-context.js';
export { createEventSink } from './service/events.js';
export type {
  CheckedOutEvent,
  CommandResultEvent,
  EnrolledEvent,
  MdmEvent,
  MdmEventListener,
  MdmEvents,
  MdmEventType,
  ReEnrolledEvent,
  TokenUpdatedEvent,
  UserAuthenticatedEvent,
} from './service/events.js';
export {
  certificateHash,
  decideBinding,
  renewalTarget,
  withCertAuth,
} from './service/cert-auth.js';
export type {
  BindingChange,
  BindingDecision,
  BindingFacts,
  BindingReason,
  BindingRefusal,
  CertAuthDeps,
  IssuanceRecord,
  IssuanceSource,
  RefusalReason,
  RevocationSource,
} from './service/cert-auth.js';
export { createIdentityRenewal } from './service/identity-renewal.js';
export type {
  IdentityRenewalDeps,
  IdentityRenewalOptions,
  IdentityRenewalService,
} from './service/identity-renewal.js';
export { createTokenSealer } from './service/bootstrap.js';
export type { TokenSealer } from './service/bootstrap.js';
export {
  defaultDeclarativeHandler,
  defaultGetTokenHandler,
  parseDeclarativeEndpoint,
} from './service/declarative.js';
export type {
  DeclarativeEndpoint,
  DeclarativeHandler,
  GetTokenHandler,
} from './service/declarative.js';
export { answerUserAuthenticate } from './service/user-authenticate.js';
export type {
  UserAuthenticateDecision,
  UserAuthenticatePolicy,
} from './service/user-authenticate.js';
export { dispatchCheckin, handleMessage } from './service/handler.js';
export type { DeviceMessage, MdmDecoders, MessageKind } from './service/handler.js';
export {
  CHECKIN_CONTENT_TYPE,
  REPORT_CONTENT_TYPE,
  createMdmHandler,
  errorResponse,
} from './http/mdm.js';
export type { MdmHandler, MdmHandlerOptions, MdmHttpRequest, MdmHttpResponse } from './http/mdm.js';
export { renderError } from './http/errors.js';
export type { ErrorFormat } from './http/errors.js';
export type { EdgeQuery, EdgeRequest, EdgeResponse } from './http/edge.js';
export { extractDeviceCertificate, parseCertificateHeader } from './identity/device-identity.js';
export type { DeviceIdentityOptions, IdentitySource } from './identity/device-identity.js';
export type { DeviceTrust } from './identity/device-trust.js';
export {
  NANOMDM_HMAC_HEADER,
  SIGNATURE_HEADER,
  createOutboxWorker,
  nanoMdmEvent,
  nanoMdmHmac,
  signWebhook,
  verifyWebhookSignature,
  withNanoMdmWebhook,
} from './service/webhooks.js';
export type {
  NanoMdmAcknowledgeEvent,
  NanoMdmCheckinEvent,
  NanoMdmEvent,
  NanoMdmEventInput,
  NanoMdmIds,
  NanoMdmTopic,
  NanoMdmWebhookDeps,
  OutboxWorker,
  OutboxWorkerOptions,
  RunResult,
  VerifyWebhookOptions,
  WebhookFormat,
} from './service/webhooks.js';
export { looksLikePlist, signProfile } from './profile/sign.js';
export type { ProfileInput, SignProfileOptions } from './profile/sign.js';
export { verifyProfile } from './profile/verify.js';
export type { VerifiedProfile, VerifyProfileOptions } from './profile/verify.js';
export { decryptProfile, encryptProfile, isEncryptedProfile } from './profile/encrypt.js';
export type { DecryptProfileOptions, EncryptProfileOptions } from './profile/encrypt.js';
export { inspectProfile, summarizeCertificate, toReadableJson } from './profile/inspect.js';
export type {
  CertificateSummary,
  InspectProfileOptions,
  JsonValue,
  ProfileInspection,
  SignatureReport,
} from './profile/inspect.js';
export { canRemove } from './profile/removal.js';
export type {
  DeviceEnrollment,
  ProfileInstaller,
  RemovalCascade,
  RemovalDecision,
  RemovalDevice,
  RemovalOutcome,
  RemovalPlatform,
  RemovalProfile,
  RemovalRequest,
  RemovalRequester,
  RemovalRule,
} from './profile/removal.js';
export {
  REMOVAL_PASSWORD_PAYLOAD_TYPE,
  clearRemovalPassword,
  readRemovalSettings,
  removalProfileOf,
  scheduledRemoval,
  setDurationUntilRemoval,
  setRemovalDate,
  setRemovalDisallowed,
  setRemovalPassword,
} from './profile/removal-policy.js';
export type { RemovalPasswordOptions, RemovalSettings } from './profile/removal-policy.js';
export {
  buildCommand,
  findCheckinFacts,
  findCommandFacts,
  validateCheckin,
  validateCommand,
  validateCommandResponse,
} from './schema/commands.js';
export type {
  CommandKeys,
  CommandRequests,
  CommandResponse,
  CommandResponses,
  RequestType,
} from './schema/commands.js';
export type * from './schema/generated/command-types.js';
export type * from './schema/generated/profile-types.js';
export type { CheckinMessages, CheckinResponses } from './schema/generated/checkin-types.js';
export { PLATFORMS } from './schema/facts.js';
export type {
  EntryFacts,
  KeyFacts,
  OsFacts,
  OsTable,
  Platform,
  SchemaArea,
  SchemaType,
} from './schema/facts.js';
export type { Enrollment, Target } from './schema/target.js';
export { compareVersions, isVersion } from './schema/version.js';
export type { CompatibilityMode, ModeVerdict, PlatformCompatibility } from './schema/compat.js';
export type { LifecycleMarker } from './schema/judge.js';
export { SKIP_KEYS, findSkipKey } from './schema/skip-keys.js';
export { ORCHARD_NAMESPACE, buildProfile, buildProfileFile, uuidV5 } from './profile/build.js';
export { checkProfileSpec, parseProfileSpec, payloadSpec } from './profile/spec.js';
export type {
  PayloadSpec,
  ProfilePayloadType,
  ProfileSpec,
  TypedPayloadSpec,
  TypedProfileSpec,
} from './profile/spec.js';
export { checkProfile, profileCompatibility, validateProfile } from './profile/validate.js';
export type { ProfileReport } from './profile/validate.js';
export { createCa } from './identity/ca/authority.js';
export type {
  CaDeps,
  CaMaterial,
  CertificateAuthority,
  IssueRequest,
  KeyPairCertificate,
} from './identity/ca/authority.js';
export { importCa, openCaDirectory, rootKeyPair } from './identity/ca/files.js';
export type { CaKeyType, ImportCaOptions, OpenCaDirectoryOptions } from './identity/ca/files.js';
export { openPkiDirectory } from './identity/ca/directory.js';
export { prepareDataDirectory } from './identity/ca/data-directory.js';
export type { DataDirectoryFs } from './identity/ca/data-directory.js';
export type { PkiDirectory, SigningIdentity } from './identity/ca/directory.js';
export { createScepResponder } from './identity/scep/responder.js';
export type {
  ScepCaCertificates,
  ScepDeps,
  ScepHandlerOptions,
  ScepResponder,
} from './identity/scep/responder.js';
export { createScepHandler } from './http/scep.js';
export type { ScepHandler, ScepHttpRequest, ScepHttpResponse } from './http/scep.js';
export {
  anyChallenge,
  createOneTimeChallenges,
  staticChallenge,
} from './identity/scep/challenge.js';
export type {
  ChallengeContext,
  ChallengeDecision,
  ChallengeStore,
  ChallengeValidator,
  OneTimeChallenges,
} from './identity/scep/challenge.js';
export { challengeDigest } from './identity/scep/challenge.js';
export type { OneTimeChallengeDeps, StoredChallenge } from './identity/scep/challenge.js';
export { createWebhookValidator } from './identity/scep/challenge-webhook.js';
export type {
  WebhookRequestBody,
  WebhookValidatorOptions,
} from './identity/scep/challenge-webhook.js';
export {
  createScepRequest,
  createTransientCertificate,
  readCertRep,
} from './identity/scep/client.js';
export type { CertRepResult, ScepRequest, ScepRequestOptions } from './identity/scep/client.js';
export {
  FailInfo,
  MessageType,
  PkiStatus,
  ScepContentType,
  ScepOid,
} from './identity/scep/constants.js';
export type { FailInfoName, MessageTypeName, PkiStatusName } from './identity/scep/constants.js';
export { readPkiMessage, writePkiMessage } from './identity/scep/message.js';
export type { PkiMessage, WritePkiMessageOptions } from './identity/scep/message.js';
export type { EnvelopeCipher } from './identity/scep/envelope.js';
export { normaliseSerial } from './identity/ca/store.js';
export type {
  CertificateStore,
  IssuedCertificate,
  ListIssuedOptions,
} from './identity/ca/store.js';
export type { IssuancePolicyOptions, PolicyRefusal } from './identity/ca/policy.js';
export { watchPushCertificate } from './push/apns/reloader.js';
export type { PushCertificateWatch, PushCertificateWatchOptions } from './push/apns/reloader.js';
export {
  countEnrolledForTopic,
  openFilePush,
  readPushFiles,
  TOPIC_META_KEY,
} from './push/apns/reload.js';
export type {
  FilePush,
  FilePushOptions,
  FilePushStorage,
  PushCertificateFiles,
  PushReloadState,
} from './push/apns/reload.js';
export { createPushStats } from './push/apns/stats.js';
export type { PushOutcomeLike, PushStats, PushStatsSnapshot } from './push/apns/stats.js';
export {
  addKeyToFile,
  decodeKeyFile,
  discardGeneratedKeyFile,
  keyFileWhere,
  openSecretsKeyFile,
  readKeyFile,
  reloadingKeyring,
  secretsKeyLocation,
} from './crypto/secrets-key-file.js';
export type { SecretsKeyFile, SecretsKeyLocation } from './crypto/secrets-key-file.js';
export { createPushCsr, signPushCsr } from './push/apns/csr.js';
export type {
  PushCsr,
  PushCsrSubject,
  SignPushCsrInput,
  SignedPushRequest,
} from './push/apns/csr.js';
export { summarizePushCertificate } from './push/apns/certificate.js';
export type { PushCertificateSummary } from './push/apns/certificate.js';
export {
  API_KEY_PREFIX,
  ALL_ACCESS_RIGHTS,
  adminView,
  apiKeyView,
  authorizeAdmin,
  authorizeGroup,
  canEdit,
  canSee,
  checkKeyScope,
  authenticate,
  bearerKey,
  buildEnrollmentProfile,
  createApiKey,
  createEnrollmentService,
  DEFAULT_CHALLENGE_TTL_SECONDS,
  DEFAULT_TOKEN_TTL_SECONDS,
  ENROLLMENT_PROFILE_IDENTIFIER,
  enrollmentProfileErrors,
  ensureApiKey,
  generateApiKey,
  hashApiKey,
  identityAuditObservers,
  isHttpsOnlyIssue,
  issueEnrollmentToken,
  linkChallengeTtl,
  linkTarget,
  newTokenSecret,
  PUSH_CERTIFICATE_HELP,
  PUSH_CERTIFICATE_STEPS,
  PUSH_TOPIC_META,
  recordAudit,
  createWebAccounts,
  createWebSessions,
  hashPassword,
  passwordProblem,
  verifyPassword,
  MIN_PASSWORD_LENGTH,
  SETUP_TOKEN_TTL_SECONDS,
  scepCaFingerprint,
  signEnrollmentProfile,
  tokenView,
  withEnrollmentLinks,
} from './admin/index.js';
export type {
  Access,
  AdminJson,
  ApiKeyJson,
  AuditInput,
  Caller,
  EnrollmentTokenJson,
  CreateTokenInput,
  EnrollmentProfileInput,
  EnrollmentService,
  EnrollmentServiceDeps,
  ProfileSigner,
} from './admin/index.js';

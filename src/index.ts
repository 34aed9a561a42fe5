/**
 * Orchard: an Apple MDM server toolkit. The main entry holds the transport-agnostic
 * library (property lists, crypto, profiles, the MDM core); adapters live under subpaths.
 */
export * from './errors.js';
export { PlistReal, decodePlist, encodePlist } from './protocol/plist.js';
export type {
  DecodePlistOptions,
  EncodePlistOptions,
  PlistDict,
  PlistValue,
} from './protocol/plist.js';
export * from './storage/ports.js';
export { createMemoryStorage } from './storage/memory/index.js';
export type { MemoryStorageOptions } from './storage/memory/index.js';
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
export { verifyMdmSignature } from './identity/mdm-signature.js';
export type { MdmSignatureOptions } from './identity/mdm-signature.js';

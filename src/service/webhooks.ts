/**
 * Webhooks for embedders: the core writes every event to the storage outbox; an outbox worker
 * POSTs each one as JSON, HMAC-signed, retrying with backoff until the receiver answers 2xx.
 * Receivers check the `Orchard-Signature` header with {@link verifyWebhookSignature}. For tools
 * built for MicroMDM/NanoMDM webhooks, {@link withNanoMdmWebhook} writes their event shape instead.
 */
export {
  NANOMDM_HMAC_HEADER,
  SIGNATURE_HEADER,
  nanoMdmHmac,
  signWebhook,
  verifyWebhookSignature,
} from './outbox-signature.js';
export type { VerifyWebhookOptions } from './outbox-signature.js';
export type { WebhookFormat } from './outbox-delivery.js';
export { nanoMdmEvent, withNanoMdmWebhook } from './outbox-nanomdm.js';
export type {
  NanoMdmAcknowledgeEvent,
  NanoMdmCheckinEvent,
  NanoMdmEvent,
  NanoMdmEventInput,
  NanoMdmIds,
  NanoMdmTopic,
  NanoMdmWebhookDeps,
} from './outbox-nanomdm.js';
export { createOutboxWorker } from './outbox-worker.js';
export type { OutboxWorker, OutboxWorkerOptions, RunResult } from './outbox-worker.js';

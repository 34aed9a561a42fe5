/**
 * Webhooks for embedders: the core writes every event to the storage outbox; an outbox worker
 * POSTs each one as JSON, HMAC-signed, retrying with backoff until the receiver answers 2xx.
 * Receivers check the `Orchard-Signature` header with {@link verifyWebhookSignature}.
 */
export { SIGNATURE_HEADER, signWebhook, verifyWebhookSignature } from './outbox-signature.js';
export type { VerifyWebhookOptions } from './outbox-signature.js';
export { createOutboxWorker } from './outbox-worker.js';
export type { OutboxWorker, OutboxWorkerOptions, RunResult } from './outbox-worker.js';

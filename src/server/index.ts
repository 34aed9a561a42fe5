/**
 * `orchard-mdm/server`: Orchard's MDM and SCEP side wired from opened parts, for an embedder that
 * runs it in its own process (`orchard serve` is one such embedder).
 */
export { createOrchardServices } from './services.js';
export type {
  OrchardMetricsSink,
  OrchardPush,
  OrchardServices,
  OrchardServicesDeps,
  OrchardServicesOptions,
} from './services.js';
export type { OrchardWebhooks } from './webhooks.js';
export { orchardRoutes } from './routes.js';
export { startDelivery } from './delivery.js';
export type { DeliveryRunOptions, RunningDelivery } from './delivery.js';
export { createSmtpMailer } from '../mail/smtp.js';
export type { SmtpMailerOptions } from '../mail/smtp.js';
export type { Mailer, MailMessage, MailAttachment } from '../mail/ports.js';
export type { OrchardRouteDeps, OrchardRouteOptions } from './routes.js';
export {
  appleAttestationRoots,
  attestationRootsFromPem,
  createAcmeClientIdentifiers,
  createOrchardAcme,
} from './acme.js';
export type {
  AcmeClientIdentifiers,
  AcmeServer,
  ClientIdentifierDeps,
  OrchardAcmeDeps,
  OrchardAcmeHooks,
  OrchardAcmeOptions,
} from './acme.js';

/**
 * Webhook delivery for {@link createOrchardServices}: the outbox worker, woken by every core
 * event, and with the `nanomdm` format the served service wrapped so every accepted check-in and
 * report writes a MicroMDM/NanoMDM-shaped event (with the raw payload) instead of the core's.
 */
import type { Logger } from '../logger.js';
import type { MdmCore } from '../service/core.js';
import type { MdmService } from '../service/ports.js';
import { withNanoMdmWebhook } from '../service/outbox-nanomdm.js';
import type { WebhookFormat } from '../service/outbox-delivery.js';
import { createOutboxWorker, type OutboxWorker } from '../service/outbox-worker.js';
import type { MdmStorage } from '../storage/ports.js';

/** The service to serve and the running worker (absent without a webhook). */
export interface OrchardWebhooks {
  service: MdmService;
  worker: OutboxWorker | undefined;
}

/**
 * Starts the worker of `webhook` (none when absent, or when `deliver` is false: another process
 * delivers what this one writes to the outbox) and wraps `service` for `nanomdm`.
 */
export function startWebhooks(
  service: MdmService,
  core: MdmCore,
  deps: { storage: MdmStorage; clock: () => Date; logger: Logger },
  webhook: { url: string; secret: string; format?: WebhookFormat } | undefined,
  deliver = true,
): OrchardWebhooks {
  if (!webhook) return { service, worker: undefined };
  const worker = deliver
    ? createOutboxWorker({ store: deps.storage, ...webhook, logger: deps.logger })
    : undefined;
  worker?.start();
  core.events.on('*', () => {
    worker?.wake();
  });
  if (webhook.format !== 'nanomdm') return { service, worker };
  const wrapped = withNanoMdmWebhook(service, {
    ...{ outbox: deps.storage, enrollments: deps.storage, clock: deps.clock },
    onEvent: () => {
      worker?.wake();
    },
  });
  return { service: wrapped, worker };
}

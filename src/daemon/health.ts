/**
 * `/healthz` and the enrollment gauge: storage reachability (a read on each store), push
 * certificate state and days left, the APNs circuit state and recent push outcomes by reason.
 * 200 when storage answers, 503 otherwise; push being disabled, close to expiry or failing is
 * reported but does not fail the check (APNs trouble is no reason to take the server out).
 */
import type { MdmStorage } from '../index.js';
import type { DaemonServices } from './services.js';

const PAGE = 1000;
const MAX_COUNTED = 200_000;

/** Recent push outcomes (failed and deferred by reason) and the latest failure. */
function pushActivity(services: DaemonServices) {
  const { lastFailure, ...recent } = services.pushStats.snapshot();
  return { recent, lastFailure };
}

/** The health check; resolves status and JSON body. */
export function createHealth(services: DaemonServices, clock: () => Date) {
  return async (): Promise<{ status: number; body: unknown }> => {
    let storageOk = true;
    try {
      await services.storage.findEnrollment('healthz-probe');
      services.admin.getMeta('public_url');
    } catch {
      storageOk = false;
    }
    const h = services.push?.health();
    const reload = services.pushReload;
    const push = h
      ? {
          enabled: true,
          topic: h.topic,
          notAfter: h.notAfter.toISOString(),
          daysLeft: h.daysLeft,
          expired: h.expired,
          circuit: h.circuit,
          ...pushActivity(services),
          lastReloadAt: reload?.lastReloadAt?.toISOString() ?? null,
          reloadError: reload?.lastError
            ? { ...reload.lastError, at: reload.lastError.at.toISOString() }
            : null,
        }
      : { enabled: false, reason: 'no push certificate configured' };
    const status = storageOk ? 'ok' : 'unavailable';
    return {
      status: storageOk ? 200 : 503,
      body: { status, time: clock().toISOString(), storage: { ok: storageOk }, push },
    };
  };
}

/**
 * Counts enrollments by state (`enrolled`, `pending`) through the storage port, page by page
 * (at most 200,000), cached for 15 seconds so scrapes stay cheap.
 */
export function enrollmentCounter(storage: MdmStorage, ttlMs = 15_000) {
  let cached: { at: number; value: Record<string, number> } | undefined;
  return async (): Promise<Record<string, number>> => {
    if (cached && Date.now() - cached.at < ttlMs) return cached.value;
    const value = { enrolled: 0, pending: 0 };
    let cursor: string | undefined;
    let seen = 0;
    do {
      const page = await storage.listEnrollments({ limit: PAGE, ...(cursor ? { cursor } : {}) });
      for (const e of page.items) value[e.enrolled ? 'enrolled' : 'pending']++;
      seen += page.items.length;
      cursor = page.nextCursor;
    } while (cursor !== undefined && seen < MAX_COUNTED);
    cached = { at: Date.now(), value };
    return value;
  };
}

/**
 * `/healthz`: storage reachability, push certificate state and days left, the APNs circuit state
 * and recent push outcomes by reason. 200 when storage answers, 503 otherwise; push being
 * disabled, close to expiry or failing is reported but does not fail the check (APNs trouble is
 * no reason to take the server out).
 */
import type { PushHealth } from '../push/ports.js';
import type { EdgeResponse } from './edge.js';
import { jsonResponse } from './listener.js';

/** The outcome of the latest push certificate reload (see `watchPushFiles`). */
export interface PushReloadReport {
  lastReloadAt?: Date;
  lastError?: { code: string; message: string; at: Date };
}

/** What {@link createHealthCheck} reads. */
export interface HealthDeps {
  /** Reads from every store; a rejection or throw marks storage unavailable. */
  probeStorage(): Promise<unknown>;
  /** The push provider's state; absent without push. */
  push?: () => PushHealth | undefined;
  /** The latest certificate reload. */
  pushReload?: () => PushReloadReport | undefined;
  /** Recent push outcomes (`PushStats.snapshot`), with the latest failure. */
  pushActivity?: () => { lastFailure: unknown };
  clock: () => Date;
}

function pushBody(deps: HealthDeps, h: PushHealth): Record<string, unknown> {
  const reload = deps.pushReload?.();
  const { lastFailure, ...recent } = deps.pushActivity?.() ?? { lastFailure: null };
  return {
    enabled: true,
    topic: h.topic,
    notAfter: h.notAfter.toISOString(),
    daysLeft: h.daysLeft,
    expired: h.expired,
    circuit: h.circuit,
    recent,
    lastFailure,
    lastReloadAt: reload?.lastReloadAt?.toISOString() ?? null,
    reloadError: reload?.lastError
      ? { ...reload.lastError, at: reload.lastError.at.toISOString() }
      : null,
  };
}

/** The health check: resolves the `/healthz` answer (JSON; 200, or 503 when storage fails). */
export function createHealthCheck(deps: HealthDeps): () => Promise<EdgeResponse> {
  return async () => {
    let storageOk = true;
    try {
      await deps.probeStorage();
    } catch {
      storageOk = false;
    }
    const h = deps.push?.();
    const push = h
      ? pushBody(deps, h)
      : { enabled: false, reason: 'no push certificate configured' };
    const body = {
      status: storageOk ? 'ok' : 'unavailable',
      time: deps.clock().toISOString(),
      storage: { ok: storageOk },
      push,
    };
    return jsonResponse(storageOk ? 200 : 503, body);
  };
}

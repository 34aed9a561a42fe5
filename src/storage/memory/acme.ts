/**
 * The ACME server's state in process memory, with the SQLite adapter's semantics (one
 * conformance suite runs against both): a nonce consumed at most once, transitions that move a
 * record only from the statuses they name, one account per key thumbprint.
 */
import type {
  AcmeAccountRecord,
  AcmeAuthorizationRecord,
  AcmeChallengeRecord,
  AcmeOrderRecord,
  AcmeStore,
} from '../ports.js';
import { checkDate, checkId, closedError } from '../support.js';

/** The {@link AcmeStore} {@link createMemoryAcmeStore} returns, with a `close`. */
export interface MemoryAcmeStore extends AcmeStore {
  /** Ends the store: later calls reject with StorageError. */
  close(): void;
}

/** Runs `fn` as a promise: rejects with StorageError once closed, or with what `fn` throws. */
function guarded<T>(closed: () => boolean, fn: () => T): Promise<T> {
  try {
    if (closed()) throw closedError();
    return Promise.resolve(fn());
  } catch (error) {
    return Promise.reject(error instanceof Error ? error : new Error(String(error)));
  }
}

/** A deep copy through structuredClone, keeping Buffers as Buffers (not plain Uint8Arrays). */
function clone<T extends object>(value: T): T {
  const out = structuredClone(value) as Record<string, unknown>;
  for (const [k, v] of Object.entries(value)) if (Buffer.isBuffer(v)) out[k] = Buffer.from(v);
  return out as T;
}

/** Applies `change` to `record` (absent fields stay) and returns a copy of the result. */
function apply<T extends { status: string }>(record: T, change: Partial<T>): T {
  for (const [k, v] of Object.entries(change)) {
    if (v === undefined) continue;
    (record as Record<string, unknown>)[k] = Buffer.isBuffer(v)
      ? Buffer.from(v)
      : structuredClone(v);
  }
  return clone(record);
}

/** One transition: the record moves only when its status is one of `from`. */
function move<T extends { status: string }>(
  map: Map<string, T>,
  id: string,
  from: readonly string[],
  change: Partial<T>,
): T | undefined {
  if (from.length === 0) throw new TypeError('a transition needs at least one status to move from');
  const record = map.get(id);
  if (record === undefined || !from.includes(record.status)) return undefined;
  return apply(record, change);
}

interface Tables {
  nonces: Map<string, number>;
  accounts: Map<string, AcmeAccountRecord>;
  orders: Map<string, AcmeOrderRecord>;
  authorizations: Map<string, AcmeAuthorizationRecord>;
  challenges: Map<string, AcmeChallengeRecord>;
}

function deleteOrder(t: Tables, order: AcmeOrderRecord): void {
  t.orders.delete(order.id);
  for (const authzId of order.authorizationIds) {
    t.authorizations.delete(authzId);
    for (const [id, c] of t.challenges) if (c.authorizationId === authzId) t.challenges.delete(id);
  }
}

function purge(t: Tables, now: Date, validBefore: Date): { nonces: number; orders: number } {
  let nonces = 0;
  for (const [value, expires] of t.nonces) {
    if (expires <= now.getTime()) {
      t.nonces.delete(value);
      nonces++;
    }
  }
  let orders = 0;
  for (const order of [...t.orders.values()]) {
    const limit = order.status === 'valid' ? validBefore : now;
    if (order.expiresAt.getTime() <= limit.getTime()) {
      deleteOrder(t, order);
      orders++;
    }
  }
  return { nonces, orders };
}

function accountMethods(t: Tables, closed: () => boolean) {
  const byThumbprint = (thumbprint: string): AcmeAccountRecord | undefined =>
    [...t.accounts.values()].find((a) => a.thumbprint === thumbprint);
  return {
    createAccount: (record: AcmeAccountRecord) =>
      guarded(closed, () => {
        checkId(record.id);
        const existing = byThumbprint(record.thumbprint);
        if (existing !== undefined) return clone(existing);
        if (t.accounts.has(record.id)) throw new TypeError('duplicate ACME account id');
        t.accounts.set(record.id, clone(record));
        return clone(record);
      }),
    findAccount: (id: string) =>
      guarded(closed, () => {
        const a = t.accounts.get(id);
        return a && clone(a);
      }),
    findAccountByThumbprint: (thumbprint: string) =>
      guarded(closed, () => {
        const a = byThumbprint(thumbprint);
        return a && clone(a);
      }),
    updateAccount: (id: string, change: Partial<AcmeAccountRecord>) =>
      guarded(closed, () => move(t.accounts, id, ['valid'], change)),
    changeAccountKey: (id: string, old: string, next: { thumbprint: string; jwk: string }) =>
      guarded(closed, () => {
        const a = t.accounts.get(id);
        if (a?.thumbprint !== old) return 'stale' as const;
        if (byThumbprint(next.thumbprint) !== undefined) return 'conflict' as const;
        a.thumbprint = next.thumbprint;
        a.jwk = next.jwk;
        return 'changed' as const;
      }),
  };
}

function orderMethods(t: Tables, closed: () => boolean) {
  return {
    createOrder: (
      order: AcmeOrderRecord,
      authorizations: readonly AcmeAuthorizationRecord[],
      challenges: readonly AcmeChallengeRecord[],
    ) =>
      guarded(closed, () => {
        const ids = [order.id, ...authorizations.map((a) => a.id), ...challenges.map((c) => c.id)];
        ids.forEach((id) => {
          checkId(id);
        });
        if (
          t.orders.has(order.id) ||
          authorizations.some((a) => t.authorizations.has(a.id)) ||
          challenges.some((c) => t.challenges.has(c.id))
        )
          throw new TypeError('duplicate ACME order, authorization or challenge id');
        t.orders.set(order.id, clone(order));
        for (const a of authorizations) t.authorizations.set(a.id, clone(a));
        for (const c of challenges) t.challenges.set(c.id, clone(c));
      }),
    findOrder: (id: string) =>
      guarded(closed, () => {
        const o = t.orders.get(id);
        return o && clone(o);
      }),
    findAuthorization: (id: string) =>
      guarded(closed, () => {
        const a = t.authorizations.get(id);
        return a && clone(a);
      }),
    findChallenge: (id: string) =>
      guarded(closed, () => {
        const c = t.challenges.get(id);
        return c && clone(c);
      }),
    listChallenges: (authorizationId: string) =>
      guarded(closed, () =>
        [...t.challenges.values()]
          .filter((c) => c.authorizationId === authorizationId)
          .map((c) => clone(c)),
      ),
  };
}

/**
 * An {@link AcmeStore} held in process memory, lost on exit, with the SQLite adapter's
 * semantics. After `close()` every call rejects with StorageError.
 */
export function createMemoryAcmeStore(): MemoryAcmeStore {
  let closed = false;
  const isClosed = (): boolean => closed;
  const t: Tables = {
    nonces: new Map(),
    accounts: new Map(),
    orders: new Map(),
    authorizations: new Map(),
    challenges: new Map(),
  };
  return {
    putNonce: (nonce, expiresAt) =>
      guarded(isClosed, () => {
        checkId(nonce, 'nonce');
        checkDate(expiresAt, 'expiresAt');
        t.nonces.set(nonce, expiresAt.getTime());
      }),
    consumeNonce: (nonce, now) =>
      guarded(isClosed, () => {
        const expires = t.nonces.get(nonce);
        t.nonces.delete(nonce);
        return expires !== undefined && expires > now.getTime();
      }),
    ...accountMethods(t, isClosed),
    ...orderMethods(t, isClosed),
    updateOrder: (id, from, change) => guarded(isClosed, () => move(t.orders, id, from, change)),
    updateAuthorization: (id, from, change) =>
      guarded(isClosed, () => move(t.authorizations, id, from, change)),
    updateChallenge: (id, from, change) =>
      guarded(isClosed, () => move(t.challenges, id, from, change)),
    purgeAcme: (now, validBefore) => guarded(isClosed, () => purge(t, now, validBefore)),
    close() {
      closed = true;
    },
  };
}

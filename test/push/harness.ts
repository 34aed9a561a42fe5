/**
 * Shared set-up for the APNs tests: one PKI per file, a mock per test, providers pointed at
 * the mock with short timeouts and no real sleeping between retries.
 */
import { loadPushCertificate, type PushCertificate } from '../../src/push/apns/certificate.js';
import type { ApnsProviderOptions } from '../../src/push/apns/options.js';
import {
  createApnsPushProvider,
  type ApnsProviderDeps,
  type ApnsPushProvider,
} from '../../src/push/apns/provider.js';
import type { PushTarget } from '../../src/push/ports.js';
import { createApnsMock, type ApnsMock } from '../support/apns-mock.js';
import {
  createApnsTestPki,
  issuePushCertificate,
  newTopic,
  type ApnsTestPki,
  type PushCertOptions,
} from './pki.js';

/** A PKI, a push certificate for `topic`, and helpers to start mocks and providers. */
export interface PushHarness {
  pki: ApnsTestPki;
  topic: string;
  certificate: PushCertificate;
  issue(options?: PushCertOptions): Promise<PushCertificate>;
  mock(options?: { maxConcurrentStreams?: number; record?: boolean }): Promise<ApnsMock>;
  provider(
    mock: ApnsMock,
    options?: ApnsProviderOptions,
    deps?: Partial<ApnsProviderDeps>,
  ): ApnsPushProvider;
  cleanup(): Promise<void>;
}

/** Fast defaults for tests: short timeouts, 1 ms backoff. */
export const FAST: ApnsProviderOptions = {
  requestTimeoutMs: 10_000,
  backoff: { baseMs: 1, maxMs: 4 },
  breaker: { threshold: 1_000, cooldownMs: 50 },
  expiryCheckIntervalMs: 0,
};

/** Creates the harness (one PKI, one topic). */
export async function createPushHarness(): Promise<PushHarness> {
  const pki = await createApnsTestPki();
  const topic = newTopic();
  const issue = async (options: PushCertOptions = {}): Promise<PushCertificate> => {
    const pair = await issuePushCertificate(pki, { topic, ...options });
    return loadPushCertificate(pair, { allowExpired: true });
  };
  const certificate = await issue();
  const open: { close(): Promise<void> }[] = [];
  return {
    pki,
    topic,
    certificate,
    issue,
    async mock(options = {}) {
      const m = await createApnsMock({ server: pki.server, ca: pki.ca.certPem, ...options });
      open.push(m);
      return m;
    },
    provider(mock, options = {}, deps = {}) {
      const p = createApnsPushProvider(
        { certificate, ...deps },
        { ...FAST, url: mock.url, ca: pki.ca.certPem, ...options },
      );
      open.unshift(p);
      return p;
    },
    async cleanup() {
      for (const o of open.splice(0)) await o.close();
    },
  };
}

/** `n` targets with distinct tokens for `topic`. */
export function targets(topic: string, n: number, prefix = 'e'): PushTarget[] {
  return Array.from({ length: n }, (_, i) => ({
    enrollmentId: `${prefix}${i}`,
    token: `${prefix === 'e' ? 'a' : 'b'}${(i + 1).toString(16).padStart(63, '0')}`,
    pushMagic: `magic-${i}`,
    topic,
  }));
}

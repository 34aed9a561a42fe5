/**
 * An ACME server on the edge listener over real HTTP on 127.0.0.1: Orchard's CA (RSA test root),
 * an ACME store (memory by default), a movable clock, and an identifier policy that allows
 * values starting with `client-` and binds them to `enrollment-token:<value>`.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { DeviceAttestationVerifier } from '../../src/acme/attestation.js';
import { createAcmeServer, type AcmeServer } from '../../src/acme/server.js';
import type { AcmeIssuedEvent } from '../../src/acme/types.js';
import { acmeRoute } from '../../src/http/acme.js';
import { createEdgeListener } from '../../src/http/node.js';
import { createCa, type CertificateAuthority } from '../../src/identity/ca/authority.js';
import type { Logger } from '../../src/logger.js';
import { createMemoryAcmeStore } from '../../src/storage/memory/acme.js';
import { createMemoryCaStorage } from '../../src/storage/memory/ca.js';
import type { AcmeStore, CertificateStore } from '../../src/storage/ports.js';
import { testPki } from '../support/pki.js';

/** Lines logged at error level (a test can assert no 5xx was logged). */
export interface CapturedLogger extends Logger {
  child(bindings: object): CapturedLogger;
  errors: string[];
}

/** A logger keeping its error lines. */
export function capturedLogger(): CapturedLogger {
  const errors: string[] = [];
  const logger: CapturedLogger = {
    debug: () => undefined,
    info: () => undefined,
    warn: () => undefined,
    error: (_obj, msg) => errors.push(msg),
    child: () => logger,
    errors,
  };
  return logger;
}

/** Spreads calls over `servers` in turn, as a load balancer in front of several daemons would. */
function roundRobin(servers: AcmeServer[]): AcmeServer {
  let next = 0;
  const pick = (): AcmeServer => {
    const s = servers[next % servers.length] as AcmeServer;
    next += 1;
    return s;
  };
  return {
    directoryUrl: () => pick().directoryUrl(),
    newNonce: () => pick().newNonce(),
    handle: (request) => pick().handle(request),
    sweep: () => pick().sweep(),
  };
}

/** Options of {@link startAcme}. */
export interface AcmeFixtureOptions {
  store?: AcmeStore;
  /** More stores: one more ACME server per store, requests spread round-robin over all. */
  moreStores?: AcmeStore[];
  certificates?: CertificateStore;
  testChallenge?: boolean;
  verifyAttestation?: DeviceAttestationVerifier;
}

/** A running ACME server. */
export interface AcmeFixture {
  base: string;
  directoryUrl: string;
  acme: AcmeServer;
  ca: CertificateAuthority;
  store: AcmeStore;
  logger: CapturedLogger;
  issued: AcmeIssuedEvent[];
  /** Moves the server's clock. */
  advance(ms: number): void;
  close(): Promise<void>;
}

/** Starts an ACME server on 127.0.0.1 (test-01 on unless `testChallenge: false`). */
export async function startAcme(options: AcmeFixtureOptions = {}): Promise<AcmeFixture> {
  const pki = await testPki();
  let offset = 0;
  const clock = (): Date => new Date(Date.now() + offset);
  const certificates = options.certificates ?? createMemoryCaStorage().certificates;
  const ca = createCa({
    material: { certificate: pki.rsaCa.certificate, privateKey: pki.rsaCa.privateKey },
    store: certificates,
    clock,
  });
  const store = options.store ?? createMemoryAcmeStore();
  const logger = capturedLogger();
  const issued: AcmeIssuedEvent[] = [];
  let base = '';
  const make = (one: AcmeStore): AcmeServer =>
    createAcmeServer(
      {
        store: one,
        ca,
        clock,
        logger,
        authorizeIdentifier: ({ identifier }) =>
          Promise.resolve(
            identifier.value.startsWith('client-')
              ? { enrollmentId: `enrollment-token:${identifier.value}` }
              : undefined,
          ),
        onIssued: (event) => {
          issued.push(event);
        },
        ...(options.verifyAttestation ? { verifyAttestation: options.verifyAttestation } : {}),
      },
      { baseUrl: () => base, testChallenge: options.testChallenge ?? true },
    );
  const acme = roundRobin([store, ...(options.moreStores ?? [])].map(make));
  const server: Server = createServer(createEdgeListener({ routes: [acmeRoute(acme)], logger }));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${String((server.address() as AddressInfo).port)}/acme`;
  return {
    base,
    directoryUrl: `${base}/directory`,
    acme,
    ca,
    store,
    logger,
    issued,
    advance(ms) {
      offset += ms;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          resolve();
        });
      }),
  };
}

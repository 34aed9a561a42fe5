/**
 * The sim benchmark's daemon, in a child process of its own (so the daemon and the simulated
 * devices each have a core): `startDaemon` with the flags in argv[2] (JSON), then messages over
 * IPC. `seed` pre-enrolls devices for the 10,000-device row without the enrollment protocol,
 * which `sim.enroll` measures: each device gets its own certificate from the daemon's CA
 * (`createCa(...).issue`, what the SCEP responder calls, recorded in the daemon's certificate
 * store) for a CSR of its key, and the records Authenticate, TokenUpdate and the certificate
 * binding leave (`storeAuthenticate`, `storeTokenUpdate`, `bindCertificate`), written through a
 * second handle on the daemon's database. `cpu` answers this process's CPU time; `close` stops.
 */
import { createPrivateKey } from 'node:crypto';
import { createCsr, parseCsr, type ParsedCsr } from '../src/crypto/csr.js';
import { openDaemonDatabase } from '../src/daemon/database.js';
import { resolveConfig, startDaemon } from '../src/daemon/index.js';
import { createCa } from '../src/identity/ca/authority.js';
import { openPkiDirectory } from '../src/identity/ca/directory.js';
import { certificateHash } from '../src/service/cert-auth.js';
import { silentLogger } from '../src/service/ports.js';

/** One device to pre-enroll: its ids, push coordinates and which pool key it holds. */
export interface SeedDevice {
  udid: string;
  serial: string;
  token: string;
  pushMagic: string;
  osVersion: string;
  key: number;
}

/** Messages the parent sends. */
export type SimDaemonRequest =
  | { type: 'seed'; topic: string; keys: string[]; devices: SeedDevice[] }
  | { type: 'cpu' }
  | { type: 'close' };

/** Messages this process sends. */
export type SimDaemonReply =
  | { type: 'ready'; url: string; databasePath: string }
  | { type: 'seeded'; certificates: string[] }
  | { type: 'cpu'; cpu: NodeJS.CpuUsage }
  | { type: 'closed' }
  | { type: 'error'; message: string };

const send = (reply: SimDaemonReply): void => {
  process.send?.(reply);
};

const config = resolveConfig(JSON.parse(process.argv[2] ?? '{}') as Record<string, string>, {});
const daemon = await startDaemon(config, { print: () => undefined });
const databasePath = config.database.kind === 'sqlite' ? config.database.path : '';

/** Issues and records each device's certificate; resolves their DER, base64, in order. */
async function seed(topic: string, pems: string[], devices: SeedDevice[]): Promise<string[]> {
  const pki = await openPkiDirectory(config.dataDir, config.caKeyType);
  const db = await openDaemonDatabase(config, { clock: () => new Date() }, silentLogger);
  try {
    const ca = createCa({ material: pki.ca, store: db.ca.certificates });
    const csrs = new Map<number, ParsedCsr>();
    const csrOf = (k: number): ParsedCsr => {
      let csr = csrs.get(k);
      if (csr === undefined) {
        const privateKey = createPrivateKey(pems[k] ?? '');
        csr = parseCsr(createCsr({ subject: 'CN=Orchard simulated device', privateKey }));
        csrs.set(k, csr);
      }
      return csr;
    };
    const out: string[] = [];
    for (const d of devices) {
      const issued = await ca.issue({ csr: csrOf(d.key), enrollmentId: d.udid });
      const der = issued.der;
      const identity = { id: d.udid, type: 'device' as const, deviceId: d.udid };
      const facts = { SerialNumber: d.serial, OSVersion: d.osVersion, ProductName: 'iPhone17,1' };
      await db.storage.storeAuthenticate({ ...identity, facts });
      const push = { token: d.token, pushMagic: d.pushMagic, topic };
      await db.storage.storeTokenUpdate({ ...identity, push });
      const serial = issued.serial.toLowerCase().replace(/^0+(?=.)/, '');
      await db.storage.bindCertificate(d.udid, certificateHash(der), {
        serial,
        notAfter: issued.notAfter,
      });
      out.push(Buffer.from(der).toString('base64'));
    }
    return out;
  } finally {
    await db.close();
  }
}

process.on('message', (message: SimDaemonRequest) => {
  void (async () => {
    try {
      if (message.type === 'seed')
        send({
          type: 'seeded',
          certificates: await seed(message.topic, message.keys, message.devices),
        });
      else if (message.type === 'cpu') send({ type: 'cpu', cpu: process.cpuUsage() });
      else {
        await daemon.close(1000);
        send({ type: 'closed' });
        process.disconnect();
        process.exit(0);
      }
    } catch (error) {
      send({ type: 'error', message: error instanceof Error ? error.message : String(error) });
    }
  })();
});
send({ type: 'ready', url: daemon.url, databasePath });

/**
 * SECURITY.md "Secrets readable at rest", through the real daemon (`orchard serve` as a child
 * process, started under a umask of 000): the test reads the files. The data directory is 0700
 * (a looser existing one is tightened), the database, its WAL and shared memory, and the
 * secrets key are 0600; UnlockTokens and escrowed bootstrap tokens are sealed with the secrets
 * key, bound to their enrollment; `orchard secrets rotate` re-seals while the daemon runs; a
 * missing or wrong key file is a start-up error naming `--secrets-key-file`.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { resolveConfig, resolveSecretsKeyFile } from '../../src/daemon/config.js';
import {
  createSecretsKeyring,
  decodeSecretsKeyFile,
  encodeSecretsKeyFile,
  prepareDataDirectory,
  silentLogger,
} from '../../src/index.js';
import { createSqliteStorage } from '../../src/storage/sqlite/index.js';
import { orchard } from '../support/cli.js';
import { spawnDaemon, type TestDaemon } from '../support/daemon.js';
import { commandOf, DeviceEmulator, expectOk } from '../support/device-emulator.js';
import { pushCertificateArgs, scepEnroller } from './scep-enroll.js';

const TOPIC = 'com.apple.mgmt.External.secrets-at-rest';
const mode = (path: string): string => (statSync(path).mode & 0o777).toString(8).padStart(3, '0');
const UNLOCK = 'SELECT unlock_token AS v FROM enrollments WHERE id = ?';
const BOOTSTRAP = 'SELECT sealed AS v FROM bootstrap_tokens WHERE enrollment_id = ?';

/** Starts a daemon with the process umask at 000, so only explicit modes protect its files. */
async function spawnUnderOpenUmask(options: Parameters<typeof spawnDaemon>[0] = {}) {
  const old = process.umask(0);
  try {
    return await spawnDaemon(options);
  } finally {
    process.umask(old);
  }
}

/** A device enrolled from an enrollment link over SCEP that sends `unlockToken` in TokenUpdate. */
async function device(d: TestDaemon, unlockToken: Buffer): Promise<DeviceEmulator> {
  const enroller = await scepEnroller({ url: d.url, api: (...a) => d.api(...a), topic: TOPIC });
  const identity = await enroller.certificateFor(await enroller.challengeFromLink());
  const emulator = new DeviceEmulator({ baseUrl: d.url, topic: TOPIC, identity });
  expectOk(await emulator.authenticate(), 'Authenticate');
  expectOk(await emulator.tokenUpdate({ UnlockToken: unlockToken }), 'TokenUpdate');
  return emulator;
}

function row(dbPath: string, sql: string, id: string): Buffer {
  const db = new Database(dbPath, { readonly: true });
  try {
    return Buffer.from((db.prepare(sql).get(id) as { v: Uint8Array }).v);
  } finally {
    db.close();
  }
}

/** Every byte SQLite keeps: the database, its WAL and its shared memory. */
function fileBytes(dbPath: string): Buffer {
  return Buffer.concat(
    ['', '-wal', '-shm'].filter((s) => existsSync(dbPath + s)).map((s) => readFileSync(dbPath + s)),
  );
}

/** Every path under `dir` with its mode, directories included. */
function walk(dir: string): [string, string][] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    const own: [string, string] = [path, mode(path)];
    return e.isDirectory() ? [own, ...walk(path)] : [own];
  });
}

async function bootstrapToken(dev: DeviceEmulator): Promise<{ status: number; token?: Buffer }> {
  const res = await dev.checkin('GetBootstrapToken');
  const token = res.plist?.BootstrapToken;
  return token === undefined
    ? { status: res.status }
    : { status: res.status, token: Buffer.from(token as Uint8Array) };
}

describe('Secrets readable at rest', () => {
  let d: TestDaemon;
  let dbPath: string;
  let a: DeviceEmulator;
  let b: DeviceEmulator;
  const unlockA = randomBytes(48);
  const unlockB = randomBytes(48);
  const bootstrapA = randomBytes(64);
  const bootstrapB = randomBytes(64);

  beforeAll(async () => {
    d = await spawnUnderOpenUmask({ args: await pushCertificateArgs(TOPIC) });
    dbPath = join(d.dataDir, 'orchard.db');
    a = await device(d, unlockA);
    b = await device(d, unlockB);
  }, 120_000);

  afterAll(async () => {
    await d.cleanup();
  });

  test('ok/the data directory is 0700; orchard.db, -wal, -shm and secrets.key are 0600 under a umask of 000', () => {
    expect(mode(d.dataDir)).toBe('700');
    for (const f of ['orchard.db', 'orchard.db-wal', 'orchard.db-shm', 'secrets.key'])
      expect([f, mode(join(d.dataDir, f))]).toEqual([f, '600']);
    // Everything else the daemon wrote: private keys 0600, folders 0700, certificates public.
    for (const [path, m] of walk(d.dataDir)) {
      const expected = statSync(path).isDirectory() ? '700' : path.endsWith('.pem') ? '644' : '600';
      expect([path, m]).toEqual([path, expected]);
    }
    for (const key of ['ca/ca.key', 'signing/signing.key'])
      expect(mode(join(d.dataDir, key))).toBe('600');
  });

  test('ok/SetBootstrapToken then GetBootstrapToken gives the token back; neither it nor the UnlockToken is stored in clear', async () => {
    expectOk(await a.checkin('SetBootstrapToken', { BootstrapToken: bootstrapA }), 'Set A');
    expectOk(await b.checkin('SetBootstrapToken', { BootstrapToken: bootstrapB }), 'Set B');
    expect(await bootstrapToken(a)).toEqual({ status: 200, token: bootstrapA });
    expect(await bootstrapToken(b)).toEqual({ status: 200, token: bootstrapB });
    for (const [dev, unlock, bootstrap] of [
      [a, unlockA, bootstrapA],
      [b, unlockB, bootstrapB],
    ] as const) {
      const sealedUnlock = row(dbPath, UNLOCK, dev.enrollmentId);
      const sealedBootstrap = row(dbPath, BOOTSTRAP, dev.enrollmentId);
      expect(sealedUnlock.includes(unlock)).toBe(false);
      expect(sealedBootstrap.includes(bootstrap)).toBe(false);
      // Version 1, key 1, then a 96-bit nonce, the ciphertext and a 128-bit tag.
      expect([...sealedUnlock.subarray(0, 2)]).toEqual([1, 1]);
      expect(sealedUnlock.length).toBe(2 + 12 + unlock.length + 16);
      expect(sealedBootstrap.length).toBe(2 + 12 + bootstrap.length + 16);
    }
    const bytes = fileBytes(dbPath);
    for (const secret of [unlockA, unlockB, bootstrapA, bootstrapB])
      expect(bytes.includes(secret)).toBe(false);
  });

  test("ok/a command and the device's answer are stored sealed; the admin API reads them back", async () => {
    const queued = await d.api('POST', `/api/v1/enrollments/${a.enrollmentId}/commands`, {
      RequestType: 'DeviceInformation',
      Queries: ['DeviceName'],
    });
    expect(queued.status).toBe(201);
    const uuid = queued.body.commandUuid as string;
    expect(commandOf(await a.idle())).toEqual({ uuid, requestType: 'DeviceInformation' });
    const secret = `RECOVERY-${randomBytes(16).toString('hex')}`;
    expectOk(
      await a.answer(uuid, 'Acknowledged', { QueryResponses: { DeviceName: secret } }),
      'report',
    );
    const read = await d.api('GET', `/api/v1/commands/${uuid}`);
    expect(read.body.targets).toEqual([
      expect.objectContaining({
        status: 'Acknowledged',
        result: expect.objectContaining({ QueryResponses: { DeviceName: secret } }),
      }),
    ]);
    const body = row(dbPath, 'SELECT body AS v FROM commands WHERE uuid = ?', uuid);
    expect(body.includes('DeviceInformation')).toBe(false);
    expect([...body.subarray(0, 2)]).toEqual([1, 1]);
    expect(fileBytes(dbPath).includes(secret)).toBe(false);
  });

  test('ok/orchard secrets rotate re-seals every secret while the daemon runs; devices get their tokens before and after', async () => {
    const keyFile = join(d.dataDir, 'secrets.key');
    expectOk(await a.checkin('SetBootstrapToken', { BootstrapToken: bootstrapA }), 'Set A');
    expectOk(await b.checkin('SetBootstrapToken', { BootstrapToken: bootstrapB }), 'Set B');
    const before = row(dbPath, BOOTSTRAP, a.enrollmentId);
    const r = await orchard('secrets', 'rotate', '--data-dir', d.dataDir);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      keyFile,
      keyId: 2,
      resealed: { unlockTokens: 2, bootstrapTokens: 2 },
    });
    expect(r.stderr).toContain('back the key file up');
    expect(mode(keyFile)).toBe('600');
    const ring = decodeSecretsKeyFile(readFileSync(keyFile, 'utf8'));
    expect([ring.keyIds, ring.currentKeyId]).toEqual([[1, 2], 2]);
    const after = row(dbPath, BOOTSTRAP, a.enrollmentId);
    expect(after[1]).toBe(2);
    expect(after.equals(before)).toBe(false);
    expect(row(dbPath, UNLOCK, b.enrollmentId)[1]).toBe(2);

    // The running daemon held only key 1: it re-reads the key file and opens key 2's values.
    expect(await bootstrapToken(a)).toEqual({ status: 200, token: bootstrapA });
    expect(await d.waitForLine('secrets key file reloaded')).toContain('reloaded');
    const renewed = randomBytes(64);
    expectOk(await a.checkin('SetBootstrapToken', { BootstrapToken: renewed }), 'Set again');
    expect(row(dbPath, BOOTSTRAP, a.enrollmentId)[1]).toBe(2);
    expect(await bootstrapToken(a)).toEqual({ status: 200, token: renewed });

    await d.kill();
    await d.restart();
    expect(await bootstrapToken(a)).toEqual({ status: 200, token: renewed });
    expect(await bootstrapToken(b)).toEqual({ status: 200, token: bootstrapB });
  }, 90_000);

  test("fail/a value sealed for device A copied into device B's row does not open: 503 to B, never 401, and the daemon keeps serving", async () => {
    const [tokenA, tokenB] = [randomBytes(64), randomBytes(64)];
    expectOk(await a.checkin('SetBootstrapToken', { BootstrapToken: tokenA }), 'Set A');
    expectOk(await b.checkin('SetBootstrapToken', { BootstrapToken: tokenB }), 'Set B');
    const original = row(dbPath, BOOTSTRAP, b.enrollmentId);
    const db = new Database(dbPath);
    const move = db.prepare('UPDATE bootstrap_tokens SET sealed = ? WHERE enrollment_id = ?');
    move.run(row(dbPath, BOOTSTRAP, a.enrollmentId), b.enrollmentId);
    try {
      const theirs = await bootstrapToken(b);
      expect(theirs).toEqual({ status: 503 });
      expect(await bootstrapToken(a)).toEqual({ status: 200, token: tokenA });
      const logged = await d.waitForLine('could not be opened');
      expect(JSON.parse(logged)).toMatchObject({ code: 'ERR_STORAGE', level: 50 });
    } finally {
      move.run(original, b.enrollmentId);
      db.close();
    }
    expect(await bootstrapToken(b)).toEqual({ status: 200, token: tokenB });
  });
});

describe('Secrets readable at rest: a data directory from before', () => {
  let dir: string;
  let d: TestDaemon | undefined;
  const plain = [randomBytes(40), randomBytes(40)];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'orchard-old-data-'));
    const dbPath = join(dir, 'orchard.db');
    const old = createSqliteStorage({ path: dbPath, fileMode: null });
    for (const [i, token] of plain.entries())
      await old.storeTokenUpdate({
        id: `OLD-${i}`,
        type: 'device',
        deviceId: `OLD-${i}`,
        push: { token: 'ab', pushMagic: 'm', topic: TOPIC },
        unlockToken: token,
      });
    await old.close();
    chmodSync(dbPath, 0o644);
    chmodSync(dir, 0o777);
    expect(fileBytes(dbPath).includes(plain[0] ?? '')).toBe(true);
    d = await spawnUnderOpenUmask({ dataDir: dir });
  }, 120_000);

  afterAll(async () => {
    await d?.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  test('ok/a pre-existing 0777 data directory is tightened to 0700, with a log line', () => {
    expect(mode(dir)).toBe('700');
    const line = d?.stdout.find((l) => l.includes('data directory mode tightened')) ?? '';
    expect(JSON.parse(line)).toMatchObject({ dataDir: dir, from: '0777', to: '0700' });
    expect(mode(join(dir, 'orchard.db'))).toBe('600');
  });

  test('ok/plain-text UnlockTokens of the existing database are sealed in place on first start', () => {
    const dbPath = join(dir, 'orchard.db');
    for (const [i, token] of plain.entries()) {
      const sealed = row(dbPath, UNLOCK, `OLD-${i}`);
      expect(sealed.includes(token)).toBe(false);
      expect([...sealed.subarray(0, 2)]).toEqual([1, 1]);
    }
    const bytes = fileBytes(dbPath);
    for (const token of plain) expect(bytes.includes(token)).toBe(false);
  });
});

describe('Secrets readable at rest: configuration', () => {
  test('ok/--secrets-key-file falls back to ORCHARD_SECRETS_KEY_FILE; absent means <data-dir>/secrets.key', () => {
    expect(
      resolveConfig({}, { ORCHARD_SECRETS_KEY_FILE: '/etc/orchard/secrets.key' }),
    ).toMatchObject({ secretsKeyFile: '/etc/orchard/secrets.key' });
    expect(resolveConfig({}, {}).secretsKeyFile).toBeUndefined();
    expect(resolveSecretsKeyFile({ dataDir: '/srv/o' }, {})).toEqual({
      path: '/srv/o/secrets.key',
      given: false,
    });
  });

  test('fail/an empty ORCHARD_SECRETS_KEY_FILE names --secrets-key-file', () => {
    expect(() => resolveConfig({}, { ORCHARD_SECRETS_KEY_FILE: '' })).toThrow(
      expect.objectContaining({ code: 'ERR_CONFIG', flag: '--secrets-key-file' }),
    );
  });
});

describe('Secrets readable at rest: refusals at start-up', () => {
  const dirs: string[] = [];
  const fresh = (): string => {
    const dir = mkdtempSync(join(tmpdir(), 'orchard-secrets-'));
    dirs.push(dir);
    return dir;
  };
  afterAll(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  /** A data directory whose database holds an UnlockToken sealed with key `fill`. */
  async function sealedDataDir(fill: number): Promise<string> {
    const dir = fresh();
    const secrets = createSecretsKeyring([{ id: 1, key: new Uint8Array(32).fill(fill) }]);
    const store = createSqliteStorage({ path: join(dir, 'orchard.db'), secrets });
    await store.storeTokenUpdate({
      id: 'SEALED',
      type: 'device',
      deviceId: 'SEALED',
      push: { token: 'ab', pushMagic: 'm', topic: TOPIC },
      unlockToken: Buffer.from('sealed token'),
    });
    await store.close();
    return dir;
  }

  const serve = (dir: string, ...args: string[]) =>
    orchard(
      'serve',
      ...['--listen', '127.0.0.1:0', '--ca-key-type', 'rsa-2048', '--data-dir', dir],
      ...args,
    );

  test('fail/a missing --secrets-key-file is a start-up error naming the flag', async () => {
    const dir = fresh();
    const missing = join(dir, 'nowhere.key');
    const r = await serve(dir, '--secrets-key-file', missing);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--secrets-key-file');
    expect(r.stderr).toContain(missing);
    expect(existsSync(missing)).toBe(false);
  }, 60_000);

  test('fail/a malformed --secrets-key-file is a start-up error naming the flag, never echoing it', async () => {
    const dir = fresh();
    const file = join(dir, 'bad.key');
    writeFileSync(file, 'hunter2-not-a-key-file', { mode: 0o600 });
    const r = await serve(dir, '--secrets-key-file', file);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--secrets-key-file');
    expect(r.stderr).toContain('not an Orchard secrets key file');
    expect(r.stderr).not.toContain('hunter2');
  }, 60_000);

  test('fail/a --secrets-key-file that is not the key the database was sealed with is refused, naming the flag', async () => {
    const dir = await sealedDataDir(1);
    const other = join(dir, 'other.key');
    const wrong = createSecretsKeyring([{ id: 1, key: new Uint8Array(32).fill(2) }]);
    writeFileSync(other, encodeSecretsKeyFile(wrong), { mode: 0o600 });
    const r = await serve(dir, '--secrets-key-file', other);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--secrets-key-file');
    expect(r.stderr).toContain('is not the key 1 this database was sealed with');
  }, 60_000);

  test('fail/a sealed database whose default key file is lost refuses to start and leaves no new key behind', async () => {
    const dir = await sealedDataDir(3);
    const r = await serve(dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--secrets-key-file');
    expect(r.stderr).toContain('restore the key file from its backup');
    expect(existsSync(join(dir, 'secrets.key'))).toBe(false);
  }, 60_000);

  test('fail/a data directory whose mode cannot be set is refused, naming it', async () => {
    const dir = fresh();
    chmodSync(dir, 0o777);
    const denied = Object.assign(new Error('operation not permitted'), { code: 'EPERM' });
    await expect(
      prepareDataDirectory(dir, silentLogger, { chmod: () => Promise.reject(denied) }),
    ).rejects.toMatchObject({
      code: 'ERR_CONFIG',
      flag: '--data-dir',
      message: expect.stringContaining(`${dir} is mode 0777 and cannot be set to 0700 (EPERM)`),
    });
  });
});

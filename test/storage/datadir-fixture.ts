/**
 * The data directory Orchard 0.1 wrote (`fixtures/datadir-0.1/`, made by
 * `fixtures/make-datadir-0.1.sh`): copies of it to open, what it holds, and raw views of its
 * database that do not go through the code under test.
 */
import { chmodSync, cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { decodeSecretsKeyFile, type SecretsKeyring } from '../../src/crypto/secrets-key.js';

/** What `fixture.json` records about the fixture's contents. */
export interface DataDirManifest {
  madeAt: string;
  commit: string;
  topic: string;
  adminApiKey: string;
  readApiKeyId: string;
  readApiKey: string;
  udid: string;
  deviceSerial: string;
  revokedSerial: string;
  singleUseLinkId: string;
  multiUseLinkId: string;
  outstandingChallenge: string;
  answeredCommand: string;
  queuedCommand: string;
}

const FIXTURE = resolve('fixtures/datadir-0.1');

/** The fixture's manifest. */
export const manifest = JSON.parse(
  readFileSync(join(FIXTURE, 'fixture.json'), 'utf8'),
) as DataDirManifest;

/** A private copy of the data directory (modes as a real one has them: git keeps no modes). */
export interface DataDirCopy {
  dir: string;
  db: string;
  keyring: SecretsKeyring;
  remove(): void;
}

/** Copies the fixture to a fresh temporary directory. */
export function copyDataDir(): DataDirCopy {
  const dir = mkdtempSync(join(tmpdir(), 'orchard-datadir-0.1-'));
  cpSync(FIXTURE, dir, { recursive: true });
  chmodSync(dir, 0o700);
  for (const f of ['orchard.db', 'secrets.key', 'push.key', 'device.key', 'ca/ca.key'])
    chmodSync(join(dir, f), 0o600);
  chmodSync(join(dir, 'signing/signing.key'), 0o600);
  const keyring = decodeSecretsKeyFile(readFileSync(join(dir, 'secrets.key'), 'utf8'));
  return {
    dir,
    db: join(dir, 'orchard.db'),
    keyring,
    remove: () => {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Runs `fn` on a read-only raw connection to `path`. */
export function inspect<T>(path: string, fn: (db: Database.Database) => T): T {
  const db = new Database(path, { readonly: true });
  try {
    return fn(db);
  } finally {
    db.close();
  }
}

/** Row count of every table, by name. */
export function rowCounts(db: Database.Database): Record<string, number> {
  const names = db
    .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
    .pluck()
    .all() as string[];
  return Object.fromEntries(
    names.map((n) => [n, db.prepare(`SELECT count(*) FROM "${n}"`).pluck().get() as number]),
  );
}

/** The schema (every table's and index's SQL) and the version record, to compare two states. */
export function schemaState(db: Database.Database): unknown {
  return {
    schema: db.prepare('SELECT type, name, sql FROM sqlite_master ORDER BY name').all(),
    versions: db.prepare('SELECT * FROM schema_migrations ORDER BY version').all(),
  };
}

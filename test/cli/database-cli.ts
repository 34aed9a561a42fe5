/**
 * The CLI run in-process against a SQLite database made for one test file: `orchard(...)` runs a
 * subcommand on it and collects what it printed; `withStore` opens the database for a look
 * behind the CLI. The database already holds a `sales` group under Global.
 */
import { afterAll, afterEach, beforeAll, jest } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/cli/main.js';
import { openSqliteAdminStore } from '../../src/storage/sqlite/index.js';

/** What {@link databaseCli} gives a test file. */
export interface DatabaseCli {
  /** The test file's directory (created before its tests, removed after). */
  dir: () => string;
  /** Runs `orchard ...args --database sqlite:<db>` and collects what it printed. */
  orchard: (...args: string[]) => Promise<{ code: number; out: string; err: string }>;
  /** Opens the database, runs `fn` and closes it. */
  withStore: <T>(fn: (s: ReturnType<typeof openSqliteAdminStore>) => Promise<T>) => Promise<T>;
}

/** Registers the set-up and clean-up hooks of a test file and returns its helpers. */
export function databaseCli(prefix: string): DatabaseCli {
  let dir = '';
  let database = '';
  const withStore: DatabaseCli['withStore'] = async (fn) => {
    const store = openSqliteAdminStore({ path: database });
    try {
      return await fn(store);
    } finally {
      store.close();
    }
  };
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), prefix));
    database = join(dir, 'orchard.db');
    await withStore(async (store) => {
      const { revision } = await store.loadManagement();
      await store.applyManagement(
        { putGroups: [{ id: 'sales', name: 'Sales', parentId: 'global', createdAt: new Date() }] },
        revision,
      );
    });
  });
  afterEach(() => {
    process.exitCode = undefined;
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });
  return {
    dir: () => dir,
    withStore,
    orchard: async (...args) => {
      let out = '';
      let err = '';
      const stdout = jest.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
        out += String(chunk);
        return true;
      });
      const stderr = jest.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
        err += String(chunk);
        return true;
      });
      try {
        const code = await main([...args, '--database', `sqlite:${database}`]);
        return { code, out, err };
      } finally {
        stdout.mockRestore();
        stderr.mockRestore();
        process.exitCode = undefined;
      }
    },
  };
}

/**
 * What a daemon on SQLite keeps in memory (issue 20: idle resident memory under 100 MB). The
 * PostgreSQL storage with its driver, node-forge (only PKCS#12 reading needs it) and yaml (only
 * YAML profile specs) load when first needed, not with the CLI and the library: about 3.5 MB of
 * heap a SQLite daemon never uses. A fresh process imports the CLI (all that `orchard serve`
 * runs) and the library and lists the CommonJS packages loaded; then it reads a PKCS#12 file, a
 * YAML spec and opens the PostgreSQL module, and each appears, so the listing can see them.
 */
import { beforeAll, describe, expect, test } from '@jest/globals';
import { spawnSync } from 'node:child_process';

interface Loaded {
  pg: boolean;
  forge: boolean;
  yaml: boolean;
}

interface Probe {
  atStart: Loaded;
  afterPkcs12: Loaded & { code: string };
  afterSpec: Loaded & { code: string };
  afterPostgres: Loaded;
}

const script = `
  import { createRequire } from 'node:module';
  const cache = () => Object.keys(createRequire(import.meta.url).cache);
  const has = (name) => cache().some((k) => k.includes('/node_modules/' + name + '/'));
  const loaded = () => ({ pg: has('pg'), forge: has('node-forge'), yaml: has('yaml') });
  await import('./src/cli/main.ts');
  const { parseProfileSpec, readPkcs12 } = await import('./src/index.ts');
  const atStart = loaded();
  let code = '';
  try {
    readPkcs12(Buffer.from('not a PKCS#12 file'), 'password');
  } catch (e) {
    code = e.code;
  }
  const afterPkcs12 = { ...loaded(), code };
  try {
    parseProfileSpec('payloads: [');
  } catch (e) {
    code = e.issues[0].code;
  }
  const afterSpec = { ...loaded(), code };
  await import('./src/storage/postgres/index.ts');
  process.stdout.write(JSON.stringify({ atStart, afterPkcs12, afterSpec, afterPostgres: loaded() }));
`;

describe('modules a SQLite daemon does not need', () => {
  let probe: Probe;

  beforeAll(() => {
    const out = spawnSync(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', script],
      {
        encoding: 'utf8',
        env: { ...process.env, NODE_OPTIONS: '' },
      },
    );
    expect(out.stderr).toBe('');
    expect(out.status).toBe(0);
    probe = JSON.parse(out.stdout) as Probe;
  });

  test('ok/the CLI and the library load none of the PostgreSQL driver, node-forge and yaml', () => {
    expect(probe.atStart).toEqual({ pg: false, forge: false, yaml: false });
  });

  test('ok/reading a PKCS#12 file loads node-forge then, and still refuses junk with ERR_PKCS12', () => {
    expect(probe.afterPkcs12).toEqual({ pg: false, forge: true, yaml: false, code: 'ERR_PKCS12' });
  });

  test('ok/reading a YAML spec loads yaml then, and still refuses a syntax error as spec-syntax', () => {
    expect(probe.afterSpec).toEqual({ pg: false, forge: true, yaml: true, code: 'spec-syntax' });
  });

  test('ok/opening the PostgreSQL storage module loads the driver then', () => {
    expect(probe.afterPostgres).toEqual({ pg: true, forge: true, yaml: true });
  });
});
